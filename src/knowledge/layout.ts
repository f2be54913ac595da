// Facts of a Resonix install's layout (reference §1–§3, §11, §12): which files and dirs it keeps, which it
// rebuilds, which hold secrets, where its databases, transcripts and locks live, which units serve it and on
// which port its gateway listens. Pure: no IO.
import path from 'node:path';
import type { Home, Install, ServiceUnit } from '../model.js';

// ---------------------------------------------------------------------------------------------
// What a copy must carry

/** Dirs Resonix rebuilds and leaves out of its own backups (reference §3). */
/** A profile name Resonix accepts (`--profile`, `~/.resonix-<profile>`). */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** `.resonix` and `.resonix-<profile>`: the state dir names in a home. */
export const STATE_DIR_NAME = new RegExp(`^\\.resonix(-${PROFILE_NAME.source.slice(1, -1)})?$`);

export const REBUILDABLE_DIR = /^(cache|plugin-skills|npm|tmp|tools)(\/|$)|^extensions\/[^/]+\/node_modules(\/|$)/;

/**
 * The rebuildable dirs and logs/media: never part of "did the copy arrive", nor of an install's data or shape.
 * Wider than REBUILDABLE_DIR because logs and media are short-lived data, not state; REBUILDABLE_DIR is kept
 * where a path in logs/ or media/ still counts (a symlink there escapes like any other).
 */
export const NOT_COPIED = /^(cache|plugin-skills|npm|tmp|tools|logs|media)(\/|$)|^extensions\/[^/]+\/node_modules(\/|$)/;

/** Files that come and go while a gateway runs: SQLite sidecars and journals, locks, re-index temp DBs. */
export const TRANSIENT = /(-wal|-shm|-journal|\.lock|\.lock\.sqlite)$|\.memory-reindex-|\.reindex-lock\./;

/** Files only ever appended to: one shorter than in the baseline lost data, whenever it was written. */
export const APPEND_ONLY = /\.jsonl$/;

// ---------------------------------------------------------------------------------------------
// Sessions and databases

/** A session transcript of an agent (file-based layout), relative to the state dir. */
export const TRANSCRIPT = /^agents\/[^/]+\/sessions\/[^/]+\.jsonl$/;

/** The gateway's main database (reference §3). */
export const STATE_DB = 'state/resonix.sqlite';

/** An agent's database (reference §3). */
export const AGENT_DB = /^agents\/[^/]+\/agent\/resonix-agent\.sqlite$/;

/** The SQLite databases Resonix keeps (not their -wal/-shm/-journal sidecars), relative to the state dir. */
export const MAIN_DATABASE = /^(state\/[^/]+\.sqlite|agents\/[^/]+\/agent\/resonix-agent\.sqlite|memory\/[^/]+\.sqlite|plugin-state\/[^/]+\.sqlite|tasks\/[^/]+\.sqlite)$/;

// ---------------------------------------------------------------------------------------------
// Locks

/** A file-based gateway's lock, by its name in `$TMPDIR/resonix-<uid>/`. */
export const GATEWAY_LOCK_NAME = /^gateway\.[0-9a-f]{8}\.lock$/;

/** A SQLite-generation gateway's lock, relative to the state dir (empty while the gateway is idle). */
export const SQLITE_GATEWAY_LOCK = /^tmp\/resonix-\d+\/gateway\.[0-9a-f]{8}\.lock\.sqlite$/;

// ---------------------------------------------------------------------------------------------
// Workspaces

/** Files that make a dir an agent workspace (one suffices: a workspace copied by `cp ~/*` may hold only one). */
export const WORKSPACE_MARKERS: ReadonlySet<string> = new Set(['AGENTS.md', 'SOUL.md', 'IDENTITY.md', 'USER.md', 'MEMORY.md', 'HEARTBEAT.md', 'TOOLS.md', 'BOOTSTRAP.md']);

// ---------------------------------------------------------------------------------------------
// Secrets

const CONFIG_FILE = /^resonix\.json(\.bak(\.\d+)?|\.last-good|\.clobbered\..+)?$/;
const AUTH_PROFILE = /^agents\/[^/]+\/agent\/(auth-profiles|auth-state|auth)\.json$/;
/** kept 0600 because they are private, not because their bytes are a secret: a manifest hashes them */
const PRIVATE_DATA = /^agents\/[^/]+\/sessions\/(sessions\.json|[^/]+\.jsonl)$|^agents\/[^/]+\/agent\/resonix-agent\.sqlite(-wal|-shm)?$|^state\/[^/]+\.sqlite(-wal|-shm)?$/;
const SECRET_DIR = /^(credentials|identity|devices|gateway\/tls)\//;
const SECRET_NAME = /(token|secret|passw(or)?d|passphrase|credential|creds|api[-_]?key|auth|private|\.key$|\.pem$)/i;
// module constants, not literals in the functions: a literal is a new RegExp object at each call, and these
// are asked of every entry of a tree
const CREDENTIAL_FILE = /^credentials\/.+/;
const IDENTITY_FILE = /^identity\/.+\.json$/;
const PAIRED_DEVICES = /^devices\/paired\.json$/;
const TLS_KEY = /^gateway\/tls\/.*key.*\.pem$/;
const SECRET_DIR_PATH = /^(credentials|identity|state|agents\/[^/]+\/agent|agents\/[^/]+\/sessions)$/;

/** Files Resonix keeps secret (reference §2, §3, §11): they should be 0600. */
export function isSecretFile(relativePath: string): boolean {
  return (
    CONFIG_FILE.test(relativePath) ||
    relativePath === '.env' ||
    relativePath === 'secrets.json' ||
    relativePath === 'exec-approvals.json' ||
    relativePath === 'config-journal-fingerprint.key' ||
    CREDENTIAL_FILE.test(relativePath) ||
    AUTH_PROFILE.test(relativePath) ||
    PRIVATE_DATA.test(relativePath) ||
    IDENTITY_FILE.test(relativePath) ||
    PAIRED_DEVICES.test(relativePath) ||
    TLS_KEY.test(relativePath)
  );
}

/** Secret dirs should be 0700. */
export function isSecretDir(relativePath: string): boolean {
  return relativePath === '' || SECRET_DIR_PATH.test(relativePath);
}

/** A file whose name says it holds a secret (token, password, api-key, *.key, *.pem…), wherever it is. */
export function hasSecretName(relativePath: string): boolean {
  return SECRET_NAME.test(path.posix.basename(relativePath));
}

/**
 * A state-dir file whose bytes hold a secret value (a digest of it could confirm a guess offline): the secret
 * files of isSecretFile that are not merely private data (transcripts, databases), everything under
 * credentials/, identity/, devices/ and gateway/tls/, and secret-named files.
 */
export function holdsSecretValue(relativePath: string): boolean {
  return (isSecretFile(relativePath) && !PRIVATE_DATA.test(relativePath)) || SECRET_DIR.test(relativePath) || hasSecretName(relativePath);
}

// ---------------------------------------------------------------------------------------------
// Copies of a file kept beside it (backups, editors' and package managers' leftovers)

/** A mark a copy carries at the end of its name: `~`, `.~1~`, `.bak`, `.bak2`, `.orig`, `.old`, `.swp`, `.dpkg-old`, `.1`, `-2024-05-01`, `.clobbered.<time>`, ` copy`, ` (1)`. */
const COPY_MARK_AT_END =
  /(?:~|\.~\d+~|\.(?:bak|backup|bck|bk|orig|old|save|sav|saved|prev|previous|tmp|temp|swp|swo|swx|rej|copy|last-good)\d*|\.(?:dpkg-(?:old|dist|new|bak)|rpm(?:save|new|orig)|ucf-(?:old|dist|new))|\.\d+|[._-](?:bak|backup|orig|old)|[._-]\d{4}-?\d{2}-?\d{2}(?:[T_ -]?\d{2}[:-]?\d{2}(?:[:-]?\d{2})?)?Z?|\.clobbered\..*| copy(?: \d+)?| \(\d+\))$/i;
/** A mark a copy carries before its extension: `gateway.bak.json5`, `gateway-old.json5`, `gateway copy.json5`, `gateway (1).json5`. */
const COPY_MARK_BEFORE_EXTENSION = /(?:[._-](?:bak|backup|orig|old|prev|copy)\d*|[._-]\d{4}-?\d{2}-?\d{2}| copy(?: \d+)?| \(\d+\))$/i;
/** marks taken off one name, at most (a name of a hundred `.bak` says no more than one of eight) */
const MAX_COPY_MARKS = 8;

/** The names `name` has with one copy mark taken off: at the end, before the extension, an editor's `#name#` or `.name.swp`. */
function oneMarkOff(name: string): string[] {
  const found: string[] = [];
  const end = COPY_MARK_AT_END.exec(name);
  if (end && end.index > 0) found.push(name.slice(0, end.index));
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const before = COPY_MARK_BEFORE_EXTENSION.exec(name.slice(0, dot));
    if (before && before.index > 0) found.push(name.slice(0, before.index) + name.slice(dot));
  }
  const emacs = /^#(.+)#$/.exec(name);
  if (emacs) found.push(emacs[1]!);
  const vim = /^\.(.+)\.sw[a-p]$/.exec(name);
  if (vim) found.push(vim[1]!);
  return found;
}

/**
 * The names a file (or dir) called `name` may be a copy of, by the marks backups and editors leave on a name:
 * `gateway.json5.bak.1` → `gateway.json5.bak`, `gateway.json5`; `resonix.json~` → `resonix.json`;
 * `credentials.old` → `credentials`. Empty when the name carries no such mark. One name, no `/`.
 */
export function copyOriginals(name: string): string[] {
  const found = new Set<string>();
  let layer = [name];
  for (let depth = 0; depth < MAX_COPY_MARKS && layer.length > 0; depth++) {
    const next: string[] = [];
    for (const item of layer) {
      for (const original of oneMarkOff(item)) {
        if (found.has(original) || original === name) continue;
        found.add(original);
        next.push(original);
      }
    }
    layer = next;
  }
  return [...found];
}

/** The first names of the paths isSecretFile and holdsSecretValue know by their place in the state dir (not by their own name). */
const SECRET_PLACES: ReadonlySet<string> = new Set(['credentials', 'identity', 'devices', 'gateway', 'agents', 'secrets.json', 'exec-approvals.json', 'config-journal-fingerprint.key', '.env']);

/**
 * Whether a path that starts with this name can be a secret file of a state dir by its place (`credentials/…`,
 * `resonix.json…`, `agents/<id>/agent/auth.json`): a copy of the state dir kept inside it (`old/credentials/…`)
 * holds its secrets below such a name.
 */
export function startsSecretPlace(name: string): boolean {
  return SECRET_PLACES.has(name) || name.startsWith('resonix.json');
}

// ---------------------------------------------------------------------------------------------
// The gateway

export const DEFAULT_GATEWAY_PORT = 18789;

/** The service units of `home` that run `install`. */
export function servicesFor(home: Home, install: Install): ServiceUnit[] {
  return home.services.filter((unit) => install.servedBy.includes(unit.path) || unit.resolution.stateDir === install.stateDir);
}

/** The install `unit` runs: one that names the unit as its server, else the one at the unit's state dir. */
export function installOfUnit(home: Home, unit: ServiceUnit): Install | undefined {
  return home.installs.find((install) => install.servedBy.includes(unit.path) || install.stateDir === unit.resolution.stateDir);
}

function validPort(value: unknown): number | undefined {
  const port = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/**
 * The port the install's gateway listens on: `gateway.port` in its config, else a serving unit's
 * RESONIX_GATEWAY_PORT, else its ExecStart `--port`, else 18789.
 */
export function gatewayPort(home: Home, install: Install): number {
  const fromConfig = validPort(install.config.port);
  if (fromConfig !== undefined) return fromConfig;
  const units = servicesFor(home, install);
  for (const unit of units) {
    const fromEnv = validPort(unit.env.RESONIX_GATEWAY_PORT);
    if (fromEnv !== undefined) return fromEnv;
  }
  for (const unit of units) {
    for (let index = 0; index < unit.execStart.length; index++) {
      const word = unit.execStart[index]!;
      const value = word === '--port' ? unit.execStart[index + 1] : word.startsWith('--port=') ? word.slice('--port='.length) : undefined;
      const fromArgs = validPort(value);
      if (fromArgs !== undefined) return fromArgs;
    }
  }
  return DEFAULT_GATEWAY_PORT;
}
