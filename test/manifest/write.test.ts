// Writing a manifest while its text is produced (#13): the text goes out in pieces small enough to die young,
// a worker thread compresses and writes it, and the file gunzips to exactly the text manifestText gives, on the
// worker and on the main thread (no worker compiled, one that cannot start, one that dies halfway). An error
// midway, in the text, in the worker or in a write, leaves neither a temp file nor the target. The worker runs
// compiled JS: those cases use the built dist/ (`npm run build`); from the TypeScript sources, with no worker
// compiled beside snapshot.ts, the main thread compresses.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { GzipMembers, MEMBER_CHARS } from '../../src/manifest/gzip-members.js';
import { readManifest } from '../../src/manifest/read.js';
import { manifestText, writeManifest, writeSnapshot, type WriteOptions } from '../../src/manifest/snapshot.js';
import type { FileEntry, Machine } from '../../src/model.js';
import { machine } from '../helpers/machine.js';
import { REPO_ROOT } from '../helpers/scenario.js';

const run = promisify(execFile);
const DIST = path.join(REPO_ROOT, 'dist');
const COMPILED_WORKER = path.join(DIST, 'manifest', 'gzip-worker.js');
const built = fs.existsSync(COMPILED_WORKER);
const WORKER = pathToFileURL(COMPILED_WORKER);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-write-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => {
  const dir = path.join(scratch, `d${dirs++}`);
  fs.mkdirSync(dir);
  return dir;
};

const now = new Date('2026-12-03T00:00:00.000Z');

/** A machine whose manifest is several members of text long (about 3.5 MiB at 30,000 entries). */
function bigMachine(count = 30_000, last?: Record<string, unknown>): Machine {
  const big = machine();
  const inventory = big.homes[0]!.installs[0]!.inventory;
  for (let i = 0; i < count; i++) inventory.entries.push({ path: `agents/main/sessions/s-${i}.jsonl`, type: 'file', mode: 0o600, uid: 1000, gid: 1000, size: i, mtimeMs: 1_700_000_000_000 + i });
  if (last) inventory.entries.push({ ...inventory.entries.at(-1)!, ...last } as FileEntry);
  return big;
}

async function expectedText(scanned: { machine: Machine }): Promise<string> {
  return `${(await manifestText(scanned, { hash: false, now })).pieces.join('')}\n`;
}

function gunzipped(file: string): string {
  return zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
}

/** A worker module of the test's own (one that fails), in the scratch dir. */
function workerModule(name: string, source: string): URL {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, source);
  return pathToFileURL(file);
}

describe('the manifest text, in pieces (#13)', () => {
  it('comes in pieces under 64K characters each, strings that die young, which join to the manifest', async () => {
    const scanned = { machine: bigMachine() };
    const { pieces } = await manifestText(scanned, { hash: false, now });
    expect(pieces.length).toBeGreaterThan(50);
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThan(64 * 1024);
    expect(JSON.parse(pieces.join(''))).toMatchObject({ manifest: 1, createdAt: now.toISOString() });
  });
});

describe('GzipMembers: the text gathered as UTF-8, in members (#13)', () => {
  it('keeps a surrogate pair whole where it cuts a long piece, and every character as it was', () => {
    const file = path.join(freshDir(), 'members.gz');
    const fd = fs.openSync(file, 'w');
    // a piece cut at 64K units, with an emoji's two halves on either side of the first cut, and 3 members long
    const piece = `${'a'.repeat(64 * 1024 - 1)}😀é${'€ü😀x'.repeat(MEMBER_CHARS / 2)}`;
    try {
      const members = new GzipMembers(fd);
      members.add(piece);
      members.add('');
      members.add('\n');
      expect(members.end()).toBe(fs.fstatSync(fd).size);
    } finally {
      fs.closeSync(fd);
    }
    expect(gunzipped(file)).toBe(`${piece}\n`);
  });

  it('writes one member of no text for no text', () => {
    const file = path.join(freshDir(), 'empty.gz');
    const fd = fs.openSync(file, 'w');
    try {
      new GzipMembers(fd).end();
    } finally {
      fs.closeSync(fd);
    }
    expect(gunzipped(file)).toBe('');
    expect(fs.statSync(file).size).toBeGreaterThan(0);
  });
});

describe('writeSnapshot: compressed while the text is produced (#13)', () => {
  it('on the main thread (no worker compiled beside the sources): the file gunzips to exactly the text, as several members', async () => {
    const scanned = { machine: bigMachine() };
    const file = path.join(freshDir(), 'm.json');
    const written = await writeSnapshot(file, scanned, { hash: false, now });
    expect(written.compressedBy).toBe('main thread');
    expect(written.hashing.enabled).toBe(false);
    expect(gunzipped(file)).toBe(await expectedText(scanned));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['m.json']);
    // several members: a second gzip header after the first member
    const bytes = fs.readFileSync(file);
    expect(bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 10)).toBeGreaterThan(0);
  });

  it('a small manifest starts no worker', async () => {
    const scanned = { machine: machine() };
    const file = path.join(freshDir(), 'm.json');
    expect((await writeSnapshot(file, scanned, { hash: false, now, gzipWorker: WORKER })).compressedBy).toBe('main thread');
    expect(gunzipped(file)).toBe(await expectedText(scanned));
  });

  describe.skipIf(!built)('on the worker thread (needs npm run build)', () => {
    it('the file is the same bytes as the main thread writes, and gunzips to exactly the text; readManifest reads it', async () => {
      const scanned = { machine: bigMachine() };
      const onWorker = path.join(freshDir(), 'm.json');
      const here = path.join(freshDir(), 'm.json');
      expect((await writeSnapshot(onWorker, scanned, { hash: false, now, gzipWorker: WORKER })).compressedBy).toBe('worker');
      expect((await writeSnapshot(here, scanned, { hash: false, now, gzipWorker: null })).compressedBy).toBe('main thread');
      const expected = await expectedText(scanned);
      expect(gunzipped(onWorker)).toBe(expected);
      expect(fs.readFileSync(onWorker).equals(fs.readFileSync(here))).toBe(true);
      expect(readManifest(onWorker)).toEqual(JSON.parse(expected));
      expect(fs.statSync(onWorker).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(path.dirname(onWorker))).toEqual(['m.json']);
    });

    it('writeManifest of a manifest text takes the same way', async () => {
      const scanned = { machine: bigMachine() };
      const file = path.join(freshDir(), 'm.json');
      const text = await manifestText(scanned, { hash: false, now });
      expect((await writeManifest(file, text, { gzipWorker: WORKER })).compressedBy).toBe('worker');
      expect(gunzipped(file)).toBe(`${text.pieces.join('')}\n`);
    });

    it('a worker that cannot start, or dies halfway after writing over the file, leaves it to the main thread: the same text', async () => {
      const scanned = { machine: bigMachine() };
      const expected = await expectedText(scanned);
      const broken = workerModule('broken.mjs', "throw new Error('no worker today');\n");
      const dying = workerModule(
        'dying.mjs',
        "import fs from 'node:fs';\nimport { parentPort, workerData } from 'node:worker_threads';\nlet seen = 0;\n" +
          "parentPort.on('message', () => { if (++seen < 10) return; const junk = Buffer.from('not gzip '.repeat(100000)); fs.writeSync(workerData.fd, junk, 0, junk.length, 0); process.exit(3); });\n",
      );
      const reference = path.join(freshDir(), 'm.json');
      await writeSnapshot(reference, scanned, { hash: false, now, gzipWorker: null });
      for (const gzipWorker of [broken, dying]) {
        const file = path.join(freshDir(), 'm.json');
        expect((await writeSnapshot(file, scanned, { hash: false, now, gzipWorker })).compressedBy).toBe('main thread');
        expect(gunzipped(file)).toBe(expected);
        // nothing of what the dying worker wrote is left (a gunzip would stop at the junk after the members)
        expect(fs.readFileSync(file).equals(fs.readFileSync(reference))).toBe(true);
        expect(fs.readdirSync(path.dirname(file))).toEqual(['m.json']);
      }
    });

    it("the worker's failure (a full disk) is the write's: its error, and no temp file, no target", async () => {
      const failing = workerModule(
        'failing.mjs',
        "import { parentPort } from 'node:worker_threads';\nlet told = false;\n" +
          "parentPort.on('message', () => { if (told) return; told = true; parentPort.postMessage({ failed: { message: 'ENOSPC: no space left on device, write', code: 'ENOSPC', errno: -28, syscall: 'write' } }); });\n",
      );
      const dir = freshDir();
      await expect(writeSnapshot(path.join(dir, 'm.json'), { machine: bigMachine() }, { hash: false, now, gzipWorker: failing })).rejects.toMatchObject({ code: 'ENOSPC', message: 'ENOSPC: no space left on device, write' });
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });

  const ways: [string, WriteOptions][] = [['on the main thread', { gzipWorker: null }], ...(built ? [['on the worker', { gzipWorker: WORKER }] as [string, WriteOptions]] : [])];
  it.each(ways)('an error in the text, members after the first were written (%s): no temp file, no target', async (_way, options) => {
    const dir = freshDir();
    // a value JSON has no text for, at the very end of the text
    const scanned = { machine: bigMachine(30_000, { note: 10n }) };
    await expect(writeSnapshot(path.join(dir, 'm.json'), scanned, { hash: false, now, ...options })).rejects.toThrow('a manifest holds no bigint');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  describe.skipIf(!built)('a real write error, past the file size limit (needs npm run build)', () => {
    // `ulimit -f` just short of the file's size stops it in its last member: first a short write, then EFBIG
    // (Node ignores SIGXFSZ); a writer that took the short write for the whole would leave a cut file
    const script = `
      import fs from 'node:fs';
      import { writeSnapshot } from ${JSON.stringify(pathToFileURL(path.join(DIST, 'manifest', 'snapshot.js')).href)};
      const [machineFile, out, way] = process.argv.slice(2);
      const machine = JSON.parse(fs.readFileSync(machineFile, 'utf8'));
      try {
        await writeSnapshot(out, { machine }, { hash: false, ...(way === 'main' ? { gzipWorker: null } : {}) });
        console.log('written');
      } catch (error) {
        console.log(error.code);
      }
    `;
    it.each(['main', 'worker'])('on the %s thread: its error, no temp file, no target', async (way) => {
      const dir = freshDir();
      const scriptFile = path.join(scratch, 'limited.mjs');
      fs.writeFileSync(scriptFile, script);
      const scanned = { machine: bigMachine() };
      const machineFile = path.join(scratch, 'machine.json');
      if (!fs.existsSync(machineFile)) fs.writeFileSync(machineFile, JSON.stringify(scanned.machine));
      const whole = path.join(freshDir(), 'm.json');
      await writeSnapshot(whole, scanned, { hash: false, gzipWorker: null });
      const blocks = Math.floor((fs.statSync(whole).size - 4096) / 512); // sh's ulimit counts 512-byte blocks
      const { stdout } = await run('sh', ['-c', `ulimit -f ${blocks} && exec "$0" "$@"`, process.execPath, scriptFile, machineFile, path.join(dir, 'm.json'), way]);
      expect(stdout.trim()).toBe('EFBIG');
      expect(fs.readdirSync(dir)).toEqual([]);
    });
  });
});
