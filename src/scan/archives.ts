// Backup archives near an install, found by their bytes (a `.tgz` named `notes.txt` is still a tgz).
// globby lists the candidates of the user's own `archives` patterns: it already knows dot-files,
// absolute patterns and `~`-free cwd-relative globs, so we do not write a matcher. The fixed dirs
// (home, Downloads, /var/backups, …) need no matcher at all: one readdir each lists their files, as
// globby('*') would. globby and the archive listers (tar-stream, yauzl) are imported only when they
// are needed: loading them costs more than a scan of a machine without archives (see bench/).
// The finding stays in scan/ (it reads the scanned machine: its dirs, owners, shared dirs, through its root);
// what an archive is and holds comes from src/archive/, which `inspect` uses too.
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../knowledge/paths.js';
import { BUDGET_CODE, type BackupArchive, type ScanProblem } from '../model.js';
import { archiveHoldsResonixState, classifyArchiveHead } from '../archive/classify.js';
import { backupArchiveOf } from '../archive/backup-archive.js';
import { budgetSpent, decompressionBudget, formatBytes, type DecompressionBudget } from '../archive/budget.js';
import type { ArchiveInspection } from '../archive/list.js';
import { hostPathInRoot } from './links.js';
import type { ProgressCounter } from '../progress.js';
import { dirEntries, readHead } from './read.js';

const NEAR_HOME = ['', 'Desktop', 'Downloads', 'Documents', 'backup', 'backups', 'Backups'];
const SYSTEM_DIRS = ['/var/backups'];
const MAX_CANDIDATES = 5000;
/** names looked at in one dir searched for backups (`/tmp` may hold millions): past it, the rest are not */
const MAX_NAMES_PER_DIR = 200_000;

export interface FindArchivesOptions {
  root: string;
  homes: string[];
  tmpDir: string;
  /** user globs (absolute, or `~/`-relative to each home) */
  patterns: string[];
  /** state dirs: archives inside them belong to the inventory, not here */
  exclude: string[];
  problems: ScanProblem[];
  /**
   * Owners whose archives in a shared dir (world-writable or sticky: /tmp, $TMPDIR, …) are looked at: the
   * gateway users and root. Anyone else's file there was planted, as far as the tool can tell.
   */
  trustedUids: number[];
  /** ticked with the bytes of archives read (the CLI's progress line) */
  progress?: ProgressCounter;
  /** the scan's decompression budget (default: SCAN_DECOMPRESS_BYTES / SCAN_DECOMPRESS_MS) */
  budget?: DecompressionBudget;
}

/** The files `pattern` matches in `machineDir` (machine paths): its plain files for '*', else what globby finds. */
export async function listDir(root: string, machineDir: string, pattern = '*'): Promise<string[]> {
  const cwd = hostPathInRoot(root, machineDir);
  // a ~/backup that is a file (or missing) has nothing to list
  if (!isDirectory(cwd)) return [];
  const plain = pattern === '*' ? filesIn(cwd) : undefined;
  if (plain) return plain.map((name) => path.posix.join(machineDir, name));
  const { globby } = await import('globby');
  const found = await globby(pattern, { cwd, dot: true, onlyFiles: true, followSymbolicLinks: false, suppressErrors: true, gitignore: false });
  return found.map((relative) => path.posix.join(machineDir, relative));
}

/**
 * The regular files directly in `dir` (dot-files too, symlinks not): what globby('*', { dot: true,
 * onlyFiles: true, followSymbolicLinks: false, suppressErrors: true }) returns, without loading it.
 * Undefined in the odd cases where globby does something else, so the caller asks globby itself: `dir`
 * is not a directory (globby throws), or holds a directory named `*` (globby expands it to `*` + `/**`).
 */
function filesIn(dir: string): string[] | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    return [];
  }
  if (!stat.isDirectory()) return undefined;
  // a shared temp dir anyone can fill: read one entry at a time, keep only files, look at a bounded number
  let entries: fs.Dirent[];
  try {
    entries = dirEntries(dir, (entry) => entry.isFile() || entry.name === '*', MAX_NAMES_PER_DIR).kept;
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.isFile()) files.push(entry.name);
    else if (isDirectory(path.join(dir, entry.name))) return undefined;
  }
  return files;
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

async function candidatePaths(options: FindArchivesOptions): Promise<string[]> {
  const dirs = new Set<string>([options.tmpDir, ...SYSTEM_DIRS]);
  for (const home of options.homes) for (const sub of NEAR_HOME) dirs.add(path.posix.join(home, sub));
  const found: string[] = [];
  for (const dir of dirs) found.push(...(await listDir(options.root, dir)));
  for (const pattern of options.patterns) {
    const homesForPattern = pattern.startsWith('~/') ? options.homes : ['/'];
    for (const home of homesForPattern) {
      const glob = pattern.startsWith('~/') ? pattern.slice(2) : pattern.replace(/^\/+/, '');
      found.push(...(await listDir(options.root, home, glob)));
    }
  }
  return [...new Set(found)].filter((file) => !options.exclude.some((dir) => isInside(file, dir))).sort().slice(0, MAX_CANDIDATES);
}

const NAMED_LIKE_RESONIX = /resonix/i;

/** What one scan shares between its archives: the budget, and what each inode turned out to be. */
export interface ArchiveScanState {
  budget?: DecompressionBudget;
  /** `dev:ino` → its listing, or null when it is no archive: hard links are opened once */
  seen?: Map<string, ArchiveInspection | null>;
  /** the budget ran out and a problem says so (said once per scan) */
  budgetReported?: boolean;
  progress?: ProgressCounter;
}

function reportBudget(state: ArchiveScanState, machinePath: string, problems: ScanProblem[]): void {
  if (state.budgetReported || !state.budget) return;
  state.budgetReported = true;
  const { bytes, ms } = state.budget;
  problems.push({
    path: machinePath,
    code: BUDGET_CODE,
    message: `stopped looking into archives at ${machinePath}: the scan's decompression budget (${formatBytes(bytes)} or ${Math.round(ms / 1000)} s for all archives) was spent; archives past it were judged by name only`,
  });
}

async function inspectOnce(file: string, stat: fs.Stats, machinePath: string, problems: ScanProblem[], state: ArchiveScanState): Promise<ArchiveInspection | undefined> {
  let head: Buffer;
  try {
    head = readHead(file, 4096);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') problems.push({ path: machinePath, code, message: `cannot read ${machinePath} to check whether it is a backup` });
    return undefined;
  }
  const classified = classifyArchiveHead(head);
  if (classified.format === 'unknown') return undefined;
  if (classified.encrypted) return { ...classified };
  if (budgetSpent(state.budget)) {
    reportBudget(state, machinePath, problems);
    return { ...classified };
  }
  const listing = await (await import('../archive/list.js')).inspectArchiveFile(file, {
    ...(state.budget ? { budget: state.budget } : {}),
    expected: { dev: stat.dev, ino: stat.ino },
    ...(state.progress ? { progress: state.progress } : {}),
  });
  if (listing.limitHit === 'budget') reportBudget(state, machinePath, problems);
  if (listing.listError) problems.push({ path: machinePath, code: 'EARCHIVE', message: `${machinePath}: ${listing.listError}` });
  return listing;
}

export async function describeArchive(
  root: string,
  machinePath: string,
  problems: ScanProblem[],
  options: { keepMembers?: boolean; tmpDir?: string; state?: ArchiveScanState } = {},
): Promise<BackupArchive | undefined> {
  const file = hostPathInRoot(root, machinePath);
  const state = options.state ?? {};
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isFile() || stat.size < 32) return undefined;
  const key = `${stat.dev}:${stat.ino}`;
  let listing: ArchiveInspection | undefined;
  if (state.seen?.has(key)) {
    listing = state.seen.get(key) ?? undefined;
  } else {
    listing = await inspectOnce(file, stat, machinePath, problems, state);
    state.seen?.set(key, listing ?? null);
  }
  if (!listing) return undefined;
  const members = listing.members;
  const held = members ? archiveHoldsResonixState(members) : { holdsResonixState: false, secretMembers: [] };
  const opaque = !members;
  // an archive we cannot look into counts as a Resonix backup only when its name says so
  const holdsResonixState = held.holdsResonixState || (opaque && NAMED_LIKE_RESONIX.test(path.posix.basename(machinePath)));
  if (!holdsResonixState) return undefined;
  return backupArchiveOf(machinePath, stat, listing, {
    holdsResonixState,
    secretMembers: held.secretMembers,
    keepMembers: options.keepMembers === true,
    ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}),
  });
}

/** A dir anyone may add files to: world-writable, or sticky (/tmp, /var/tmp, /dev/shm, most $TMPDIRs). */
function isSharedDir(stat: fs.Stats): boolean {
  return (stat.mode & 0o002) !== 0 || (stat.mode & 0o1000) !== 0;
}

/** True when `machinePath` lies below a shared dir (any ancestor): files there may have been planted by anyone. */
function inSharedDir(root: string, machinePath: string, cache: Map<string, boolean>): boolean {
  for (let dir = path.posix.dirname(machinePath); ; dir = path.posix.dirname(dir)) {
    let shared = cache.get(dir);
    if (shared === undefined) {
      try {
        shared = isSharedDir(fs.statSync(hostPathInRoot(root, dir)));
      } catch {
        shared = false;
      }
      cache.set(dir, shared);
    }
    if (shared) return true;
    if (path.posix.dirname(dir) === dir) return false;
  }
}

function ownerOf(root: string, machinePath: string): number | undefined {
  try {
    return fs.lstatSync(hostPathInRoot(root, machinePath)).uid;
  } catch {
    return undefined;
  }
}

export async function findBackupArchives(options: FindArchivesOptions): Promise<BackupArchive[]> {
  const archives: BackupArchive[] = [];
  const trusted = new Set([0, ...options.trustedUids]);
  const shared = new Map<string, boolean>();
  const state: ArchiveScanState = { budget: options.budget ?? decompressionBudget(), seen: new Map(), ...(options.progress ? { progress: options.progress } : {}) };
  for (const candidate of await candidatePaths(options)) {
    // in a shared dir only the gateway users' and root's files are opened: never a stranger's gzip bomb
    if (inSharedDir(options.root, candidate, shared)) {
      const uid = ownerOf(options.root, candidate);
      if (uid === undefined || !trusted.has(uid)) continue;
    }
    const archive = await describeArchive(options.root, candidate, options.problems, { tmpDir: options.tmpDir, state });
    if (archive) archives.push(archive);
  }
  return archives;
}
