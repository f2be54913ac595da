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

/** Gathers the text's pieces into members and writes each, from the start of `fd`, as soon as it is full. */
export class GzipMembers {
  private parts: string[] = [];
  private chars = 0;
  private bytes = 0;
  private members = 0;

  constructor(private readonly fd: number) {}

  add(piece: string): void {
    this.parts.push(piece);
    this.chars += piece.length;
    if (this.chars >= MEMBER_CHARS) this.flush();
  }

  /** Writes the last member (a gzip file holds at least one, even of no text); the bytes written in all. */
  end(): number {
    if (this.parts.length > 0 || this.members === 0) this.flush();
    return this.bytes;
  }

  private flush(): void {
    const member = zlib.gzipSync(this.parts.join(''), { level: GZIP_LEVEL });
    this.parts = [];
    this.chars = 0;
    writeAllAt(this.fd, member, this.bytes);
    this.bytes += member.length;
    this.members += 1;
  }
}
