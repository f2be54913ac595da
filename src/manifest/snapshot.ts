// `snapshot`: the scanned Machine plus the sha256 of every regular file of each install's and workspace's
// inventory, written 0600 without any secret value. See README.md here for the schema and the hash policy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileEntry, FileInventory, Install, Machine } from '../model.js';
import { whatMustTravel } from '../plan.js';
import { TOOL } from '../version.js';
import { hostPathInRoot } from '../scan/links.js';
import { DEFAULT_CONCURRENCY, hashFiles, type HashJob } from './hash.js';
import { matchInstalls, matchWorkspaces } from './match.js';
import { HASH_SKIP_REASONS, MANIFEST_VERSION, sha256Of, type HashedFileEntry, type HashSkipReason, type Manifest, type ManifestHashing } from './types.js';

export interface SnapshotOptions {
  /** hash every regular file (false: sizes, modes and owners only) */
  hash: boolean;
  /** files hashed at once (default 4) */
  concurrency?: number;
  /** the manifest's createdAt (tests) */
  now?: Date;
}

/** Files that may be little more than one secret value: shorter than this, a secret-bearing file is not hashed. */
export const SHORT_SECRET_BYTES = 64;

const DOTENV = /(^|\/)\.env(\.[^/]*)?$/;
const SECRET_NAME = /(token|secret|passw(or)?d|passphrase|credential|creds|api[-_]?key|auth|private|\.key$|\.pem$)/i;
const SECRET_DIR = /^(credentials|identity|devices|gateway\/tls)\//;

/** Mirrors isSecretFile of the rules (kept here so the manifest does not depend on the rule layer). */
function secretByPath(relativePath: string): boolean {
  return (
    /^resonix\.json(\.bak(\.\d+)?|\.last-good|\.clobbered\..+)?$/.test(relativePath) ||
    relativePath === 'secrets.json' ||
    relativePath === 'exec-approvals.json' ||
    relativePath === 'config-journal-fingerprint.key' ||
    SECRET_DIR.test(relativePath) ||
    /^agents\/[^/]+\/agent\/(auth-profiles|auth-state|auth)\.json$/.test(relativePath) ||
    SECRET_NAME.test(path.posix.basename(relativePath))
  );
}

/**
 * The hash policy: true when a file must be recorded without its sha256, because a hash of it could
 * confirm a guess of a secret: `.env` files and `secrets.json` (KEY=value lines of possibly human-chosen
 * values), configs that hold an inline password, and secret-bearing files under SHORT_SECRET_BYTES.
 */
export function withholdHash(relativePath: string, size: number, kind: 'state' | 'workspace', install?: Pick<Install, 'config'>): boolean {
  if (DOTENV.test(relativePath)) return true;
  if (kind === 'state') {
    if (relativePath === 'secrets.json') return true;
    if (/^resonix\.json/.test(relativePath) && install?.config.inlineSecretKeys.some((key) => /passw(or)?d|passphrase/i.test(key))) return true;
    return size < SHORT_SECRET_BYTES && secretByPath(relativePath);
  }
  return size < SHORT_SECRET_BYTES && SECRET_NAME.test(path.posix.basename(relativePath));
}

function absoluteOf(inventory: FileInventory, entry: FileEntry): string {
  return entry.path === '' ? inventory.root : path.posix.join(inventory.root, entry.path);
}

function rootIsDir(root: string): boolean {
  try {
    return fs.statSync(root).isDirectory();
  } catch {
    return false;
  }
}

interface Target {
  entry: HashedFileEntry;
  machinePath: string;
  withhold: boolean;
}

/** Every regular file of every install and workspace inventory, each inventory with its policy. */
function targetsOf(machine: Machine, select?: (target: Target) => boolean): Target[] {
  const targets: Target[] = [];
  for (const home of machine.homes) {
    for (const install of home.installs) {
      const lists: { inventory: FileInventory; kind: 'state' | 'workspace' }[] = [
        { inventory: install.inventory, kind: 'state' },
        ...install.workspaces.map((workspace) => ({ inventory: workspace.inventory, kind: 'workspace' as const })),
      ];
      for (const { inventory, kind } of lists) {
        if (!inventory.exists) continue;
        for (const entry of inventory.entries) {
          if (entry.type !== 'file') continue;
          // a workspace inside the state dir is also a part of the state dir's inventory: its .env is as secret there
          const target = { entry, machinePath: absoluteOf(inventory, entry), withhold: withholdHash(entry.path, entry.size, kind, install) };
          if (!select || select(target)) targets.push(target);
        }
      }
    }
  }
  return targets;
}

async function applyHashes(machine: Machine, targets: Target[], concurrency: number): Promise<ManifestHashing> {
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  const hashing: ManifestHashing = { algorithm: 'sha256', enabled: true, files: 0, bytes: 0, skipped };
  // one read per host file, however many inventories list it
  const withheld = new Set(targets.filter((target) => target.withhold).map((target) => target.machinePath));
  const jobs = new Map<string, HashJob>();
  for (const target of targets) {
    if (withheld.has(target.machinePath) || jobs.has(target.machinePath)) continue;
    jobs.set(target.machinePath, { hostPath: hostPathInRoot(machine.root, target.machinePath), expectedSize: target.entry.size });
  }
  const keys = [...jobs.keys()];
  const outcomes = await hashFiles([...jobs.values()], concurrency);
  const byPath = new Map(keys.map((key, index) => [key, outcomes[index]!]));
  const counted = new Set<string>();
  for (const target of targets) {
    const outcome = withheld.has(target.machinePath) ? ({ skipped: 'secret' } as const) : byPath.get(target.machinePath)!;
    delete target.entry.sha256;
    delete target.entry.hashSkipped;
    if ('sha256' in outcome) target.entry.sha256 = outcome.sha256;
    else target.entry.hashSkipped = outcome.skipped;
    if (counted.has(target.machinePath)) continue;
    counted.add(target.machinePath);
    if ('sha256' in outcome) {
      hashing.files += 1;
      hashing.bytes += outcome.bytes;
    } else {
      skipped[outcome.skipped] += 1;
    }
  }
  return hashing;
}

/** Replaces every known secret value found in any string of `value` (defence in depth: the Machine holds none). */
function scrub<T>(value: T, secrets: string[]): T {
  if (secrets.length === 0) return value;
  const clean = (text: string): string => {
    let out = text;
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('[masked]');
    return out;
  };
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return clean(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([key, inner]) => [clean(key), walk(inner)]));
    return item;
  };
  return walk(value) as T;
}

/** Names of every uid and gid on the inventories and of the gateway users. */
function ownersOf(machine: Machine): Manifest['owners'] {
  const uids = new Set<number>();
  const gids = new Set<number>();
  for (const home of machine.homes) {
    uids.add(home.gatewayUser.uid);
    gids.add(home.gatewayUser.gid);
    if (home.ownerUid !== undefined) uids.add(home.ownerUid);
    if (home.ownerGid !== undefined) gids.add(home.ownerGid);
    for (const install of home.installs) {
      for (const inventory of [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]) {
        for (const entry of inventory.entries) {
          uids.add(entry.uid);
          gids.add(entry.gid);
        }
      }
    }
  }
  let self: string | undefined;
  if (machine.mode === 'live') {
    try {
      self = os.userInfo().username;
    } catch {
      self = undefined;
    }
  }
  const users: Record<string, string> = {};
  const groups: Record<string, string> = {};
  for (const uid of [...uids].sort((a, b) => a - b)) {
    const name = machine.users.find((user) => user.uid === uid)?.name ?? (uid === machine.currentUid ? self : undefined);
    if (name) users[String(uid)] = name;
  }
  for (const gid of [...gids].sort((a, b) => a - b)) {
    const name = machine.groups.find((group) => group.gid === gid)?.name;
    if (name) groups[String(gid)] = name;
  }
  return { users, groups };
}

/**
 * The manifest of a scan: the Machine (deep-copied), sha256 of every regular file of each install and
 * workspace inventory (streamed, `concurrency` at a time), owner names. Never holds file contents or
 * secret values; known secret values of the scan are scrubbed from every string as a last guard.
 */
export async function createManifest(scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions): Promise<Manifest> {
  const secrets = [...new Set(scan.secrets ?? [])].filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
  const machine = scrub(structuredClone(scan.machine), secrets);
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  let hashing: ManifestHashing = { algorithm: 'sha256', enabled: false, files: 0, bytes: 0, skipped };
  if (opts.hash && rootIsDir(machine.root)) hashing = await applyHashes(machine, targetsOf(machine), opts.concurrency ?? DEFAULT_CONCURRENCY);
  return {
    manifest: MANIFEST_VERSION,
    tool: { name: TOOL.name, version: TOOL.version },
    createdAt: (opts.now ?? new Date()).toISOString(),
    machine,
    owners: ownersOf(machine),
    hashing,
    move: whatMustTravel(machine),
  };
}

/**
 * Hashes the files of `current` that a comparison with `baseline` needs: those whose baseline entry (in the
 * matched install/workspace, same relative path) has a sha256 and the same size. Returns a copy of
 * `current`; its other entries are left without a hash. The same policy withholds the same files.
 */
export async function hashForBaseline(current: Machine, baseline: Machine, opts: { concurrency?: number } = {}): Promise<Machine> {
  const copy = structuredClone(current);
  if (!rootIsDir(copy.root)) return copy;
  const wanted = new Set<FileEntry>();
  const want = (base: FileInventory, here: FileInventory): void => {
    const baseByPath = new Map(base.entries.map((entry) => [entry.path, entry]));
    for (const entry of here.entries) {
      const old = baseByPath.get(entry.path);
      if (entry.type === 'file' && old?.type === 'file' && old.size === entry.size && sha256Of(old) !== undefined) wanted.add(entry);
    }
  };
  for (const match of matchInstalls(baseline, copy)) {
    if (!match.current) continue;
    want(match.baseline.inventory, match.current.inventory);
    for (const pair of matchWorkspaces(match.baseline, match.current, match.homeMap)) if (pair.current) want(pair.baseline.inventory, pair.current.inventory);
  }
  const targets = targetsOf(copy, (target) => wanted.has(target.entry));
  if (targets.length > 0) await applyHashes(copy, targets, opts.concurrency ?? DEFAULT_CONCURRENCY);
  return copy;
}

/** Writes the manifest 0600 through a temp file in the same dir and a rename: never a half-written manifest. */
export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const text = `${JSON.stringify(manifest)}\n`; // compact: large installs make large manifests (jq . to read one)
  const handle = await fs.promises.open(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.promises.rename(temp, target);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
}
