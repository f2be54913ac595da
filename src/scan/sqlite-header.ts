// The 100-byte SQLite header (reference §3): enough to tell a torn copy and a newer schema
// without opening the database, so no lock is ever taken.
import type { SqliteHeader } from '../model.js';

const MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
export const SQLITE_HEADER_BYTES = 100;

export function isSqliteMagic(head: Buffer): boolean {
  return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
}

export function parseSqliteHeader(relativePath: string, head: Buffer, fileSize: number): SqliteHeader {
  if (head.length < SQLITE_HEADER_BYTES || !isSqliteMagic(head)) return { path: relativePath, valid: false, size: fileSize };
  const rawPageSize = head.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  return {
    path: relativePath,
    valid: pageSize >= 512 && (pageSize & (pageSize - 1)) === 0,
    pageSize,
    pageCount: head.readUInt32BE(28),
    userVersion: head.readUInt32BE(60),
    size: fileSize,
  };
}

/** A database file shorter than page size × page count lost its tail in the copy. */
export function isTornSqlite(header: SqliteHeader): boolean {
  if (!header.valid || !header.pageSize || !header.pageCount) return false;
  return header.size < header.pageSize * header.pageCount;
}

/** Names of SQLite main database files Resonix keeps (not -wal/-shm/-journal sidecars). */
export function isSqliteDatabasePath(relativePath: string): boolean {
  return /\.sqlite$/.test(relativePath) || /\.db$/.test(relativePath);
}
