// Reads a SQLite `-wal` file's headers from disk, bounded; knowledge/sqlite-wal.ts tells what they mean.
import fs from 'node:fs';
import { walFacts } from '../knowledge/sqlite-wal.js';
import type { SqliteWal } from '../model.js';

/** Reads the facts of a -wal on disk: one fstat, then at most WAL_FRAMES_READ + 2 small reads. Never follows a link. */
export function readWalFacts(hostPath: string, relativePath: string): SqliteWal {
  const fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return { path: relativePath, size: stat.size, headerValid: false, wholeFrames: 0, trailingBytes: 0, framesRead: 0 };
    return walFacts(relativePath, stat.size, (offset, length) => {
      const buffer = Buffer.alloc(length);
      const read = fs.readSync(fd, buffer, 0, length, offset);
      return buffer.subarray(0, read);
    });
  } finally {
    fs.closeSync(fd);
  }
}
