// The facts of a SQLite `-wal` file, from its 32-byte header and its 24-byte frame headers only (never the
// pages, never by opening the database, so no lock is taken). A clean stop can leave a -wal of whole frames
// (reference §12); torn looks different: a header whose checksum fails, a file that ends inside a frame, frame
// headers whose salts are not the header's. Reads are bounded: at most WAL_FRAMES_READ frame headers from the
// start and the last one, whatever the file's size. Pure: the bytes come from a callback (scan/sqlite-wal.ts reads
// them from disk).
import type { SqliteWal } from '../model.js';

export const WAL_HEADER_BYTES = 32;
export const WAL_FRAME_HEADER_BYTES = 24;
/** frame headers read from the start of a -wal (plus the last one): the byte budget is this × 24 + 56 */
export const WAL_FRAMES_READ = 1000;

const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;
const WAL_VERSION = 3007000;

/**
 * SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `s0, s1`; 32-bit words in the
 * byte order the magic names (0x377f0683: big-endian).
 */
export function walChecksum(data: Buffer, bigEndian: boolean, s0 = 0, s1 = 0): [number, number] {
  let a = s0 >>> 0;
  let b = s1 >>> 0;
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const x0 = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const x1 = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    a = (a + x0 + b) >>> 0;
    b = (b + x1 + a) >>> 0;
  }
  return [a, b];
}

export interface WalHeader {
  bigEndian: boolean;
  version: number;
  pageSize: number;
  checkpointSeq: number;
  salt1: number;
  salt2: number;
  checksumOk: boolean;
}

/** The -wal header, or undefined when the 32 bytes are not one (wrong magic, version or page size). */
export function parseWalHeader(head: Buffer): WalHeader | undefined {
  if (head.length < WAL_HEADER_BYTES) return undefined;
  const magic = head.readUInt32BE(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return undefined;
  const bigEndian = magic === MAGIC_BE;
  const version = head.readUInt32BE(4);
  const rawPageSize = head.readUInt32BE(8);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (version !== WAL_VERSION || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  const [c1, c2] = walChecksum(head.subarray(0, 24), bigEndian);
  return {
    bigEndian,
    version,
    pageSize,
    checkpointSeq: head.readUInt32BE(12),
    salt1: head.readUInt32BE(16),
    salt2: head.readUInt32BE(20),
    checksumOk: c1 === head.readUInt32BE(24) && c2 === head.readUInt32BE(28),
  };
}

/**
 * Facts of one -wal from bounded reads: `readAt(offset, length)` returns up to `length` bytes at `offset`.
 * Pure apart from that callback, so tests can hand it a Buffer.
 */
export function walFacts(relativePath: string, size: number, readAt: (offset: number, length: number) => Buffer): SqliteWal {
  const facts: SqliteWal = { path: relativePath, size, headerValid: false, wholeFrames: 0, trailingBytes: 0, framesRead: 0 };
  if (size === 0) return { ...facts, headerValid: true };
  const header = parseWalHeader(readAt(0, WAL_HEADER_BYTES));
  if (!header) return facts;
  const frameBytes = WAL_FRAME_HEADER_BYTES + header.pageSize;
  const body = Math.max(0, size - WAL_HEADER_BYTES);
  const wholeFrames = Math.floor(body / frameBytes);
  Object.assign(facts, {
    headerValid: true,
    headerChecksumOk: header.checksumOk,
    pageSize: header.pageSize,
    checkpointSeq: header.checkpointSeq,
    wholeFrames,
    trailingBytes: body - wholeFrames * frameBytes,
  });
  const indices: number[] = [];
  for (let i = 0; i < Math.min(wholeFrames, WAL_FRAMES_READ); i++) indices.push(i);
  if (wholeFrames > WAL_FRAMES_READ) indices.push(wholeFrames - 1);
  let mismatchAt: number | undefined;
  let lastCommit: number | undefined;
  for (const index of indices) {
    const frame = readAt(WAL_HEADER_BYTES + index * frameBytes, WAL_FRAME_HEADER_BYTES);
    if (frame.length < WAL_FRAME_HEADER_BYTES) break;
    facts.framesRead += 1;
    const matches = frame.readUInt32BE(8) === header.salt1 && frame.readUInt32BE(12) === header.salt2;
    if (!matches) {
      mismatchAt ??= index;
      continue;
    }
    // frames after a mismatch are left over from before a WAL restart unless one matches again: that is torn
    if (mismatchAt !== undefined) facts.saltMatchAfterMismatch = true;
    const dbPages = frame.readUInt32BE(4);
    if (dbPages > 0) lastCommit = dbPages;
  }
  if (mismatchAt !== undefined) facts.saltMismatchAt = mismatchAt;
  if (lastCommit !== undefined) facts.lastCommitDbPages = lastCommit;
  return facts;
}

/**
 * Why a -wal is torn, in words; [] when it is consistent. `database` is the header of the database beside it
 * (undefined when there is none).
 */
export function walTornReasons(wal: SqliteWal, database: { present: boolean; pageSize?: number } | undefined): string[] {
  if (wal.size === 0) return [];
  if (!wal.headerValid) return ['its header is not a SQLite WAL header'];
  const reasons: string[] = [];
  if (wal.headerChecksumOk === false) reasons.push('its header checksum does not match');
  if (wal.trailingBytes > 0) reasons.push(`it ends ${wal.trailingBytes} bytes into a frame`);
  if (wal.saltMismatchAt === 0) reasons.push('its first frame does not carry the header\'s salts');
  else if (wal.saltMatchAfterMismatch) reasons.push(`frame ${wal.saltMismatchAt! + 1} does not carry the header's salts, later ones do`);
  if (wal.wholeFrames > 0 && !database?.present) reasons.push(`it holds ${wal.wholeFrames} frames but the database beside it is missing`);
  if (database?.pageSize && wal.pageSize && database.pageSize !== wal.pageSize) reasons.push(`its page size ${wal.pageSize} is not the database's ${database.pageSize}`);
  return reasons;
}
