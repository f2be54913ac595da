// `snapshot`: the scanned Machine, masked, plus the sha256 of every regular file of each install's and
// workspace's inventory that holds no secret (by name, by the name it is a copy of, or by inode), each inode
// read once and at most MAX_TOTAL_HASHED_BYTES in all, written 0600 without any secret value. See README.md
// here for the schema and the hash policy.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { copyOriginals, hasSecretName, holdsSecretValue, startsSecretPlace } from '../knowledge/layout.js';
import { BUDGET_CODE, type FileEntry, type FileInventory, type Install, type Machine, type ScanProblem } from '../model.js';
import { whatMustTravel } from '../plan.js';
import { TOOL } from '../version.js';
import { hostPathInRoot } from '../scan/links.js';
import { identityOf } from '../scan/walk.js';
import { maskSecrets } from '../knowledge/mask.js';
import type { ProgressCounter } from '../progress.js';
import { DEFAULT_CONCURRENCY, fileIdOf, looksSparse, MAX_HASHED_BYTES, MAX_TOTAL_HASHED_BYTES, type HashJob, type HashOutcome } from './hash.js';
import { formatBytes } from '../archive/budget.js';
import { hashOnThreads, type HashOnThreadsOptions } from './hash-threads.js';
import { matchInstalls, matchWorkspaces } from '../knowledge/baseline-match.js';
import { HASH_SKIP_REASONS, sha256Of, type HashedFileEntry, type HashSkipReason } from '../knowledge/baseline.js';
import { MANIFEST_VERSION, type Manifest, type ManifestHashing } from './types.js';

/** How the files are hashed: on how many threads, how many at once, and what to tick. */
export interface HashingOptions {
  /** files hashed at once per thread (default 4) */
  concurrency?: number;
  /** threads hashing, this one included (default os.availableParallelism(); workers only for big work: hash-threads.ts) */
  threads?: number;
  /** when worker threads are worth starting (default WORKERS_FROM; for tests and benchmarks) */
  workersFrom?: HashOnThreadsOptions['workersFrom'];
  /** ticked once per file hashed (the CLI's progress line) */
  progress?: ProgressCounter;
  /** bytes read in all, at most (default MAX_TOTAL_HASHED_BYTES, 8 GiB): the files past it are recorded without a hash, and a problem (EBUDGET) says so */
  maxTotalBytes?: number;
}

export interface SnapshotOptions extends HashingOptions {
  /** hash every regular file (false: sizes, modes and owners only) */
  hash: boolean;
  /** the manifest's createdAt (tests) */
  now?: Date;
}

const DOTENV = /(^|\/)\.env(\.[^/]*)?$/;

/** The policy on one name: a secret-bearing file by its own name or place, or one the config `$include`s. */
function secretByName(relativePath: string, kind: 'state' | 'workspace', includes?: ReadonlySet<string>): boolean {
  if (DOTENV.test(relativePath) || includes?.has(relativePath)) return true;
  if (kind === 'state') return holdsSecretValue(relativePath);
  return hasSecretName(relativePath);
}

/**
 * The hash policy by name, for one inventory: true when a file must be recorded without its sha256. A digest of
 * a file that holds a secret lets whoever has the manifest test guesses offline (a short password in an
 * `$include`d gateway.json5 falls to a word list), so no secret-bearing file is hashed, whatever its size:
 * configs and their backups, files the config `$include`s (`includes`: paths relative to the inventory root),
 * `.env` files, `secrets.json`, credentials, auth profiles, identity and device files, secret-named files.
 *
 * Nor any copy of one that a backup or an editor left under a marked name: the name without its marks
 * (`gateway.json5.bak.1`, `resonix.json~`, `.gateway.json5.swp`), its dirs without theirs (`credentials.old/…`),
 * and, for a copy of the state dir kept inside it (`old/credentials/…`, `backup/resonix.json`), the path from
 * a secret place (or an included file's first dir) on are each held to the same policy. A second name of a
 * withheld file (a hard link) is withheld by its inode, in applyHashes. The comparison falls back to size and
 * mtime for them all (README.md here).
 */
export function hashPolicy(kind: 'state' | 'workspace', includes?: ReadonlySet<string>): (relativePath: string) => boolean {
  const includeStarts = new Set([...(includes ?? [])].map((file) => file.split('/')[0]!));
  const startsPlace = (name: string): boolean => startsSecretPlace(name) || includeStarts.has(name);
  // dirs repeat across a tree's files: each dir's names (as they are, and without copy marks) are worked out once
  const dirs = new Map<string, { variants: string[][]; placeInside: boolean }>();
  const dirOf = (dir: string): { variants: string[][]; placeInside: boolean } => {
    let known = dirs.get(dir);
    if (!known) {
      const names = dir === '' ? [] : dir.split('/');
      const unmarked = names.map((name) => copyOriginals(name).at(-1) ?? name);
      const variants = unmarked.some((name, index) => name !== names[index]) ? [names, unmarked] : [names];
      known = { variants, placeInside: variants.some((list) => list.some((name, index) => index > 0 && startsPlace(name))) };
      dirs.set(dir, known);
    }
    return known;
  };
  const secretHere = (names: readonly string[]): boolean => {
    if (secretByName(names.join('/'), kind, includes)) return true;
    for (let start = 1; start < names.length; start++) {
      if (startsPlace(names[start]!) && secretByName(names.slice(start).join('/'), kind, includes)) return true;
    }
    return false;
  };
  return (relativePath) => {
    const slash = relativePath.lastIndexOf('/');
    const base = relativePath.slice(slash + 1);
    const dir = dirOf(slash < 0 ? '' : relativePath.slice(0, slash));
    const originals = copyOriginals(base);
    // most files: no mark on the name or its dirs, no secret place below the top
    if (originals.length === 0 && dir.variants.length === 1 && !dir.placeInside && !(slash >= 0 && startsPlace(base))) return secretByName(relativePath, kind, includes);
    for (const names of dir.variants) {
      for (const name of [base, ...originals]) if (secretHere([...names, name])) return true;
    }
    return false;
  };
}

/** The hash policy for one path (hashPolicy, for a single question). */
export function withholdHash(relativePath: string, kind: 'state' | 'workspace', includes?: ReadonlySet<string>): boolean {
  return hashPolicy(kind, includes)(relativePath);
}

/** The files an install's config `$include`s, relative to `root` (those outside it are in no inventory). */
function includedFiles(install: Install, root: string): Set<string> {
  const found = new Set<string>();
  for (const check of install.config.includeChecks ?? []) {
    const relative = path.posix.relative(root, check.resolved);
    if (relative !== '' && !relative.startsWith('..') && !path.posix.isAbsolute(relative)) found.add(relative);
  }
  return found;
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
  /** withheld by its name (hashPolicy) */
  withhold: boolean;
}

/**
 * The dirs of `inventory` (relative paths, '' for its root) that a secret-named symlink of it points at:
 * with `credentials -> private`, the files under private/ are what Resonix reads as its credentials.
 */
function dirsLinkedAsSecret(root: string, inventory: FileInventory, links: readonly Target[]): string[] {
  if (links.length === 0) return [];
  const realRoot = hostPathInRoot(root, inventory.root, { followLast: true });
  const dirs: string[] = [];
  for (const link of links) {
    const target = hostPathInRoot(root, link.machinePath, { followLast: true });
    let isDir = false;
    try {
      isDir = fs.statSync(target).isDirectory();
    } catch {
      isDir = false;
    }
    const relative = path.relative(realRoot, target);
    if (isDir && !relative.startsWith('..') && !path.isAbsolute(relative)) dirs.push(relative.split(path.sep).join('/'));
  }
  return dirs;
}

/**
 * Every regular file and symlink of every install and workspace inventory, each with its inventory's policy.
 * The symlinks are here for what they point at: a secret name's target file (in applyHashes) or dir (here)
 * is withheld too.
 */
function targetsOf(machine: Machine): Target[] {
  const targets: Target[] = [];
  for (const home of machine.homes) {
    for (const install of home.installs) {
      const lists: { inventory: FileInventory; kind: 'state' | 'workspace' }[] = [
        { inventory: install.inventory, kind: 'state' },
        ...install.workspaces.map((workspace) => ({ inventory: workspace.inventory, kind: 'workspace' as const })),
      ];
      for (const { inventory, kind } of lists) {
        if (!inventory.exists) continue;
        const withhold = hashPolicy(kind, includedFiles(install, inventory.root));
        const listed: Target[] = [];
        for (const entry of inventory.entries) {
          if (entry.type !== 'file' && entry.type !== 'symlink') continue;
          // a workspace inside the state dir is also a part of the state dir's inventory: its .env is as secret there
          listed.push({ entry, machinePath: absoluteOf(inventory, entry), withhold: withhold(entry.path) });
        }
        const secretDirs = dirsLinkedAsSecret(machine.root, inventory, listed.filter((target) => target.withhold && target.entry.type === 'symlink'));
        for (const target of secretDirs.length > 0 ? listed : []) {
          if (secretDirs.some((dir) => dir === '' || target.entry.path.startsWith(`${dir}/`))) target.withhold = true;
        }
        targets.push(...listed);
      }
    }
  }
  return targets;
}

/** What lstat says (or what the walk's lstat said) of a regular file (undefined: gone, unreadable, or no regular file). */
interface FileNow {
  id: string;
  size: number;
  blocks: number;
  nlink: number;
}

function fileNow(hostPath: string): FileNow | undefined {
  try {
    const stat = fs.lstatSync(hostPath, { bigint: true, throwIfNoEntry: false });
    return stat?.isFile() ? { id: fileIdOf(stat), size: Number(stat.size), blocks: Number(stat.blocks), nlink: Number(stat.nlink) } : undefined;
  } catch {
    return undefined;
  }
}

/** How a regular file is recorded: an outcome known without reading it, the job that reads it, or past the budget. */
type Decision = { outcome: HashOutcome } | { job: HashJob } | { cut: true; bytes: number };

/** What hashing gives one file entry: its digest, or why it has none (neither: past the budget). */
export type EntryHash = { sha256: string } | { hashSkipped: HashSkipReason };

interface AppliedHashes {
  hashing: ManifestHashing;
  /** the entries that got a digest or a reason (the Machine itself is left as it is) */
  hashes: Map<FileEntry, EntryHash>;
  /** EBUDGET: where hashing stopped, when the budget was spent */
  problem?: ScanProblem;
}

/**
 * Hashes the regular files of `machine`'s inventories (those `wanted` says, when given), each inode once:
 * its other names take the same digest. Nothing is read of a file withheld by name (hashPolicy), of a second
 * name of one (a hard link, any name) or of the file a secret-named symlink points at, nor past
 * `maxTotalBytes` in all (the rest go without a hash, and a problem says so). What the walk's lstat saw
 * (identityOf) decides all of this, with no second lstat (entries no walk made are lstat'ed once here); the
 * hasher then reads only the inode the scan saw.
 */
async function applyHashes(machine: Machine, opts: HashingOptions, purpose: 'snapshot' | 'comparison', wanted?: ReadonlySet<FileEntry>): Promise<AppliedHashes> {
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  const maxTotalBytes = opts.maxTotalBytes ?? MAX_TOTAL_HASHED_BYTES;
  const budget = { maxBytes: maxTotalBytes, cutFiles: 0, cutBytes: 0 };
  const hashing: ManifestHashing = { algorithm: 'sha256', enabled: true, files: 0, bytes: 0, skipped, budget };
  const all = targetsOf(machine);
  const now = (target: Target): { hostPath: string; file: FileNow | undefined } => {
    const hostPath = hostPathInRoot(machine.root, target.machinePath);
    const seen = identityOf(target.entry);
    if (seen?.id !== undefined) return { hostPath, file: { id: seen.id, size: target.entry.size, blocks: seen.blocks, nlink: seen.nlink } };
    return { hostPath, file: fileNow(hostPath) };
  };

  // the inodes of every file withheld by name, whichever inventory lists it (or whichever link names it)
  const secretPaths = new Set<string>();
  const secretIds = new Set<string>();
  for (const target of all) {
    if (!target.withhold) continue;
    if (target.entry.type === 'file') {
      secretPaths.add(target.machinePath);
      const { file } = now(target);
      if (file) secretIds.add(file.id);
    } else {
      const file = fileNow(hostPathInRoot(machine.root, target.machinePath, { followLast: true }));
      if (file) secretIds.add(file.id);
    }
  }

  // one decision per inode (per path when lstat found no regular file: the hasher says why), in inventory order
  const perFileCap = Math.min(MAX_HASHED_BYTES, maxTotalBytes);
  const targets = all.filter((target) => target.entry.type === 'file' && (!wanted || wanted.has(target.entry)));
  const known = new Map<Target, { hostPath: string; file: FileNow | undefined }>();
  for (const target of targets) known.set(target, now(target));
  const keys = new Map<Target, string>();
  const decisions = new Map<string, Decision>();
  let budgeted = 0;
  let firstCut: string | undefined;
  // a file with more hard links than the names the scan saw has a name elsewhere, which may be a secret
  // (~/.ssh/id_ed25519 linked into a workspace as notes.txt): its digest is withheld like a secret's
  const namesSeen = new Map<string, Set<string>>();
  for (const target of targets) {
    const { file } = known.get(target)!;
    if (!file || file.nlink < 2) continue;
    const names = namesSeen.get(file.id) ?? new Set<string>();
    names.add(target.machinePath);
    namesSeen.set(file.id, names);
  }
  const linkedElsewhere = (file: FileNow | undefined): boolean => file !== undefined && file.nlink > (namesSeen.get(file.id)?.size ?? 1);
  for (const target of targets) {
    const { hostPath, file } = known.get(target)!;
    const key = file?.id ?? `path:${target.machinePath}`;
    keys.set(target, key);
    if (decisions.has(key)) continue;
    const size = target.entry.size;
    let decision: Decision;
    if (secretPaths.has(target.machinePath) || secretIds.has(key) || linkedElsewhere(file)) decision = { outcome: { skipped: 'secret' } };
    else if (file && file.size !== size) decision = { outcome: { skipped: 'changed' } };
    else if (file && looksSparse(file)) decision = { outcome: { skipped: 'sparse' } };
    else if (size > perFileCap) decision = { outcome: { skipped: 'too-big' } };
    else if (firstCut !== undefined || budgeted + size > maxTotalBytes) {
      firstCut ??= target.machinePath;
      decision = { cut: true, bytes: size };
    } else {
      budgeted += size;
      decision = { job: { hostPath, expectedSize: size, ...(file ? { expectedId: file.id } : {}) } };
    }
    decisions.set(key, decision);
  }
  known.clear();

  const jobs = [...decisions.values()].flatMap((decision) => ('job' in decision ? [decision.job] : []));
  const { outcomes } = await hashOnThreads(jobs, {
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.workersFrom ? { workersFrom: opts.workersFrom } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const hashed = new Map(jobs.map((job, index) => [job, outcomes[index]!]));

  const hashes = new Map<FileEntry, EntryHash>();
  const counted = new Set<string>();
  for (const target of targets) {
    const key = keys.get(target)!;
    const decision = decisions.get(key)!;
    const outcome = 'outcome' in decision ? decision.outcome : 'job' in decision ? hashed.get(decision.job)! : undefined;
    if (outcome && 'sha256' in outcome) hashes.set(target.entry, { sha256: outcome.sha256 });
    else if (outcome) hashes.set(target.entry, { hashSkipped: outcome.skipped });
    // each inode counted once, however many names and inventories it has
    if (counted.has(key)) continue;
    counted.add(key);
    if ('cut' in decision) {
      budget.cutFiles += 1;
      budget.cutBytes += decision.bytes;
    } else if (outcome && 'sha256' in outcome) {
      hashing.files += 1;
      hashing.bytes += outcome.bytes;
    } else if (outcome) {
      skipped[outcome.skipped] += 1;
    }
  }
  return { hashing, hashes, ...(firstCut !== undefined ? { problem: budgetProblem(firstCut, budget, purpose) } : {}) };
}

function budgetProblem(firstCut: string, budget: NonNullable<ManifestHashing['budget']>, purpose: 'snapshot' | 'comparison'): ScanProblem {
  const files = `${budget.cutFiles} file${budget.cutFiles === 1 ? '' : 's'} (${formatBytes(budget.cutBytes)})`;
  const message =
    purpose === 'snapshot'
      ? `hashing stopped at ${firstCut}: the snapshot's hashing budget (${formatBytes(budget.maxBytes)} in all) was spent; ${files} from there on are recorded by size, without a sha256, and verify --against compares them by size`
      : `hashing stopped at ${firstCut}: the comparison's hashing budget (${formatBytes(budget.maxBytes)} in all) was spent; ${files} from there on were compared with the baseline by size only`;
  return { path: firstCut, code: BUDGET_CODE, message };
}

function isFileEntry(item: object): boolean {
  return 'type' in item && 'mode' in item && 'mtimeMs' in item;
}

/**
 * The masker for the relative paths of inventory entries: known values, provider patterns and credential
 * forms, but not the random-looking heuristic (content-addressed names would collide as `[masked].txt`).
 * knowledge/baseline.ts masks names here the same way to find them.
 */
export function maskEntryPath(relativePath: string, secrets: readonly string[] = []): string {
  return maskSecrets(relativePath, secrets, { randomLooking: false });
}

/**
 * Every string of `value` (keys too) through the one masker the reports use: known values, provider
 * patterns, URL credentials, secret flags. File names, link targets, ExecStart words and parse errors are
 * written by whoever controls the scanned home, so they get no exemption.
 */
function scrub<T>(value: T, secrets: string[], hashes?: ReadonlyMap<FileEntry, EntryHash>): T {
  const clean = (text: string): string => maskSecrets(text, secrets);
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return clean(item);
    if (Array.isArray(item)) return item.map(walk);
    if (item && typeof item === 'object') {
      const entries = Object.entries(item).map(([key, inner]): [string, unknown] => {
        // a sha256 is the manifest's own digest (and looks random): the masker would take it for a token
        if (key === 'sha256') return [key, inner];
        // an inventory entry's path is what the comparison joins on: see maskEntryPath
        if (key === 'path' && typeof inner === 'string' && isFileEntry(item)) return [key, maskEntryPath(inner, secrets)];
        return [clean(key), walk(inner)];
      });
      const hash = hashes?.get(item as FileEntry);
      if (hash) entries.push(...Object.entries(hash));
      return Object.fromEntries(entries);
    }
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
 * workspace inventory that holds no secret (streamed, `concurrency` at a time on each of `threads`), owner names. Never holds
 * file contents, secret values or a digest of a secret file; every string passes the reports' masker.
 */
export async function createManifest(scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions): Promise<Manifest> {
  const secrets = [...new Set(scan.secrets ?? [])].filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
  // hashed first (the files are found by their real names), masked after, into a copy: the scanned Machine is left as it is
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  let hashing: ManifestHashing = { algorithm: 'sha256', enabled: false, files: 0, bytes: 0, skipped };
  let hashes: Map<FileEntry, EntryHash> | undefined;
  let problem: ScanProblem | undefined;
  if (opts.hash && rootIsDir(scan.machine.root)) ({ hashing, hashes, problem } = await applyHashes(scan.machine, opts, 'snapshot'));
  const machine = scrub(problem ? { ...scan.machine, problems: [...scan.machine.problems, problem] } : scan.machine, secrets, hashes);
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
export async function hashForBaseline(current: Machine, baseline: Machine, opts: HashingOptions = {}): Promise<Machine> {
  if (!rootIsDir(current.root)) return current;
  const wanted = new Set<FileEntry>();
  const want = (base: FileInventory, here: FileInventory): void => {
    const baseByPath = new Map<string, FileEntry>();
    for (const entry of base.entries) if (entry.type === 'file' && sha256Of(entry) !== undefined) baseByPath.set(entry.path, entry);
    if (baseByPath.size === 0) return;
    for (const entry of here.entries) {
      if (entry.type !== 'file') continue;
      const old = baseByPath.get(entry.path);
      if (old !== undefined && old.size === entry.size) wanted.add(entry);
    }
  };
  for (const match of matchInstalls(baseline, current)) {
    if (!match.current) continue;
    want(match.baseline.inventory, match.current.inventory);
    for (const pair of matchWorkspaces(match.baseline, match.current, match.homeMap)) if (pair.current) want(pair.baseline.inventory, pair.current.inventory);
  }
  if (wanted.size === 0) return current;
  const { hashes, problem } = await applyHashes(current, opts, 'comparison', wanted);
  return withHashes(current, hashes, problem);
}

/**
 * A copy of `machine` whose hashed entries carry their sha256 / hashSkipped, sharing everything else with it
 * (a deep copy of 100,000 entries costs more than the hashing of many of them).
 */
function withHashes(machine: Machine, hashes: ReadonlyMap<FileEntry, EntryHash>, problem: ScanProblem | undefined): Machine {
  const withHash = (entry: FileEntry): FileEntry => {
    const hash = hashes.get(entry);
    return hash ? { ...entry, ...hash } : entry;
  };
  const inventory = (list: FileInventory): FileInventory => ({ ...list, entries: list.entries.map(withHash) });
  return {
    ...machine,
    problems: problem ? [...machine.problems, problem] : machine.problems,
    homes: machine.homes.map((home) => ({
      ...home,
      installs: home.installs.map((install) => ({
        ...install,
        inventory: inventory(install.inventory),
        workspaces: install.workspaces.map((workspace) => ({ ...workspace, inventory: inventory(workspace.inventory) })),
      })),
    })),
  };
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
