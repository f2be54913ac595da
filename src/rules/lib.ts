// Helpers several rules share: walking the Machine, permission arithmetic, shell-safe commands.
import path from 'node:path';
import { TRANSCRIPT } from '../knowledge/layout.js';
import { isInside, isStrictlyInside } from '../knowledge/paths.js';
export { isInside, isStrictlyInside } from '../knowledge/paths.js';
export { sh } from '../knowledge/shell.js';
export { octal, plural } from '../knowledge/text.js';
import type { ConfigSummary, FileEntry, FileInventory, GatewayLock, GatewayUser, GroupEntry, Home, Install, Machine, PasswdEntry, RuleReport } from '../model.js';

export function* installsOf(machine: Machine): Generator<{ home: Home; install: Install }> {
  for (const home of machine.homes) for (const install of home.installs) yield { home, install };
}

/** The install's trees, each once: its state dir, and the workspaces that do not lie inside it. */
export function ownTrees(install: Install): FileInventory[] {
  return [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !isStrictlyInside(inventory.root, install.stateDir))];
}

export function activeInstall(home: Home): Install | undefined {
  return home.installs.find((install) => install.active);
}

/** A live gateway lock for `install` (a lock that names no config counts for every install of its home). */
export function liveLockFor(home: Home, install: Install): GatewayLock | undefined {
  return home.locks.find((lock) => lock.alive === true && (lock.configPath === undefined || lock.configPath === install.config.path));
}

/**
 * The install of `other` that corresponds to `install`: the same state dir, else the same profile
 * (preferring one with data), else the only install with data.
 */
export function counterpartIn(other: Machine, install: Install): { home: Home; install: Install } | undefined {
  const all = [...installsOf(other)];
  const sameDir = all.find((item) => item.install.stateDir === install.stateDir);
  if (sameDir) return sameDir;
  const sameProfile = all.filter((item) => item.install.profile === install.profile);
  const byProfile = sameProfile.find((item) => item.install.hasData) ?? sameProfile[0];
  if (byProfile) return byProfile;
  const anyData = all.filter((item) => item.install.hasData);
  return anyData.length === 1 ? anyData[0] : undefined;
}

/** Where a config key sits in its file, for a report on that config (nothing when the scan could not locate it). */
export function keyAt(config: ConfigSummary, key: string | undefined): Pick<RuleReport, 'line' | 'column' | 'endLine' | 'endColumn'> {
  const position = key !== undefined ? config.keyPositions?.[key] : undefined;
  return position ? { line: position.line, column: position.column, endLine: position.endLine, endColumn: position.endColumn } : {};
}

/** A '.' or '..' segment, an empty one, or a slash at either end: what path.posix.join would normalise away. */
const NOT_PLAIN = /(^|\/)\.\.?(\/|$)|\/\/|^\/|\/$/;
// the last root asked about, and whether path.posix.join leaves it as it is: a rule joins one root to many paths
let lastRoot: string | undefined;
let lastRootPlain = false;

/**
 * path.posix.join(root, relative), '' giving the root. A plain path (the walk's) under a root that joins as
 * it is, is the two with a slash between: no normalising of a million paths (fix actions name every entry).
 */
export function joinPath(root: string, relative: string): string {
  if (relative === '') return root;
  if (root !== lastRoot) {
    lastRoot = root;
    // '.' is its own normal form, and joins away: '.' and 'a' give 'a'
    lastRootPlain = root === '/' || (root !== '' && root !== '.' && !root.endsWith('/') && path.posix.normalize(root) === root);
  }
  if (lastRootPlain && !NOT_PLAIN.test(relative)) return root === '/' ? `/${relative}` : `${root}/${relative}`;
  return path.posix.join(root, relative);
}

/**
 * Why a rule that judges absence says nothing about a truncated inventory: the scan stopped listing at its
 * entry limit (--max-entries), so what it did not list may well be there.
 */
const TRUNCATED_INVENTORY = 'the scan stopped listing files at its entry limit (--max-entries): what is missing cannot be told';

/**
 * Whether an install may hold migrated data: it does (`hasData`), or the scan stopped listing it at the
 * entry limit and so cannot call it empty. Rules that report an install as *empty* use this; rules that need
 * data before they report use `hasData`, so a cut-short scan invents neither.
 */
export function mayHoldData(install: Install): boolean {
  return install.hasData || install.inventory.truncated === true || install.inventory.unseen !== undefined;
}

/** The trees of the machine this process could not list (their roots), each once. */
export function unseenTrees(machine: Machine): { path: string; code: string; uid: number }[] {
  const seen = new Map<string, { path: string; code: string; uid: number }>();
  for (const home of machine.homes) {
    for (const install of home.installs) {
      for (const inventory of [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]) {
        // a workspace inside an unseen state dir is unseen because of it: the state dir is the root to name
        if (inventory.unseen && ![...seen.keys()].some((root) => isInside(inventory.root, root))) seen.set(inventory.root, { path: inventory.root, ...inventory.unseen });
      }
    }
  }
  return [...seen.values()];
}

/** Why a rule says nothing about what is inside trees this process could not read (and how to see more). */
export function unseenReason(trees: { path: string; code: string; uid: number }[]): string {
  const uid = trees[0]!.uid;
  return `${trees.map((tree) => tree.path).join(', ')} could not be read as uid ${uid} (${trees[0]!.code}), wholly or in part: what is inside was not checked; run it with sudo to see more`;
}

/**
 * Says why a rule that judges absence or contents may be silent: some tree of the machine was cut short at the
 * entry limit, or could not be read at all by this process (then nothing inside it is judged).
 */
export function noteCutTrees(machine: Machine, skip: ((reason: string) => void) | undefined): void {
  const cut = machine.homes.some((home) => home.installs.some((install) => install.inventory.truncated || install.workspaces.some((workspace) => workspace.inventory.truncated)));
  const unseen = unseenTrees(machine);
  if (cut && unseen.length > 0) skip?.(`${TRUNCATED_INVENTORY}; ${unseenReason(unseen)}`);
  else if (cut) skip?.(TRUNCATED_INVENTORY);
  else if (unseen.length > 0) skip?.(unseenReason(unseen));
}

/** A tree not wholly listed: cut at the entry limit, or parts of it unreadable to this process. Absence there is unknown. */
export function cutShort(inventory: FileInventory | undefined): boolean {
  return inventory?.truncated === true || inventory?.unseen !== undefined;
}

/**
 * Which of `wanted` are the paths of entries of `inventory` (that `accept` takes, when given): one pass, a
 * lookup only for paths of a wanted length, nothing built per entry (a few paths against a million entries).
 */
export function presentPaths(inventory: FileInventory, wanted: ReadonlySet<string>, accept?: (entry: FileEntry) => boolean): Set<string> {
  const present = new Set<string>();
  if (wanted.size === 0) return present;
  const lengths = new Set<number>();
  for (const item of wanted) lengths.add(item.length);
  const entries = inventory.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (lengths.has(entry.path.length) && wanted.has(entry.path) && (accept === undefined || accept(entry))) present.add(entry.path);
  }
  return present;
}

/**
 * What readableBy and writableBy look up for entries of `entries`: the entry of each path above some entry
 * ('' included), the last of a path winning as in a map of every entry. The same answers as that map for those
 * paths, from a map of the tree's dirs rather than of its million files.
 */
export function ancestorEntries(entries: readonly FileEntry[]): Map<string, FileEntry> {
  const above = new Set<string>();
  // siblings come one after another: their parent is sliced out once for the run
  let lastParent: string | undefined;
  for (let index = 0; index < entries.length; index++) {
    const relativePath = entries[index]!.path;
    if (relativePath === '') continue;
    const slash = relativePath.lastIndexOf('/');
    const parentLength = slash === -1 ? 0 : slash;
    if (lastParent !== undefined && lastParent.length === parentLength && (slash === -1 || relativePath.lastIndexOf(lastParent, 0) === 0)) continue;
    lastParent = slash === -1 ? '' : relativePath.slice(0, slash);
    // the parent and the paths above it, up to one already there (the paths above that one are there too)
    for (let dir = lastParent; !above.has(dir); ) {
      above.add(dir);
      if (dir === '') break;
      const up = dir.lastIndexOf('/');
      dir = up === -1 ? '' : dir.slice(0, up);
    }
  }
  const lengths = new Set<number>();
  for (const dir of above) lengths.add(dir.length);
  const byPath = new Map<string, FileEntry>();
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (lengths.has(entry.path.length) && above.has(entry.path)) byPath.set(entry.path, entry);
  }
  return byPath;
}

export function userName(machine: Machine, uid: number): string {
  return machine.users.find((user: PasswdEntry) => user.uid === uid)?.name ?? String(uid);
}

export function groupName(machine: Machine, gid: number): string {
  return machine.groups.find((group: GroupEntry) => group.gid === gid)?.name ?? String(gid);
}

export function ownerSpec(machine: Machine, user: GatewayUser): string {
  return `${user.name ?? user.uid}:${groupName(machine, user.gid)}`;
}

/** Which permission triplet of `entry` applies to `user`: 'owner' | 'group' | 'other' (root bypasses). */
function classOf(entry: Pick<FileEntry, 'uid' | 'gid'>, user: GatewayUser): 'owner' | 'group' | 'other' {
  if (entry.uid === user.uid) return 'owner';
  if (entry.gid === user.gid || user.groups.includes(entry.gid)) return 'group';
  return 'other';
}

function bits(entry: Pick<FileEntry, 'mode' | 'uid' | 'gid'>, user: GatewayUser): number {
  const which = classOf(entry, user);
  const shift = which === 'owner' ? 6 : which === 'group' ? 3 : 0;
  return (entry.mode >> shift) & 0o7;
}

export const READ = 0o4;
export const WRITE = 0o2;
export const EXEC = 0o1;

export function userMay(entry: Pick<FileEntry, 'mode' | 'uid' | 'gid' | 'type'>, user: GatewayUser, want: number): boolean {
  if (user.uid === 0) return want !== EXEC || entry.type === 'dir' || (entry.mode & 0o111) !== 0;
  return (bits(entry, user) & want) === want;
}

/** The parent chain of a relative path: '' (root), 'a', 'a/b' for 'a/b/c'. */
export function parentsOf(relativePath: string): string[] {
  if (relativePath === '') return [];
  const parts = relativePath.split('/');
  const chain = [''];
  for (let i = 1; i < parts.length; i++) chain.push(parts.slice(0, i).join('/'));
  return chain;
}

export type Audience = 'group' | 'world';

/** What readableBy/writableBy need of the inventory: a Map, or anything with its `get` (e.g. one built on first use). */
export type EntryLookup = Pick<ReadonlyMap<string, FileEntry>, 'get'>;

/**
 * What the dirs above a run of siblings let through, for readableBy and writableBy asked about one entry after
 * another: siblings have the same dirs above them, so the chain is looked up once per run, not per entry. For
 * one lookup (one tree) only; `parentRun()` makes one.
 */
export interface ParentRun {
  parent: string | undefined;
  /** exec bits (0o001, 0o010) worked out for this parent, and those of them every dir above lets through */
  known: number;
  open: number;
}

export function parentRun(): ParentRun {
  return { parent: undefined, known: 0, open: 0 };
}

/**
 * Whether every dir above `relativePath` (its parentsOf chain) is in the inventory with `execBit` set.
 * Walks the chain by index instead of building it: the same paths, looked up in the same order.
 */
function chainSearchable(relativePath: string, byPath: EntryLookup, execBit: number): boolean {
  const root = byPath.get('');
  if (root === undefined || (root.mode & execBit) === 0) return false;
  for (let slash = relativePath.indexOf('/'); slash !== -1; slash = relativePath.indexOf('/', slash + 1)) {
    const dir = byPath.get(relativePath.slice(0, slash));
    if (dir === undefined || (dir.mode & execBit) === 0) return false;
  }
  return true;
}

function parentsSearchable(relativePath: string, byPath: EntryLookup, execBit: number, run: ParentRun | undefined): boolean {
  if (relativePath === '') return true;
  if (run === undefined) return chainSearchable(relativePath, byPath, execBit);
  // the chain depends on the parent alone: the same parent as the entry before, the same answer
  const slash = relativePath.lastIndexOf('/');
  const parentLength = slash === -1 ? 0 : slash;
  if (run.parent === undefined || run.parent.length !== parentLength || (slash !== -1 && relativePath.lastIndexOf(run.parent, 0) !== 0)) {
    run.parent = slash === -1 ? '' : relativePath.slice(0, slash);
    run.known = 0;
    run.open = 0;
  }
  if ((run.known & execBit) === 0) {
    run.known |= execBit;
    if (chainSearchable(relativePath, byPath, execBit)) run.open |= execBit;
  }
  return (run.open & execBit) !== 0;
}

/**
 * Who besides the owner can read `entry`, judged by the whole path: a 0644 file under a 0700 dir is
 * not readable by others (reference §11). Returns the widest audience, or undefined. The entry's own
 * bits are checked first: most entries (0600, 0700) are ruled out without looking at their parents.
 * `run` (one per tree) remembers the parents' answer for the siblings that follow.
 */
export function readableBy(entry: FileEntry, byPath: EntryLookup, run?: ParentRun): Audience | undefined {
  if ((entry.mode & 0o004) !== 0 && parentsSearchable(entry.path, byPath, 0o001, run)) return 'world';
  if ((entry.mode & 0o040) !== 0 && parentsSearchable(entry.path, byPath, 0o010, run)) return 'group';
  return undefined;
}

export function writableBy(entry: FileEntry, byPath: EntryLookup, run?: ParentRun): Audience | undefined {
  if (entry.type === 'symlink') return undefined;
  if ((entry.mode & 0o002) !== 0 && parentsSearchable(entry.path, byPath, 0o001, run)) return 'world';
  if ((entry.mode & 0o020) !== 0 && parentsSearchable(entry.path, byPath, 0o010, run)) return 'group';
  return undefined;
}

export type Area = 'config' | 'credentials' | 'agents/auth' | 'sessions' | 'channels' | 'workspace' | 'other';

// the patterns of areaOf and hasMigratedState, asked of every entry of a tree: module constants, since a
// literal in the function is a new RegExp object at each call
const CONFIG_AREA = /^resonix\.json/;
const CHANNEL_LOGIN = /^credentials\/(whatsapp|telegram|signal|discord|slack|imessage)/;
const CHANNEL_LIST = /-(pairing|allowFrom)\.json$/;
const CREDENTIAL_AREA = /^(credentials|identity|devices)\//;
const AGENT_AREA = /^agents\/[^/]+\/agent\//;
const STATE_DB_AREA = /^state\/.+\.sqlite/;
const SESSIONS_AREA = /^agents\/[^/]+\/sessions\//;
const WORKSPACE_AREA = /^workspace(-[^/]+)?(\/|$)/;

export function areaOf(relativePath: string): Area {
  if (CONFIG_AREA.test(relativePath) || relativePath === '.env' || relativePath === 'secrets.json') return 'config';
  if (CHANNEL_LOGIN.test(relativePath) || CHANNEL_LIST.test(relativePath)) {
    return 'channels';
  }
  if (CREDENTIAL_AREA.test(relativePath)) return 'credentials';
  if (AGENT_AREA.test(relativePath) || STATE_DB_AREA.test(relativePath)) return 'agents/auth';
  if (SESSIONS_AREA.test(relativePath)) return 'sessions';
  if (WORKSPACE_AREA.test(relativePath)) return 'workspace';
  return 'other';
}

const CREDENTIAL_FILE = /^credentials\/.+/;
const AGENT_STATE = /^agents\/[^/]+\/agent\/(auth-profiles\.json|resonix-agent\.sqlite)$/;
const SESSION_INDEX = /^agents\/[^/]+\/sessions\/sessions\.json$/;
const STATE_DB_FILE = /^state\/[^/]+\.sqlite$/;

/** The state that makes an install more than a config file (copy/config-only). */
export function hasMigratedState(install: Install): boolean {
  return install.inventory.entries.some(
    (entry) =>
      entry.type === 'file' &&
      (CREDENTIAL_FILE.test(entry.path) || AGENT_STATE.test(entry.path) || TRANSCRIPT.test(entry.path) || SESSION_INDEX.test(entry.path) || STATE_DB_FILE.test(entry.path)),
  );
}

/** How many items of a list evidence shows (sample's default). */
export const SAMPLE = 5;

/** At most `limit` items, plus a "… and N more" line. */
export function sample(items: string[], limit = SAMPLE): string[] {
  return sampleOf(items, items.length, limit);
}

/**
 * sample() of a list of `total` items of which only the first ones were made (`head`: at least `limit` of
 * them, or all): a list of a million entries is not turned into a million strings to show five.
 */
export function sampleOf(head: string[], total: number, limit = SAMPLE): string[] {
  return total <= limit ? head : [...head.slice(0, limit), `… and ${total - limit} more`];
}

export function describeUser(user: GatewayUser): string {
  return user.name ? `${user.name} (uid ${user.uid})` : `uid ${user.uid}`;
}

/** Folders a sync client copies to the cloud (macOS iCloud/CloudStorage, Dropbox, OneDrive, Google Drive, …). */
export const SYNCED_FOLDER = /\/(Library\/Mobile Documents|Library\/CloudStorage|iCloud Drive|Dropbox|OneDrive[^/]*|Google Drive|GoogleDrive|Nextcloud|ownCloud|pCloud Drive|MEGA|Sync)(\/|$)/;
