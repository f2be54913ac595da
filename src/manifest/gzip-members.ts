// The manifest file's bytes: its JSON text, as it is produced, in gzip members of about MEMBER_CHARS characters
// each (a gzip file may hold many, and every gunzip reads them as one stream), each written at its place in the
// file. The one writer of both paths, gzip-worker.ts on a worker thread and snapshot.ts on the main thread when
// no worker can, so both write the same bytes.
import fs from 'node:fs';
import zlib from 'node:zlib';

/** gzip level 1: 23.5 MB of JSON (100,000 entries) become 6.5 MB; level 6 gained 3 % for 1.5 × the time. */
export const GZIP_LEVEL = 1;
/** A member is compressed once this many characters of text are gathered. */
export const MEMBER_CHARS = 1024 * 1024;

/** What gzip-worker.js is started with, what it is sent (a piece of the text; null: the end) and what it replies. */
export interface GzipWorkerData {
  fd: number;
}
export type GzipWorkerMessage = string | null;
export type GzipWorkerReply = { done: true; bytes: number } | { failed: ErrorFacts };

/** An error as it crosses threads (a structured clone keeps an Error's message, not its code). */
export interface ErrorFacts {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

export function factsOf(error: unknown): ErrorFacts {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, errno, syscall } = error as NodeJS.ErrnoException;
  return { message: error.message, ...(code !== undefined ? { code } : {}), ...(errno !== undefined ? { errno } : {}), ...(syscall !== undefined ? { syscall } : {}) };
}

export function errorOf(facts: ErrorFacts): Error {
  const { message, ...rest } = facts;
  return Object.assign(new Error(message), rest);
}

/** Writes all of `bytes` at `position`: after a short write (a disk filling up) the rest, never a silently cut file. */
export function writeAllAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let at = 0; at < bytes.length; ) {
    const written = fs.writeSync(fd, bytes, at, bytes.length - at, position + at);
    if (written === 0) throw new Error('the manifest could not be written: the write made no progress (disk full?)');
    at += written;
  }
}

/** A piece is taken in slices of at most this many characters (one more to keep a surrogate pair whole). */
const SLICE_CHARS = 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2). */
const MAX_BYTES_PER_UNIT = 3;

const isHighSurrogate = (unit: number): boolean => unit >= 0xd800 && unit <= 0xdbff;

/**
 * Gathers the text's pieces into members and writes each, from the start of `fd`, as soon as it is full. The
 * text is gathered as UTF-8 in one buffer, reused for every member, not joined into a string of 1 MiB (a
 * string over 128 KiB lives in V8's large-object space until a full GC: ~15 MB more RSS on a 23 MB text).
 */
export class GzipMembers {
  private readonly text = Buffer.allocUnsafe(MAX_BYTES_PER_UNIT * (MEMBER_CHARS + SLICE_CHARS + 1));
  private used = 0;
  private chars = 0;
  private bytes = 0;
  private members = 0;

  constructor(private readonly fd: number) {}

  add(piece: string): void {
    for (let at = 0; at < piece.length; ) {
      let end = Math.min(piece.length, at + SLICE_CHARS);
      // never between the halves of a surrogate pair: each alone would be written as U+FFFD
      if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end += 1;
      const slice = at === 0 && end === piece.length ? piece : piece.slice(at, end);
      // always room (fewer than MEMBER_CHARS units gathered, at most SLICE_CHARS + 1 more): write would cut silently
      if (this.used + MAX_BYTES_PER_UNIT * slice.length > this.text.length) throw new Error('GzipMembers: no room for a slice');
      this.used += this.text.write(slice, this.used);
      this.chars += slice.length;
      if (this.chars >= MEMBER_CHARS) this.flush();
      at = end;
    }
  }

  /** Writes the last member (a gzip file holds at least one, even of no text); the bytes written in all. */
  end(): number {
    if (this.used > 0 || this.members === 0) this.flush();
    return this.bytes;
  }

  private flush(): void {
    const member = zlib.gzipSync(this.text.subarray(0, this.used), { level: GZIP_LEVEL });
    this.used = 0;
    this.chars = 0;
    writeAllAt(this.fd, member, this.bytes);
    this.bytes += member.length;
    this.members += 1;
  }
}
