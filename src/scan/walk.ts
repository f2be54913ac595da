// The inventory walk: every entry under a root, dot-entries included, symlinks never followed,
// lstat data only (no file is opened). Synchronous on purpose: one lstat after another in a tight
// loop is faster in Node than thousands of promises through the libuv pool, and the CLI has nothing
// else to do meanwhile (see bench/).
import fs from 'node:fs';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { ENTRY_LIMIT_CODE, type FileEntry, type FileInventory, type FileType, type ScanProblem } from '../model.js';
import type { ProgressCounter } from '../progress.js';
import { dirEntries } from './read.js';

/** The scan's default entry limit across all the trees it walks (`--max-entries`): it bounds memory. */
export const DEFAULT_MAX_ENTRIES = 2_000_000;

export interface WalkOptions {
  /** stop listing after this many entries (bounded memory); default DEFAULT_MAX_ENTRIES */
  maxEntries?: number;
  /** relative paths (POSIX) of directories whose contents are not listed, e.g. a nested workspace */
  prune?: (relativePath: string, entry: FileEntry) => boolean;
  /** ticked once per entry listed (the CLI's progress line) */
  progress?: ProgressCounter;
  /** keep what lstat said of each regular file for the hasher (walkIdentityOf) */
  identities?: boolean;
}

export interface WalkResult {
  inventory: FileInventory;
  problems: ScanProblem[];
}

// File-type bits of st_mode (POSIX values; libuv reports the same ones on every platform). Read
// from the mode directly: cheaper than six Stats.isX() calls per entry on a 100k-entry tree.
const S_IFMT = 0o170000;
const TYPE_BY_FORMAT = new Map<number, FileType>([
  [0o100000, 'file'],
  [0o040000, 'dir'],
  [0o120000, 'symlink'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
  [0o060000, 'block'],
  [0o020000, 'char'],
]);

function typeOf(mode: number): FileType {
  return TYPE_BY_FORMAT.get(mode & S_IFMT) ?? 'unknown';
}

/** Shows invalid UTF-8 bytes of a name as \xNN so it stays printable and unambiguous. */
export function displayName(raw: Buffer): string {
  if (isUtf8(raw)) return raw.toString('utf8');
  let out = '';
  for (let i = 0; i < raw.length; ) {
    const byte = raw[i]!;
    const width = byte < 0x80 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 0;
    const chunk = width > 0 ? raw.subarray(i, i + width) : undefined;
    if (chunk && chunk.length === width && isUtf8(chunk)) {
      out += chunk.toString('utf8');
      i += width;
    } else {
      out += `\\x${byte.toString(16).padStart(2, '0')}`;
      i += 1;
    }
  }
  return out;
}

/**
 * What the walk's lstat said of a regular file that the model does not keep: the hasher needs its inode (to
 * read only the file the scan saw), its link count (a second name elsewhere) and its allocated blocks (holes),
 * and would otherwise lstat every file a second time. Kept only when asked (`identities`: a snapshot, or a
 * comparison that hashes), so a plain verify pays nothing for it.
 */
export interface FileIdentity {
  /** as lstat gave them: past 2^53 they are not exact (then the hasher asks with BigInt stats) */
  dev: number;
  ino: number;
  size: number;
  nlink: number;
  blocks: number;
}

// one strong map per walk, reached through its entries array: a WeakMap of 100,000 entries would cost every GC
const identities = new WeakMap<FileEntry[], Map<FileEntry, FileIdentity>>();

/** What the walk saw of a regular file of `inventory` (the walk's own record: read it, never change it); undefined for entries no walk made (tests, archives, copies). */
export function walkIdentityOf(inventory: FileInventory, entry: FileEntry): Readonly<FileIdentity> | undefined {
  return identities.get(inventory.entries)?.get(entry);
}

/**
 * The same number, stored as a small integer when it is one: lstat's numbers come out of a Float64Array, and
 * kept as they are each takes a 16-byte box of its own (3 per entry, ~50 MB on a million entries).
 */
function compact(value: number): number {
  return (value | 0) === value ? value | 0 : value;
}

function entryFromStat(relativePath: string, stat: fs.Stats, hostPath: string | Buffer): FileEntry {
  const type = typeOf(stat.mode);
  const entry: FileEntry = {
    path: relativePath,
    type,
    mode: stat.mode & 0o7777,
    uid: compact(stat.uid),
    gid: compact(stat.gid),
    size: compact(stat.size),
    mtimeMs: Math.trunc(stat.mtimeMs),
  };
  if (type === 'symlink') {
    try {
      entry.linkTarget = displayName(fs.readlinkSync(hostPath, { encoding: 'buffer' }));
    } catch {
      entry.linkTarget = '';
    }
  }
  return entry;
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

interface PendingDir {
  hostPath: string | Buffer;
  relativePath: string;
  entry: FileEntry;
}

/**
 * A directory's names (at most `limit`; `cut` when it holds more), sorted by UTF-16 code unit. `raws` is set
 * only when some name is not valid UTF-8 (then the dir is read a second time for the bytes): `raws[i]` holds
 * the bytes of `names[i]`, or undefined for a name that is valid UTF-8. The common case is a plain string
 * array with the built-in sort: no object per name, no comparator calls. Past the limit, which names are kept
 * is the order the filesystem gives; the walk then says the tree was cut short.
 */
export function readNames(hostPath: string | Buffer, limit = Infinity): { names: string[]; raws?: (Buffer | undefined)[]; cut: boolean } {
  // read one at a time, never more than `limit`: a dir of millions of names is never held whole
  const listed = dirEntries(hostPath, () => true, limit);
  const names = listed.kept.map((entry) => entry.name);
  if (!names.some((name) => name.includes('\uFFFD'))) return { names: names.sort(), cut: listed.cut };
  const raw = dirEntries(hostPath, () => true, limit, 'buffer');
  const decoded = raw.kept.map((entry) => entry.name as unknown as Buffer).map((bytes) => (isUtf8(bytes) ? { name: bytes.toString('utf8'), raw: undefined } : { name: displayName(bytes), raw: bytes }));
  decoded.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return { names: decoded.map((item) => item.name), raws: decoded.map((item) => item.raw), cut: raw.cut };
}

function childHostPath(parent: string | Buffer, name: string, raw?: Buffer): string | Buffer {
  if (!raw && typeof parent === 'string') return parent + path.sep + name;
  const parentBytes = typeof parent === 'string' ? Buffer.from(parent) : parent;
  return Buffer.concat([parentBytes, Buffer.from(path.sep), raw ?? Buffer.from(name)]);
}

/**
 * Walks `hostRoot`, naming entries relative to it; `machineRoot` is the same dir as the scanned
 * machine sees it (they differ in image mode).
 */
export function walkTree(hostRoot: string, machineRoot: string, options: WalkOptions = {}): WalkResult {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const progress = options.progress;
  const problems: ScanProblem[] = [];
  const entries: FileEntry[] = [];
  let rootStat: fs.Stats;
  try {
    rootStat = fs.lstatSync(hostRoot);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      problems.push({ path: machineRoot, code, message: `cannot stat ${machineRoot}: ${code}` });
    }
    return { inventory: { root: machineRoot, exists: false, entries }, problems };
  }
  const rootEntry = entryFromStat('', rootStat, hostRoot);
  entries.push(rootEntry);
  progress?.entryWalked();
  if (rootEntry.type !== 'dir') return { inventory: { root: machineRoot, exists: true, entries }, problems };

  let truncated = false;
  const seen = options.identities ? new Map<FileEntry, FileIdentity>() : undefined;
  if (seen) identities.set(entries, seen);
  const stack: PendingDir[] = [{ hostPath: hostRoot, relativePath: '', entry: rootEntry }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let listing: { names: string[]; raws?: (Buffer | undefined)[]; cut: boolean };
    try {
      // one name more than the budget left: enough to know the tree goes on past it
      listing = readNames(dir.hostPath, maxEntries - entries.length + 1);
    } catch (error) {
      const code = errorCode(error);
      dir.entry.unreadable = code;
      problems.push({
        path: path.posix.join(machineRoot, dir.relativePath),
        code,
        message: `cannot list ${path.posix.join(machineRoot, dir.relativePath)}: ${code}`,
      });
      continue;
    }
    const { names, raws } = listing;
    const prefix = dir.relativePath === '' ? '' : `${dir.relativePath}/`;
    for (let i = 0; i < names.length; i++) {
      if (entries.length >= maxEntries) {
        truncated = true;
        break;
      }
      const name = names[i]!;
      const raw = raws?.[i];
      const relativePath = prefix + name;
      const hostPath = childHostPath(dir.hostPath, name, raw);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(hostPath);
      } catch (error) {
        // vanished between readdir and lstat: a live tree; note it and go on
        problems.push({ path: path.posix.join(machineRoot, relativePath), code: errorCode(error), message: `vanished during the scan` });
        continue;
      }
      const entry = entryFromStat(relativePath, stat, hostPath);
      if (raw) entry.nonUtf8 = true;
      entries.push(entry);
      if (seen && entry.type === 'file') seen.set(entry, { dev: compact(stat.dev), ino: compact(stat.ino), size: compact(stat.size), nlink: compact(stat.nlink), blocks: compact(stat.blocks) });
      progress?.entryWalked();
      if (entry.type === 'dir' && !(options.prune?.(relativePath, entry) ?? false)) {
        stack.push({ hostPath, relativePath, entry });
      }
    }
    if (truncated || listing.cut) {
      truncated = true;
      break;
    }
  }
  if (truncated) {
    problems.push({ path: machineRoot, code: ENTRY_LIMIT_CODE, message: `stopped listing ${machineRoot} after ${entries.length} entries: the scan's entry limit was reached (--max-entries)` });
  }
  return { inventory: { root: machineRoot, exists: true, entries, ...(truncated ? { truncated } : {}) }, problems };
}
