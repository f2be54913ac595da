// Bounded reads for the few rules that need file contents. Never opens anything but a regular
// file (a FIFO would block, a device could be endless), never follows a symlink.
import { isAscii } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../knowledge/paths.js';

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;

export class NotRegularFileError extends Error {
  constructor(readonly hostPath: string, readonly kind: string) {
    super(`not a regular file (${kind})`);
  }
}

/**
 * Whose rights a read outside the home stands for: the gateway user's. Resonix, running as that user, can
 * read only what they can; the tool, often root, must not read more for them (a `resonix.json` linked to a
 * root-only file, `$include: "/root/…"`, `EnvironmentFile=/etc/…` in a user unit).
 */
export interface Reader {
  uid: number;
  gid: number;
  groups: readonly number[];
  /** host path of the reader's home: what lies inside it is judged by the rules (a root-owned copy), not refused */
  homeHost: string;
}

export class NotReadableByOwnerError extends Error {
  constructor(readonly uid: number) {
    super(`the gateway user (uid ${uid}) cannot read it`);
  }
}

function readerMay(stat: fs.Stats, reader: Reader, bit: 4 | 1): boolean {
  if (stat.uid === reader.uid) return (stat.mode & (bit << 6)) !== 0;
  if (stat.gid === reader.gid || reader.groups.includes(stat.gid)) return (stat.mode & (bit << 3)) !== 0;
  return (stat.mode & bit) !== 0;
}

/** Root, or the tool's own user: it reads nothing the reader could not. */
function readsAsMuch(reader: Reader): boolean {
  return reader.uid === 0 || reader.uid === (process.getuid?.() ?? 0);
}

/** Whether `reader` could open the file open as `fd` by the path it lies at now (its dirs searchable, it readable). */
function readerReaches(fd: number, hostPath: string, reader: Reader): boolean {
  if (readsAsMuch(reader)) return true;
  const opened = fs.fstatSync(fd);
  let real: string;
  try {
    real = fs.realpathSync(hostPath);
    const now = fs.statSync(real);
    if (now.ino !== opened.ino || now.dev !== opened.dev) return false;
  } catch {
    return false;
  }
  return reachable(real, opened, reader);
}

function reachable(real: string, file: fs.Stats, reader: Reader): boolean {
  if (isInside(real, reader.homeHost)) return true;
  if (!readerMay(file, reader, 4)) return false;
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    if (!readerMay(fs.statSync(dir), reader, 1)) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

/** Whether `reader` could read the file at `hostPath` (links resolved), judged by its modes and its dirs'. */
export function readerMayRead(hostPath: string, reader: Reader): boolean {
  if (readsAsMuch(reader)) return true;
  try {
    const real = fs.realpathSync(hostPath);
    return reachable(real, fs.statSync(real), reader);
  } catch {
    return false;
  }
}

export interface OpenOptions {
  /** read only what this user could read, outside their home */
  reader?: Reader;
  /**
   * follow a symlink to a regular file (live scans of a config kept in a dotfiles repo); never in image
   * mode, where an absolute link would point into the host
   */
  followSymlinks?: boolean;
}

function openRegular(hostPath: string, options: OpenOptions = {}): number {
  let stat: fs.Stats;
  try {
    stat = options.followSymlinks ? fs.statSync(hostPath) : fs.lstatSync(hostPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new NotRegularFileError(hostPath, 'symlink loop');
    throw error;
  }
  if (!stat.isFile()) throw new NotRegularFileError(hostPath, stat.isSymbolicLink() ? 'symlink' : stat.isFIFO() ? 'FIFO' : stat.isDirectory() ? 'directory' : 'special file');
  const fd = fs.openSync(hostPath, O_RDONLY | O_NONBLOCK | (options.followSymlinks ? 0 : O_NOFOLLOW));
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw new NotRegularFileError(hostPath, 'changed during the scan');
  }
  if (options.reader && !readerReaches(fd, hostPath, options.reader)) {
    fs.closeSync(fd);
    throw new NotReadableByOwnerError(options.reader.uid);
  }
  return fd;
}

/** The first `bytes` bytes of a regular file (fewer if it is shorter). */
export function readHead(hostPath: string, bytes: number): Buffer {
  const fd = openRegular(hostPath);
  try {
    const buffer = Buffer.alloc(bytes);
    const read = fs.readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/** The last `bytes` bytes of a regular file. */
export function readTail(hostPath: string, bytes: number): Buffer {
  const fd = openRegular(hostPath);
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(bytes, size);
    const buffer = Buffer.alloc(length);
    const read = fs.readSync(fd, buffer, 0, length, size - length);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

export type TextRead = { ok: true; text: string; size: number } | { ok: false; reason: string; size?: number };

/** A whole text file, refused when larger than `maxBytes` or binary (NUL bytes). */
export function readTextCapped(hostPath: string, maxBytes: number, options: OpenOptions = {}): TextRead {
  let fd: number;
  try {
    fd = openRegular(hostPath, options);
  } catch (error) {
    if (error instanceof NotRegularFileError || error instanceof NotReadableByOwnerError) return { ok: false, reason: error.message };
    return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? 'cannot read' };
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size > maxBytes) return { ok: false, reason: `too large (${size} bytes, limit ${maxBytes})`, size };
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const read = fs.readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    const content = buffer.subarray(0, offset);
    if (content.includes(0)) return { ok: false, reason: 'binary content (NUL bytes)', size };
    // ASCII decodes to the same text either way, and latin1 is about twice as fast (4 × 3.4 MB of sessions.json)
    return { ok: true, text: content.toString(isAscii(content) ? 'latin1' : 'utf8'), size };
  } catch (error) {
    return { ok: false, reason: (error as NodeJS.ErrnoException).code ?? 'cannot read' };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The entries of a dir that `keep` accepts, read one at a time (never the whole listing at once: a dir that
 * someone filled with millions of names costs time, not memory), looking at no more than `maxLooked` of them.
 * With `encoding: 'buffer'` the names are the raw bytes (a Buffer, whatever the type says). Throws what
 * opendir throws (ENOENT, EACCES, ENOTDIR).
 */
export function dirEntries(hostDir: string | Buffer, keep: (entry: fs.Dirent) => boolean, maxLooked: number, encoding: 'utf8' | 'buffer' = 'utf8'): { kept: fs.Dirent[]; cut: boolean } {
  const dir = fs.opendirSync(hostDir, { bufferSize: 256, encoding: encoding as BufferEncoding });
  const kept: fs.Dirent[] = [];
  let looked = 0;
  try {
    for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
      if (++looked > maxLooked) return { kept, cut: true };
      if (keep(entry)) kept.push(entry);
    }
    return { kept, cut: false };
  } finally {
    dir.closeSync();
  }
}
