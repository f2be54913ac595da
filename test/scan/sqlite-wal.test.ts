// The -wal reader: header and frame headers only, a bounded number of reads, and the facts that tell a
// clean-stop -wal (reference §12) from a torn one. Checked against -wal files real sqlite3 wrote.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WAL_FRAMES_READ, parseWalHeader, walFacts, walTornReasons } from '../../src/knowledge/sqlite-wal.js';
import { readWalFacts } from '../../src/scan/sqlite-wal.js';
import { walBytes } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-wal-'));
  dirs.push(dir);
  return dir;
}

const facts = (bytes: Buffer) => walFacts('tasks/runs.sqlite-wal', bytes.length, (offset, length) => bytes.subarray(offset, offset + length));
const beside = { present: true, pageSize: 4096 };

describe('walFacts', () => {
  it('the -wal a clean stop of 2026.5.28 left (32 + 19 × (24 + 4096) = 78,312 bytes) is whole and consistent', () => {
    const bytes = walBytes({ pageSize: 4096, frames: 19, checkpointSeq: 3, dbPages: 13 });
    expect(bytes.length).toBe(78312);
    const wal = facts(bytes);
    expect(wal).toMatchObject({ headerValid: true, headerChecksumOk: true, pageSize: 4096, checkpointSeq: 3, wholeFrames: 19, trailingBytes: 0, framesRead: 19, lastCommitDbPages: 13 });
    expect(wal.saltMismatchAt).toBeUndefined();
    expect(walTornReasons(wal, beside)).toEqual([]);
  });

  it('big-endian checksums (magic 0x377f0683) and 64 KiB pages (stored as 1) are read too', () => {
    const wal = facts(walBytes({ pageSize: 65536, frames: 2, bigEndian: true }));
    expect(wal).toMatchObject({ headerValid: true, headerChecksumOk: true, pageSize: 65536, wholeFrames: 2, trailingBytes: 0 });
  });

  it('torn: ends inside a frame', () => {
    const wal = facts(walBytes({ pageSize: 4096, frames: 19, truncateTo: 78312 - 1000 }));
    expect(wal).toMatchObject({ wholeFrames: 18, trailingBytes: 4120 - 1000 });
    expect(walTornReasons(wal, beside)).toEqual(['it ends 3120 bytes into a frame']);
  });

  it('torn: the header checksum fails', () => {
    const bytes = walBytes({ pageSize: 4096, frames: 2 });
    bytes.writeUInt32BE(bytes.readUInt32BE(12) + 1, 12); // checkpoint seq changed, checksum not
    expect(walTornReasons(facts(bytes), beside)).toEqual(['its header checksum does not match']);
  });

  it("torn: frames that do not carry the header's salts (from the first frame), or match again after a mismatch", () => {
    expect(walTornReasons(facts(walBytes({ pageSize: 4096, frames: 3, otherSaltsFrom: 0 })), beside)).toEqual(["its first frame does not carry the header's salts"]);
    const bytes = walBytes({ pageSize: 4096, frames: 3, otherSaltsFrom: 1 });
    // frame 3 gets the header's salts back
    bytes.copy(bytes, 32 + 2 * 4120 + 8, 16, 24);
    expect(walTornReasons(facts(bytes), beside)).toEqual(["frame 2 does not carry the header's salts, later ones do"]);
  });

  it('not torn: stale frames after a WAL restart sit at the end with older salts', () => {
    const wal = facts(walBytes({ pageSize: 4096, frames: 5, otherSaltsFrom: 3 }));
    expect(wal.saltMismatchAt).toBe(3);
    expect(walTornReasons(wal, beside)).toEqual([]);
  });

  it('torn: frames but no database; a page size other than the database\'s; not a WAL header at all', () => {
    const wal = facts(walBytes({ pageSize: 4096, frames: 2 }));
    expect(walTornReasons(wal, undefined)).toEqual(['it holds 2 frames but the database beside it is missing']);
    expect(walTornReasons(wal, { present: true, pageSize: 1024 })).toEqual(["its page size 4096 is not the database's 1024"]);
    expect(walTornReasons(facts(Buffer.alloc(8192, 0x57)), beside)).toEqual(['its header is not a SQLite WAL header']);
    expect(parseWalHeader(Buffer.alloc(31))).toBeUndefined();
    expect(walTornReasons(facts(Buffer.alloc(0)), undefined)).toEqual([]);
  });

  it(`reads at most ${WAL_FRAMES_READ} frame headers and the last one, 24 bytes each, whatever the size`, () => {
    const frames = 5000;
    const pageSize = 512;
    const size = 32 + frames * (24 + pageSize);
    const reads: number[] = [];
    const one = walBytes({ pageSize, frames: 1 });
    const wal = walFacts('x-wal', size, (offset, length) => {
      reads.push(length);
      // every frame header is the first one's (same salts): enough for the reader
      return offset === 0 ? one.subarray(0, 32) : one.subarray(32, 32 + length);
    });
    expect(wal.wholeFrames).toBe(frames);
    expect(reads.length).toBe(WAL_FRAMES_READ + 2);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(32 + (WAL_FRAMES_READ + 1) * 24);
  });
});

describe.skipIf(!hasTool('sqlite3'))('against -wal files sqlite3 wrote', () => {
  it('a live -wal copied while the connection is open is whole, with a valid checksum and matching salts', () => {
    const dir = tempDir();
    const db = path.join(dir, 'runs.sqlite');
    const copy = path.join(dir, 'copy.sqlite-wal');
    execFileSync('sqlite3', [
      db,
      'PRAGMA journal_mode=WAL;',
      'PRAGMA wal_autocheckpoint=0;',
      'CREATE TABLE runs(id INTEGER PRIMARY KEY, body TEXT);',
      "INSERT INTO runs(body) SELECT hex(randomblob(300)) FROM generate_series(1, 200);",
      `.shell cp ${db}-wal ${copy}`,
    ], { stdio: 'pipe' });
    const wal = readWalFacts(copy, 'runs.sqlite-wal');
    expect(wal.headerValid).toBe(true);
    expect(wal.headerChecksumOk).toBe(true);
    expect(wal.wholeFrames).toBeGreaterThan(3);
    expect(wal.trailingBytes).toBe(0);
    expect(wal.saltMismatchAt).toBeUndefined();
    expect(walTornReasons(wal, { present: true, pageSize: wal.pageSize! })).toEqual([]);
    // the same file cut mid-frame is torn
    fs.truncateSync(copy, fs.statSync(copy).size - 100);
    expect(walTornReasons(readWalFacts(copy, 'runs.sqlite-wal'), { present: true })).toEqual([expect.stringMatching(/bytes into a frame$/)]);
  });
});
