// `snapshot`: the scanned Machine, masked, plus the sha256 of every regular file of each install's and
// workspace's inventory that holds no secret (by name, by the name it is a copy of, or by inode), each inode
// read once and at most MAX_TOTAL_HASHED_BYTES in all, written as gzip'd JSON, 0600, without any secret value.
// See README.md here for the schema, the hash policy and why gzip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { copyOriginals, hasSecretName, holdsSecretValue, startsSecretPlace } from '../knowledge/layout.js';
import { BUDGET_CODE, type FileEntry, type FileInventory, type Install, type Machine, type ScanProblem } from '../model.js';
import { whatMustTravel } from '../plan.js';
import { TOOL } from '../version.js';
import { collectAtPhaseEnd } from '../memory.js';
import { entryWith } from '../knowledge/entry-copy.js';
import { hostPathInRoot } from '../scan/links.js';
import { walkIdentityOf } from '../scan/walk.js';
import { maskSecrets } from '../knowledge/mask.js';
import type { ProgressCounter } from '../progress.js';
import { DEFAULT_CONCURRENCY, fileIdOf, looksSparse, MAX_HASHED_BYTES, MAX_TOTAL_HASHED_BYTES, type HashJob, type HashOutcome } from './hash.js';
import { formatBytes } from '../archive/budget.js';
import { hashEachOnThreads, workerModuleExists, type HashOnThreadsOptions, type JobList } from './hash-threads.js';
import { matchInstalls, matchWorkspaces } from '../knowledge/baseline-match.js';
import { HASH_SKIP_REASONS, sha256Of, type HashedFileEntry, type HashSkipReason } from '../knowledge/baseline.js';
import { MANIFEST_VERSION, type Manifest, type ManifestHashing } from './types.js';
import { errorOf, GzipMembers, MEMBER_CHARS, type GzipWorkerData, type GzipWorkerMessage, type GzipWorkerReply } from './gzip-members.js';

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
  if (entry.path === '') return inventory.root;
  return inventory.root.endsWith('/') ? inventory.root + entry.path : `${inventory.root}/${entry.path}`;
}

function rootIsDir(root: string): boolean {
  try {
    return fs.statSync(root).isDirectory();
  } catch {
    return false;
  }
}

/** A secret-named symlink (or one in a dir such a link points at), and where it is. */
interface Target {
  entry: HashedFileEntry;
  inventory: FileInventory;
  machinePath: string;
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

/** One inventory whose files are hashed, with its policy. */
interface HashedList {
  inventory: FileInventory;
  /** true for a file withheld by its name or place (hashPolicy, and the dirs a secret-named symlink points at) */
  withhold: (entry: FileEntry) => boolean;
  /** this inventory's root is inside another's, or another's inside it: one path can be listed twice */
  overlaps: boolean;
}

function isInsideOrSame(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/**
 * Every install and workspace inventory with its hash policy. The symlinks count for what they point at: the
 * files under a dir a secret-named symlink points at are withheld too (`credentials -> private`), and the
 * files those symlinks point at are collected in `secretLinks` (applyHashes withholds their inodes).
 */
function hashedLists(machine: Machine): { lists: HashedList[]; secretLinks: Target[] } {
  const lists: HashedList[] = [];
  const secretLinks: Target[] = [];
  for (const home of machine.homes) {
    for (const install of home.installs) {
      const trees: { inventory: FileInventory; kind: 'state' | 'workspace' }[] = [
        { inventory: install.inventory, kind: 'state' },
        ...install.workspaces.map((workspace) => ({ inventory: workspace.inventory, kind: 'workspace' as const })),
      ];
      for (const { inventory, kind } of trees) {
        if (!inventory.exists) continue;
        const byName = hashPolicy(kind, includedFiles(install, inventory.root));
        const links: Target[] = [];
        for (const entry of inventory.entries) {
          if (entry.type === 'symlink' && byName(entry.path)) links.push({ entry, inventory, machinePath: absoluteOf(inventory, entry) });
        }
        const secretDirs = dirsLinkedAsSecret(machine.root, inventory, links);
        const underSecretDir = (relativePath: string): boolean => secretDirs.some((dir) => dir === '' || relativePath.startsWith(`${dir}/`));
        secretLinks.push(...links);
        // a symlink in such a dir is as secret as a file there: what it points at is withheld too
        for (const entry of secretDirs.length > 0 ? inventory.entries : []) {
          if (entry.type === 'symlink' && !byName(entry.path) && underSecretDir(entry.path)) secretLinks.push({ entry, inventory, machinePath: absoluteOf(inventory, entry) });
        }
        lists.push({ inventory, overlaps: false, withhold: secretDirs.length === 0 ? (entry) => byName(entry.path) : (entry) => byName(entry.path) || underSecretDir(entry.path) });
      }
    }
  }
  for (const list of lists) {
    list.overlaps = lists.some((other) => other !== list && (isInsideOrSame(list.inventory.root, other.inventory.root) || isInsideOrSame(other.inventory.root, list.inventory.root)));
  }
  return { lists, secretLinks };
}

/** What lstat says of a file now, when the walk did not say it exactly (undefined: gone, unreadable, or no regular file). */
function fileNow(hostPath: string): Inode | undefined {
  try {
    const stat = fs.lstatSync(hostPath, { bigint: true, throwIfNoEntry: false });
    return stat?.isFile() ? { key: inodeKey(stat.dev, stat.ino), exactId: fileIdOf(stat), size: Number(stat.size), blocks: Number(stat.blocks), nlink: Number(stat.nlink) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A file's inode as the hashing needs it: `key` to tell inodes apart in maps, and what its `dev:ino` for the
 * hasher's check (idOf) is made from: the walk's exact numbers, or BigInt stats' text.
 */
interface Inode {
  key: number | string;
  dev?: number;
  ino?: number;
  exactId?: string;
  size: number;
  nlink: number;
  blocks: number;
}

/** One number for a dev:ino when it fits exactly (a map of numbers is cheaper than one of strings), else the `dev:ino` text. */
function inodeKey(dev: number | bigint, ino: number | bigint): number | string {
  return dev < 0x100000 && ino < 0x100000000 ? Number(dev) * 0x100000000 + Number(ino) : `${dev}:${ino}`;
}

/** What the walk's lstat said of the file, when its numbers are exact; else undefined (lstat it again, with BigInt). */
function walkedInode(inventory: FileInventory, entry: FileEntry): Inode | undefined {
  const seen = walkIdentityOf(inventory, entry);
  if (!seen || !Number.isSafeInteger(seen.dev) || !Number.isSafeInteger(seen.ino)) return undefined;
  return { key: inodeKey(seen.dev, seen.ino), dev: seen.dev, ino: seen.ino, size: seen.size, nlink: seen.nlink, blocks: seen.blocks };
}

/** The `dev:ino` the hasher checks the open file against, made when its job is (100,000 held at once cost ~4 MB). */
function idOf(inode: Inode): string {
  return inode.exactId ?? `${inode.dev}:${inode.ino}`;
}

/** The record a hashed entry carries: its sha256, or why it has none. */
export type HashRecord = { sha256: string } | { hashSkipped: HashSkipReason };

/**
 * What hashing gave each entry it decided on, kept compactly: the digests side by side in one buffer, reasons as
 * small numbers; the record of an entry is made when it is asked for (100,000 outcome objects and digest
 * strings held at once cost ~20 MB).
 */
export class EntryHashes {
  private readonly decided = new Map<FileEntry, number>();
  private digests: Buffer;
  private readonly reasons: Uint8Array;

  constructor(jobs: number) {
    this.digests = Buffer.alloc(jobs * 32);
    this.reasons = new Uint8Array(jobs);
  }

  /** an entry decided without reading (`reason`), or by the outcome of job `job` */
  set(entry: FileEntry, decision: Decision): void {
    this.decided.set(entry, decision);
  }

  /** job `job`'s outcome: its digest or its reason */
  setOutcome(job: number, outcome: HashOutcome): void {
    if ('sha256' in outcome) this.digests.write(outcome.sha256, job * 32, 32, 'hex');
    else this.reasons[job] = 1 + HASH_SKIP_REASONS.indexOf(outcome.skipped);
  }

  recordOf(entry: FileEntry): HashRecord | undefined {
    const decision = this.decided.get(entry);
    if (decision === undefined) return undefined;
    if (decision < 0) return { hashSkipped: HASH_SKIP_REASONS[-1 - decision]! };
    const reason = this.reasons[decision]!;
    return reason === 0 ? { sha256: this.digests.toString('hex', decision * 32, decision * 32 + 32) } : { hashSkipped: HASH_SKIP_REASONS[reason - 1]! };
  }
}

/** A job's index (≥ 0), or a reason decided without reading: -1 - its index in HASH_SKIP_REASONS. */
type Decision = number;

function skippedFor(reason: HashSkipReason): Decision {
  return -1 - HASH_SKIP_REASONS.indexOf(reason);
}

interface AppliedHashes {
  hashing: ManifestHashing;
  /** the entries that got a digest or a reason (the Machine itself is left as it is) */
  hashes: EntryHashes;
  /** EBUDGET: where hashing stopped, when the budget was spent */
  problem?: ScanProblem;
}

/**
 * Hashes the regular files of `machine`'s inventories (those `wanted` says, when given), each inode once:
 * its other names take the same digest. Nothing is read of a file withheld by name (hashPolicy), of a second
 * name of one (a hard link, any name) or of the file a secret-named symlink points at, nor past
 * `maxTotalBytes` in all (the rest go without a hash, and a problem says so). What the walk's lstat saw
 * (walkIdentityOf) decides all of this, with no second lstat (entries no walk made are lstat'ed once here); the
 * hasher then reads only the inode the scan saw.
 *
 * Kept per file: the entry, its list, its inode (the walk's, or one lstat) and one decision, in parallel
 * arrays; paths are built only where a decision needs them and for each job as it is sent. On 100,000 files
 * the objects per file this replaced held ~60 MB at once.
 */
async function applyHashes(machine: Machine, opts: HashingOptions, purpose: 'snapshot' | 'comparison', wanted?: { has(entry: FileEntry): boolean }): Promise<AppliedHashes> {
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  const maxTotalBytes = opts.maxTotalBytes ?? MAX_TOTAL_HASHED_BYTES;
  const budget = { maxBytes: maxTotalBytes, cutFiles: 0, cutBytes: 0 };
  const hashing: ManifestHashing = { algorithm: 'sha256', enabled: true, files: 0, bytes: 0, skipped, budget };
  const { lists, secretLinks } = hashedLists(machine);
  const hostPathOf = (list: HashedList, entry: FileEntry): string => hostPathInRoot(machine.root, absoluteOf(list.inventory, entry));

  // the candidates, side by side: entry, list, inode, withheld by name
  const entries: FileEntry[] = [];
  const listOf: HashedList[] = [];
  const inodes: (Inode | undefined)[] = [];
  const withheld: boolean[] = [];
  // the inodes of every file withheld by name, whichever inventory lists it (or whichever link names it), and,
  // where one path can be in two inventories, the paths themselves
  const secretKeys = new Set<number | string>();
  const secretPaths = new Set<string>();
  for (const list of lists) {
    for (const entry of list.inventory.entries) {
      if (entry.type !== 'file') continue;
      const want = !wanted || wanted.has(entry);
      const withhold = list.withhold(entry);
      if (!want && !withhold) continue;
      const inode = walkedInode(list.inventory, entry) ?? fileNow(hostPathOf(list, entry));
      if (want) {
        entries.push(entry);
        listOf.push(list);
        inodes.push(inode);
        withheld.push(withhold);
      }
      if (!withhold) continue;
      if (inode) secretKeys.add(inode.key);
      if (list.overlaps) secretPaths.add(absoluteOf(list.inventory, entry));
    }
  }
  for (const link of secretLinks) {
    const file = fileNow(hostPathInRoot(machine.root, link.machinePath, { followLast: true }));
    if (file) secretKeys.add(file.key);
  }

  // a file with more hard links than the names the scan saw has a name elsewhere, which may be a secret
  // (~/.ssh/id_ed25519 linked into a workspace as notes.txt): its digest is withheld like a secret's.
  const namesSeen = new Map<number | string, Set<string>>();
  for (let c = 0; c < entries.length; c++) {
    const inode = inodes[c];
    if (!inode || inode.nlink < 2) continue;
    const names = namesSeen.get(inode.key) ?? new Set<string>();
    names.add(absoluteOf(listOf[c]!.inventory, entries[c]!));
    namesSeen.set(inode.key, names);
  }

  // one decision per inode (per path when lstat found no regular file: the hasher says why), in inventory order:
  // an inode can have two names, or be reached twice (a bind mount); a path, only when two inventories list it
  const firstOf = new Map<number | string, Decision | undefined>();
  const perFileCap = Math.min(MAX_HASHED_BYTES, maxTotalBytes);
  const jobOf: number[] = []; // job → candidate
  const decisions: (Decision | undefined)[] = new Array(entries.length);
  let budgeted = 0;
  let firstCut: string | undefined;
  for (let c = 0; c < entries.length; c++) {
    const entry = entries[c]!;
    const list = listOf[c]!;
    const inode = inodes[c];
    const key = inode ? inode.key : list.overlaps ? `path:${absoluteOf(list.inventory, entry)}` : undefined;
    if (key !== undefined) {
      if (firstOf.has(key)) {
        decisions[c] = firstOf.get(key);
        continue;
      }
    }
    const size = entry.size;
    const linkedElsewhere = inode !== undefined && inode.nlink > (namesSeen.get(inode.key)?.size ?? 1);
    const secret = withheld[c]! || (list.overlaps && secretPaths.has(absoluteOf(list.inventory, entry))) || (inode !== undefined && secretKeys.has(inode.key));
    let decision: Decision | undefined;
    if (secret || linkedElsewhere) decision = skippedFor('secret');
    else if (inode && inode.size !== size) decision = skippedFor('changed');
    else if (inode && looksSparse(inode)) decision = skippedFor('sparse');
    else if (size > perFileCap) decision = skippedFor('too-big');
    else if (firstCut !== undefined || budgeted + size > maxTotalBytes) {
      firstCut ??= absoluteOf(list.inventory, entry);
      budget.cutFiles += 1;
      budget.cutBytes += size;
    } else {
      budgeted += size;
      decision = jobOf.length;
      jobOf.push(c);
    }
    decisions[c] = decision;
    if (key !== undefined) firstOf.set(key, decision);
    // each inode counted once, however many names and inventories it has (the cut ones are counted above, the jobs as they come)
    if (decision !== undefined && decision < 0) skipped[HASH_SKIP_REASONS[-1 - decision]!] += 1;
  }
  firstOf.clear();
  namesSeen.clear();
  // the walk identities and paths the decisions made are dead: the hashing starts from what they keep
  collectAtPhaseEnd(entries.length);

  const hashes = new EntryHashes(jobOf.length);
  const jobs: JobList = {
    length: jobOf.length,
    sizeAt: (job) => entries[jobOf[job]!]!.size,
    slice: (start, end) => {
      const made: HashJob[] = [];
      for (let job = start; job < end; job++) {
        const c = jobOf[job]!;
        const inode = inodes[c];
        made.push({ hostPath: hostPathOf(listOf[c]!, entries[c]!), expectedSize: entries[c]!.size, ...(inode ? { expectedId: idOf(inode) } : {}) });
      }
      return made;
    },
  };
  await hashEachOnThreads(
    jobs,
    (job, outcome) => {
      hashes.setOutcome(job, outcome);
      if ('sha256' in outcome) {
        hashing.files += 1;
        hashing.bytes += outcome.bytes;
      } else skipped[outcome.skipped] += 1;
    },
    {
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.workersFrom ? { workersFrom: opts.workersFrom } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    },
  );
  for (let c = 0; c < entries.length; c++) {
    const decision = decisions[c];
    if (decision !== undefined) hashes.set(entries[c]!, decision);
  }
  collectAtPhaseEnd(entries.length);
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
 * Pieces of JSON text are handed on from this size: each piece (a few hundred characters more at most) stays
 * under 64K characters, a young-generation string that the next scavenge frees once the sink is done with it
 * (a string over 128 KiB goes to the large-object space, freed only by a full GC).
 */
const PIECE_CHARS = 60 * 1024;

/**
 * The manifest's JSON text, handed to `sink` piece by piece as it is produced, exactly as JSON.stringify would
 * write the masked document: every string of the Machine (keys too) through the one masker the reports use
 * (known values, provider patterns, URL credentials, secret flags; file names, link targets, ExecStart words
 * and parse errors are written by whoever controls the scanned home, so they get no exemption), and each
 * hashed file entry followed by its sha256/hashSkipped. Neither the masked document as objects nor its whole
 * text is ever held: on 100,000 entries either cost more memory than the scan itself.
 */
function manifestPieces(head: Pick<Manifest, 'manifest' | 'tool' | 'createdAt' | 'hashing'>, machine: Machine, tail: Pick<Manifest, 'owners' | 'move'>, secrets: string[], hashes: EntryHashes | undefined, sink: (piece: string) => void): void {
  // small strings gathered and joined into one flat string per piece: `+=` would build ropes of millions of nodes
  let parts: string[] = [];
  let chars = 0;
  const emit = (text: string): void => {
    parts.push(text);
    chars += text.length;
  };
  // keys and short values repeat on every entry ("path", "mode", "file"): each is masked once
  const seen = new Map<string, string>();
  const clean = (text: string): string => {
    if (text.length > 24) return maskSecrets(text, secrets);
    let masked = seen.get(text);
    if (masked === undefined) {
      masked = maskSecrets(text, secrets);
      seen.set(text, masked);
    }
    return masked;
  };
  const keys = new Map<string, string>();
  const keyText = (name: string): string => {
    let text = keys.get(name);
    if (text === undefined) {
      text = `${JSON.stringify(clean(name))}:`;
      keys.set(name, text);
    }
    return text;
  };
  const flush = (): void => {
    if (chars < PIECE_CHARS) return;
    sink(parts.join(''));
    parts = [];
    chars = 0;
  };
  const write = (item: unknown, key?: string, owner?: object): void => {
    if (typeof item === 'string') {
      // an inventory entry's path is what the comparison joins on: see maskEntryPath
      emit(JSON.stringify(key === 'path' && owner !== undefined && isFileEntry(owner) ? maskEntryPath(item, secrets) : clean(item)));
    } else if (typeof item === 'number') emit(JSON.stringify(item));
    else if (typeof item === 'boolean' || item === null) emit(String(item));
    else if (Array.isArray(item)) {
      emit('[');
      for (let i = 0; i < item.length; i++) {
        if (i > 0) emit(',');
        const inner: unknown = item[i];
        if (inner === undefined || typeof inner === 'function') emit('null');
        else write(inner);
        flush();
      }
      emit(']');
    } else if (typeof item === 'object') {
      emit('{');
      let first = true;
      const field = (name: string, inner: unknown): void => {
        if (inner === undefined || typeof inner === 'function') return;
        emit(first ? keyText(name) : `,${keyText(name)}`);
        first = false;
        write(inner, name, item);
      };
      const fields = (from: object): void => {
        // for…in in Object.entries' order, without a [key, value] array per field of 100,000 entries
        for (const name in from) {
          if (!Object.hasOwn(from, name)) continue;
          const inner: unknown = (from as Record<string, unknown>)[name];
          // a sha256 is the manifest's own digest (and looks random): the masker would take it for a token
          if (name === 'sha256' && typeof inner === 'string') {
            emit(`${first ? '' : ','}"sha256":${JSON.stringify(inner)}`);
            first = false;
          } else field(name, inner);
        }
      };
      fields(item);
      const record = hashes?.recordOf(item as FileEntry);
      if (record) fields(record);
      emit('}');
    } else throw new TypeError(`a manifest holds no ${typeof item}`);
  };
  emit(JSON.stringify(head).slice(0, -1));
  emit(',"machine":');
  write(machine);
  emit(`,"owners":${JSON.stringify(tail.owners)}`);
  if (tail.move !== undefined) {
    emit(',"move":');
    write(tail.move);
  }
  emit('}');
  sink(parts.join(''));
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

/** A manifest as the JSON text it is written as (in pieces), and what its hashing did. */
export interface ManifestText {
  pieces: string[];
  hashing: ManifestHashing;
}

/** Hands a manifest's text to `sink`, piece by piece; the same text each time it is called. */
type TextProducer = (sink: (piece: string) => void) => void;

/** A manifest whose files are hashed, ready to be produced as text (as often as asked). */
interface ManifestSource {
  hashing: ManifestHashing;
  produce: TextProducer;
}

/**
 * The manifest of a scan, to be produced as JSON text: the Machine masked, the sha256 of every regular file of
 * each install and workspace inventory that holds no secret (streamed, `concurrency` at a time on each of
 * `threads`), owner names, what must travel. Never holds file contents, secret values or a digest of a secret
 * file; every string of the Machine passes the reports' masker. The scanned Machine is left as it is.
 */
async function manifestSource(scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions): Promise<ManifestSource> {
  const secrets = [...new Set(scan.secrets ?? [])].filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
  // hashed first (the files are found by their real names), masked as the text is written
  const skipped = Object.fromEntries(HASH_SKIP_REASONS.map((reason) => [reason, 0])) as Record<HashSkipReason, number>;
  let hashing: ManifestHashing = { algorithm: 'sha256', enabled: false, files: 0, bytes: 0, skipped };
  let hashes: EntryHashes | undefined;
  let problem: ScanProblem | undefined;
  if (opts.hash && rootIsDir(scan.machine.root)) ({ hashing, hashes, problem } = await applyHashes(scan.machine, opts, 'snapshot'));
  const machine = problem ? { ...scan.machine, problems: [...scan.machine.problems, problem] } : scan.machine;
  const owners = ownersOf(machine);
  for (const names of [owners.users, owners.groups]) for (const [id, name] of Object.entries(names)) names[id] = maskSecrets(name, secrets);
  const head: Pick<Manifest, 'manifest' | 'tool' | 'createdAt' | 'hashing'> = { manifest: MANIFEST_VERSION, tool: { name: TOOL.name, version: TOOL.version }, createdAt: (opts.now ?? new Date()).toISOString(), hashing };
  const tail = { owners, move: whatMustTravel(machine) };
  return { hashing, produce: (sink) => manifestPieces(head, machine, tail, secrets, hashes, sink) };
}

/** The manifest of a scan (manifestSource) as JSON text, in pieces, all held: for callers that want the text. */
export async function manifestText(scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions): Promise<ManifestText> {
  const { hashing, produce } = await manifestSource(scan, opts);
  const pieces: string[] = [];
  produce((piece) => pieces.push(piece));
  return { pieces, hashing };
}

/** The manifest of a scan as an object (manifestText, read back): what `verify --against` would read of it. */
export async function createManifest(scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions): Promise<Manifest> {
  return JSON.parse((await manifestText(scan, opts)).pieces.join('')) as Manifest;
}

/**
 * Hashes the files of `current` that a comparison with `baseline` needs: those whose baseline entry (in the
 * matched install/workspace, same relative path) has a sha256 and the same size. Returns a copy of
 * `current`; its other entries are left without a hash. The same policy withholds the same files.
 */
export async function hashForBaseline(current: Machine, baseline: Machine, opts: HashingOptions = {}): Promise<Machine> {
  if (!rootIsDir(current.root)) return current;
  // each wanted entry → the baseline's digest of it
  const wanted = new Map<FileEntry, string>();
  const want = (base: FileInventory, here: FileInventory): void => {
    // both inventories come from the same walk, in the same order: a faithful copy lines up entry by entry,
    // and the map of the baseline's paths is built only at the first entry that does not
    let indexOf: Map<string, number> | undefined;
    let next = 0;
    for (const entry of here.entries) {
      let old = base.entries[next];
      if (old !== undefined && old.path === entry.path) next += 1;
      else {
        indexOf ??= new Map(base.entries.map((item, index) => [item.path, index]));
        const at = indexOf.get(entry.path);
        old = at === undefined ? undefined : base.entries[at];
        if (at !== undefined) next = at + 1; // in line again from here
      }
      const digest = old?.type === 'file' && old.size === entry.size ? sha256Of(old) : undefined;
      if (entry.type === 'file' && digest !== undefined) wanted.set(entry, digest);
    }
  };
  for (const match of matchInstalls(baseline, current)) {
    if (!match.current) continue;
    want(match.baseline.inventory, match.current.inventory);
    for (const pair of matchWorkspaces(match.baseline, match.current, match.homeMap)) if (pair.current) want(pair.baseline.inventory, pair.current.inventory);
  }
  if (wanted.size === 0) return current;
  const { hashes, problem } = await applyHashes(current, opts, 'comparison', wanted);
  return withHashes(current, hashes, problem, wanted);
}

/**
 * A copy of `machine` whose hashed entries carry their sha256 / hashSkipped, sharing everything else with it
 * (a deep copy of 100,000 entries costs more than the hashing of many of them).
 */
function withHashes(machine: Machine, hashes: EntryHashes, problem: ScanProblem | undefined, baselineDigests: ReadonlyMap<FileEntry, string>): Machine {
  const withHash = (entry: FileEntry): FileEntry => {
    const record = hashes.recordOf(entry);
    if (!record) return entry;
    // the same content as the baseline's (a faithful copy, the common case): its digest string is shared, not held twice
    const same = 'sha256' in record && record.sha256 === baselineDigests.get(entry);
    return entryWith<FileEntry>(entry, same ? { sha256: baselineDigests.get(entry)! } : record);
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

export interface WriteOptions {
  /** the compressing worker's module (tests: one that fails); null: compress on this thread; default the compiled gzip-worker.js beside this module */
  gzipWorker?: URL | null;
}

/** Which thread compressed a manifest: the worker, or this one (a small text, no worker to hand, or it died). */
export type CompressedBy = 'worker' | 'main thread';

export interface WrittenManifest {
  compressedBy: CompressedBy;
}

// Compiled beside this module; when running from the TypeScript sources (vitest) there is none, and the text
// is compressed on this thread.
const GZIP_WORKER = new URL('./gzip-worker.js', import.meta.url);


/** How the worker's run ended: its reply, or its death (it could not start, it crashed) before one. */
type WorkerEnd = GzipWorkerReply | { died: true };

function endOf(worker: Worker): Promise<WorkerEnd> {
  return new Promise((resolve) => {
    worker.on('message', (reply: GzipWorkerReply) => resolve(reply));
    worker.on('error', () => undefined); // an exit follows
    worker.on('exit', () => resolve({ died: true }));
  });
}

/**
 * Writes the text `produce` hands its sink to `fd` as gzip members (gzip-members.ts). Once the text passes
 * one member, a worker thread compresses and writes it while this thread goes on producing it: both cores
 * busy, and no more of the text held than the worker has yet to take. A smaller text, or one with no worker
 * to hand (none compiled, it would not start), is compressed here. When the worker dies before it is done,
 * what it wrote is dropped and the text produced again and compressed here: the same bytes, only later.
 */
async function writeCompressed(fd: number, produce: TextProducer, workerFile: URL | undefined): Promise<CompressedBy> {
  let here: GzipMembers | undefined;
  let worker: Worker | undefined;
  let end: Promise<WorkerEnd> | undefined;
  // the first member's pieces, held until it is clear the text is worth a worker
  let first: string[] | undefined = workerFile ? [] : undefined;
  let chars = 0;
  const local = (): GzipMembers => (here ??= new GzipMembers(fd));
  const post = (message: GzipWorkerMessage): void => worker!.postMessage(message);
  const start = (held: string[]): void => {
    try {
      const data: GzipWorkerData = { fd };
      worker = new Worker(workerFile!, { workerData: data });
    } catch {
      for (const piece of held) local().add(piece);
      return;
    }
    end = endOf(worker);
    for (const piece of held) post(piece);
  };
  const sink = (piece: string): void => {
    if (worker) post(piece);
    else if (first) {
      first.push(piece);
      chars += piece.length;
      if (chars < MEMBER_CHARS) return;
      const held = first;
      first = undefined;
      start(held);
    } else local().add(piece);
  };
  const text: TextProducer = (into) => {
    produce(into);
    into('\n');
  };
  try {
    text(sink);
    if (first) for (const piece of first) local().add(piece);
    if (!worker || !end) {
      local().end();
      return 'main thread';
    }
    post(null);
    const outcome = await end;
    if ('failed' in outcome) throw errorOf(outcome.failed);
    if ('done' in outcome) return 'worker';
  } finally {
    // stopped before the file is closed: no write of the worker's can land after
    await worker?.terminate().catch(() => undefined);
  }
  // the worker died: start again, here
  fs.ftruncateSync(fd, 0);
  const again = new GzipMembers(fd);
  text((piece) => again.add(piece));
  again.end();
  return 'main thread';
}

/**
 * Writes a manifest gzip-compressed, 0600, through a temp file in the same dir and a rename: never a
 * half-written manifest, and on any error no temp file left. `zcat m.json | jq .` reads one.
 */
async function writeText(file: string, produce: TextProducer, options: WriteOptions): Promise<WrittenManifest> {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const temp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const workerFile = options.gzipWorker === null ? undefined : (options.gzipWorker ?? GZIP_WORKER);
  let compressedBy: CompressedBy;
  const handle = await fs.promises.open(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    await handle.chmod(0o600); // whatever the umask
    compressedBy = await writeCompressed(handle.fd, produce, workerFile && workerModuleExists(workerFile) ? workerFile : undefined);
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
  return { compressedBy };
}

/** Writes a manifest, or a manifest's text, as `snapshot` does (writeText). */
export async function writeManifest(file: string, manifest: Manifest | ManifestText, options: WriteOptions = {}): Promise<WrittenManifest> {
  const produce: TextProducer = 'pieces' in manifest ? (sink) => manifest.pieces.forEach((piece) => sink(piece)) : (sink) => sink(JSON.stringify(manifest));
  return writeText(file, produce, options);
}

/**
 * `snapshot`: hashes the scan's files and writes its manifest (writeText) while its text is produced, never
 * all of the text at once. What the manifest says of its hashing, and where it was compressed.
 */
export async function writeSnapshot(file: string, scan: { machine: Machine; secrets?: Iterable<string> }, opts: SnapshotOptions & WriteOptions): Promise<WrittenManifest & { hashing: ManifestHashing }> {
  const { hashing, produce } = await manifestSource(scan, opts);
  return { hashing, ...(await writeText(file, produce, opts)) };
}
