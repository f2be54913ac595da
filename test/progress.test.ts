// The progress counter and its one-line renderer, on a fake clock and a fake stream; and what ticks it: the
// hasher, createManifest, the archive reader.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFiles } from '../src/manifest/hash.js';
import { createManifest } from '../src/manifest/snapshot.js';
import { ProgressCounter } from '../src/progress.js';
import { progressDelayMs, progressText, progressWanted, startProgressLine, type ProgressStream } from '../src/progress-line.js';
import { inspectArchiveFile } from '../src/archive/list.js';
import { scanMachine } from '../src/scan/index.js';
import { hasTool } from './helpers/tools.js';

const ERASE = '\r\x1b[2K';

function fakeStream(columns?: number): ProgressStream & { written: string[] } {
  const written: string[] = [];
  return { written, isTTY: true, write: (text: string) => void written.push(text), ...(columns ? { columns } : {}) };
}

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 5000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

describe('ProgressCounter', () => {
  it('looks at the clock only every checkEvery ticks, and calls back only once due', () => {
    let reads = 0;
    let time = 0;
    const updates: number[] = [];
    const counter = new ProgressCounter({ now: () => (reads++, time), delayMs: 1000, intervalMs: 100, checkEvery: 10, onUpdate: (c) => updates.push(c.entries) });
    reads = 0;
    for (let i = 0; i < 25; i++) counter.entryWalked();
    expect(reads).toBe(2);
    expect(updates).toEqual([]);
    time = 1000;
    for (let i = 0; i < 5; i++) counter.entryWalked();
    expect(updates).toEqual([30]);
    // not again before the interval
    time = 1050;
    for (let i = 0; i < 10; i++) counter.entryWalked();
    expect(updates).toEqual([30]);
    time = 1100;
    for (let i = 0; i < 10; i++) counter.fileHashed();
    expect(updates).toEqual([30, 40]);
    expect(counter.filesHashed).toBe(10);
    counter.archiveRead(4096);
    expect(counter.archiveBytes).toBe(4096);
  });
});

describe('the progress line', () => {
  it('shows nothing in the first second, then one line redrawn in place, erased at the end', () => {
    const clock = fakeClock();
    const stream = fakeStream();
    const line = startProgressLine(stream, true, { now: clock.now, checkEvery: 1, intervalMs: 200, timer: false });
    for (let i = 0; i < 500; i++) {
      clock.advance(1);
      line.counter.entryWalked();
    }
    expect(stream.written).toEqual([]);
    for (let i = 0; i < 1000; i++) {
      clock.advance(1);
      line.counter.entryWalked();
    }
    // due at 1000 ms, then every 200 ms: 1000, 1200, 1400
    expect(stream.written).toHaveLength(3);
    for (const text of stream.written) {
      expect(text.startsWith(ERASE)).toBe(true);
      expect(text.slice(ERASE.length)).not.toMatch(/[\r\n]/);
    }
    expect(stream.written[0]).toBe(`${ERASE}resonix-migrate: 1,000 entries walked (1,000/s)`);
    line.stop();
    expect(stream.written.at(-1)).toBe(ERASE);
    // nothing after stop
    clock.advance(1000);
    line.counter.check();
    expect(stream.written).toHaveLength(4);
  });

  it('erases nothing at the end when it never showed', () => {
    const stream = fakeStream();
    const line = startProgressLine(stream, true, { now: fakeClock().now, timer: false });
    line.counter.entryWalked();
    line.stop();
    expect(stream.written).toEqual([]);
  });

  it('clear() erases the line before other output; the next update draws it again', () => {
    const clock = fakeClock();
    const stream = fakeStream();
    const line = startProgressLine(stream, true, { now: clock.now, checkEvery: 1, delayMs: 0, timer: false });
    line.counter.entryWalked();
    line.clear();
    line.clear();
    expect(stream.written).toEqual([`${ERASE}resonix-migrate: 1 entry walked (0/s)`, ERASE]);
  });

  it('fits the terminal width, so it never wraps', () => {
    const clock = fakeClock();
    const stream = fakeStream(30);
    const line = startProgressLine(stream, true, { now: clock.now, checkEvery: 1, delayMs: 0, timer: false });
    clock.advance(2000);
    for (let i = 0; i < 123456; i++) line.counter.entryWalked();
    const text = stream.written[0]!.slice(ERASE.length);
    expect(text.length).toBe(29);
    expect(text.endsWith('…')).toBe(true);
  });

  it('a disabled line counts but never writes', () => {
    const clock = fakeClock();
    const stream = fakeStream();
    const line = startProgressLine(stream, false, { now: clock.now, checkEvery: 1, delayMs: 0 });
    clock.advance(5000);
    for (let i = 0; i < 1000; i++) line.counter.entryWalked();
    line.stop();
    expect(line.counter.entries).toBe(1000);
    expect(stream.written).toEqual([]);
  });

  it('the text: each count with its rate over the time it grew, nothing while nothing happened', () => {
    expect(progressText({ entries: 0, filesHashed: 0, archiveBytes: 0 }, { entries: 0, filesHashed: 0, archiveBytes: 0 })).toBeUndefined();
    expect(progressText({ entries: 200_000, filesHashed: 5000, archiveBytes: 12_500_000 }, { entries: 4, filesHashed: 2, archiveBytes: 5 })).toBe(
      'resonix-migrate: 200,000 entries walked (50,000/s), 5,000 files hashed (2,500/s), 12.5 MB of archives read (2.5 MB/s)',
    );
  });

  it('a finished walk keeps its rate while later work goes on', () => {
    const clock = fakeClock();
    const stream = fakeStream();
    const line = startProgressLine(stream, true, { now: clock.now, checkEvery: 1, delayMs: 0, intervalMs: 0, timer: false });
    clock.advance(2000);
    for (let i = 0; i < 2000; i++) line.counter.entryWalked();
    clock.advance(8000);
    line.counter.fileHashed();
    expect(stream.written.at(-1)).toBe(`${ERASE}resonix-migrate: 2,000 entries walked (1,000/s), 1 file hashed (0/s)`);
  });
});

describe('when the line is wanted', () => {
  const tty = { isTTY: true };
  it('on a terminal only', () => {
    expect(progressWanted({ stream: tty, env: {} })).toBe(true);
    expect(progressWanted({ stream: { isTTY: false }, env: {} })).toBe(false);
  });
  it('never with CI set, --quiet, a dumb terminal, or a machine-readable report on stdout', () => {
    expect(progressWanted({ stream: tty, env: { CI: 'true' } })).toBe(false);
    expect(progressWanted({ stream: tty, env: { CI: '1' } })).toBe(false);
    expect(progressWanted({ stream: tty, env: { CI: 'false' } })).toBe(true);
    expect(progressWanted({ stream: tty, env: { TERM: 'dumb' } })).toBe(false);
    expect(progressWanted({ stream: tty, env: {}, quiet: true })).toBe(false);
    expect(progressWanted({ stream: tty, env: {}, machineReadableStdout: true })).toBe(false);
  });
  it('after 1 s, or the test-only RESONIX_MIGRATE_PROGRESS_DELAY_MS', () => {
    expect(progressDelayMs({})).toBe(1000);
    expect(progressDelayMs({ RESONIX_MIGRATE_PROGRESS_DELAY_MS: '0' })).toBe(0);
    expect(progressDelayMs({ RESONIX_MIGRATE_PROGRESS_DELAY_MS: 'soon' })).toBe(1000);
  });
});

describe('what ticks the counter', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-progress-ticks-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a batch of files hashed counts as many, and looks at the clock as often as that many ticks would', () => {
    let reads = 0;
    const counter = new ProgressCounter({ now: () => (reads++, 0), checkEvery: 100 });
    reads = 0;
    counter.fileHashed(99);
    expect(reads).toBe(0);
    counter.fileHashed(256);
    expect(reads).toBe(1);
    counter.fileHashed();
    expect(counter.filesHashed).toBe(356);
  });

  it('hashFiles ticks once per file it hashed, not for the ones it could not', async () => {
    const files = ['a', 'b', 'c'].map((name) => path.join(dir, `${name}.txt`));
    for (const file of files) fs.writeFileSync(file, file);
    const counter = new ProgressCounter();
    const outcomes = await hashFiles([...files.map((hostPath) => ({ hostPath })), { hostPath: path.join(dir, 'missing') }], 2, { progress: counter });
    expect(outcomes.filter((outcome) => 'sha256' in outcome)).toHaveLength(3);
    expect(counter.filesHashed).toBe(3);
  });

  it.skipIf(!hasTool('tar'))('an archive listing ticks the bytes read from the file, once each (tar, tar.gz)', async () => {
    const source = path.join(dir, 'src');
    fs.mkdirSync(path.join(source, '.resonix'), { recursive: true });
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(source, '.resonix', `f${i}.txt`), `${i}`.repeat(20_000 + i));
    for (const [name, flags] of [['backup.tar', '-cf'], ['backup.tgz', '-czf']] as const) {
      const archive = path.join(dir, name);
      execFileSync('tar', [flags, archive, '-C', source, '.resonix']);
      const counter = new ProgressCounter();
      const listing = await inspectArchiveFile(archive, { progress: counter });
      expect(listing.members?.length, name).toBe(41);
      expect(counter.archiveBytes, name).toBe(fs.statSync(archive).size);
    }
  });

  it('createManifest ticks once per file hashed, as many as the manifest says it hashed', async () => {
    const state = path.join(dir, 'home', '.resonix');
    fs.mkdirSync(path.join(state, 'agents', 'main', 'sessions'), { recursive: true });
    fs.writeFileSync(path.join(state, 'resonix.json'), '{}\n', { mode: 0o600 });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(state, 'agents', 'main', 'sessions', `s-${i}.jsonl`), `{"i":${i}}\n`);
    const scanned = await scanMachine({ mode: 'live', root: '/', env: { TMPDIR: dir }, cwd: dir, home: path.join(dir, 'home') });
    const counter = new ProgressCounter();
    const manifest = await createManifest(scanned, { hash: true, progress: counter });
    expect(manifest.hashing.files).toBe(30);
    expect(counter.filesHashed).toBe(30);
  });

  it.skipIf(!hasTool('tar'))('a scan ticks the bytes of the backups it finds near the home', async () => {
    const home = path.join(dir, 'near', 'alice');
    fs.mkdirSync(path.join(home, '.resonix', 'agents', 'main', 'sessions'), { recursive: true });
    fs.writeFileSync(path.join(home, '.resonix', 'resonix.json'), '{}\n', { mode: 0o600 });
    fs.writeFileSync(path.join(home, '.resonix', 'agents', 'main', 'sessions', 's-1.jsonl'), '{}\n'.repeat(50_000));
    fs.mkdirSync(path.join(home, 'backups'));
    const archive = path.join(home, 'backups', 'resonix-backup.tgz');
    execFileSync('tar', ['-czf', archive, '-C', home, '.resonix']);
    const empty = fs.mkdtempSync(path.join(dir, 'tmp-'));
    const counter = new ProgressCounter();
    const scanned = await scanMachine({ mode: 'live', root: '/', env: { TMPDIR: empty }, cwd: dir, home, progress: counter });
    expect(scanned.machine.archives.map((item) => item.path)).toContain(archive);
    expect(counter.entries).toBeGreaterThan(0);
    // at least: the scan also looks in /var/backups, which may hold the machine's own archives
    expect(counter.archiveBytes).toBeGreaterThanOrEqual(fs.statSync(archive).size);
  });
});
