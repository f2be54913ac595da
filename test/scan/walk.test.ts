// The inventory walk on a tree with the awkward cases: what any faster walker must give just the same
// (bench/ tried GNU find; see README "Benchmarks").
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressCounter } from '../../src/progress.js';
import { readNames, walkTree } from '../../src/scan/walk.js';

const isRoot = process.getuid?.() === 0;

let base: string;
let tree: string;
let socket: net.Server | undefined;

const raw = (text: string): Buffer => Buffer.from(text, 'latin1');

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-walk-'));
  tree = path.join(base, 'state');
  const at = (relative: string): string => path.join(tree, relative);
  fs.mkdirSync(tree, { mode: 0o700 });
  for (const dir of ['agents/main/sessions', 'agents/main/agent', 'credentials/whatsapp/default', '.hidden/deeper/deepest', 'empty', 'workspace/.git/objects']) {
    fs.mkdirSync(at(dir), { recursive: true });
  }
  for (let i = 0; i < 300; i++) fs.writeFileSync(at(`agents/main/sessions/${(i * 7919).toString(16)}-${i}.jsonl`), `{"i":${i}}\n`, { mode: 0o600 });
  fs.writeFileSync(at('resonix.json'), '{}', { mode: 0o600 });
  fs.writeFileSync(at('.env'), 'A=1\n', { mode: 0o644 });
  fs.writeFileSync(at('.hidden/deeper/deepest/.dot'), 'x');
  fs.writeFileSync(at('credentials/whatsapp/default/creds.json'), '{}', { mode: 0o600 });
  // names that sort differently by bytes, by UTF-16 and by locale
  for (const name of ['B', 'a', '_', 'Z', 'é', 'z', '𝄞', '\uFFFD-real', '\uFF41', 'with space', 'new\nline', 'tab\tname', '-dash', '10', '9']) {
    fs.writeFileSync(at(`workspace/${name}`), name);
  }
  // modes, special bits, sizes, times
  fs.writeFileSync(at('workspace/setuid'), '#!/bin/sh\n');
  fs.chmodSync(at('workspace/setuid'), 0o4755);
  fs.mkdirSync(at('workspace/sticky'));
  fs.chmodSync(at('workspace/sticky'), 0o1777);
  fs.writeFileSync(at('workspace/none'), '');
  fs.chmodSync(at('workspace/none'), 0o000);
  const sparse = fs.openSync(at('workspace/sparse'), 'w');
  fs.ftruncateSync(sparse, 5 * 1024 ** 3);
  fs.closeSync(sparse);
  fs.writeFileSync(at('workspace/old'), 'before 1970');
  fs.utimesSync(at('workspace/old'), new Date('1969-07-20T20:17:40.250Z'), new Date('1969-07-20T20:17:40.250Z'));
  fs.writeFileSync(at('workspace/future'), 'far');
  fs.utimesSync(at('workspace/future'), 10413792000.123, 10413792000.123);
  // symlinks: relative, absolute, to a dir (never followed), broken, a loop, a self-loop
  fs.symlinkSync('../resonix.json', at('workspace/link-rel'));
  fs.symlinkSync(at('credentials'), at('workspace/link-abs-dir'));
  fs.symlinkSync('nowhere/at/all', at('workspace/link-broken'));
  fs.symlinkSync('loop-b', at('workspace/loop-a'));
  fs.symlinkSync('loop-a', at('workspace/loop-b'));
  fs.symlinkSync('self', at('workspace/self'));
  fs.symlinkSync(raw('target-\xff'), at('workspace/link-to-bad-bytes'));
  // a FIFO and a socket
  execFileSync('mkfifo', [at('workspace/fifo')]);
  socket = net.createServer();
  await new Promise<void>((resolve) => socket!.listen(at('workspace/sock'), resolve));
  // names that are not UTF-8: a file, and a dir with entries below it
  const bad = Buffer.concat([Buffer.from(`${at('workspace')}/`), raw('bad-\xff\xfe-name')]);
  fs.writeFileSync(bad, 'bytes');
  const badDir = Buffer.concat([Buffer.from(`${at('workspace')}/`), raw('dir-\xe9t\xe9')]);
  fs.mkdirSync(badDir);
  fs.writeFileSync(Buffer.concat([badDir, Buffer.from('/inside.txt')]), 'x');
  fs.writeFileSync(Buffer.concat([badDir, raw('/also-\xc3')]), 'x');
  // a dir the (non-root) walker cannot list, and one it cannot enter
  fs.mkdirSync(at('locked/inner'), { recursive: true });
  fs.writeFileSync(at('locked/inner/secret'), 's');
  fs.mkdirSync(at('no-exec'));
  fs.writeFileSync(at('no-exec/file'), 'f');
  if (!isRoot) {
    fs.chmodSync(at('locked'), 0o000);
    fs.chmodSync(at('no-exec'), 0o600);
  }
});

afterAll(async () => {
  await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  for (const dir of ['locked', 'no-exec']) fs.chmodSync(path.join(tree, dir), 0o700);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('walkTree', () => {
  it('lists every entry once, each dir by name (UTF-16 order), never following a link', () => {
    const { inventory } = walkTree(tree, '/home/alice/.resonix');
    const entries = inventory.entries;
    const paths = entries.map((entry) => entry.path);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths[0]).toBe('');
    // siblings come together and in name order
    const workspace = paths.filter((item) => item.startsWith('workspace/') && !item.slice('workspace/'.length).includes('/'));
    expect(workspace).toEqual([...workspace].sort());
    expect(paths.some((item) => item.startsWith('workspace/link-abs-dir/'))).toBe(false);
    const at = (relative: string) => entries.find((entry) => entry.path === relative);
    expect(paths).toContain('workspace/bad-\\xff\\xfe-name');
    expect(at('workspace/bad-\\xff\\xfe-name')?.nonUtf8).toBe(true);
    expect(at('workspace/dir-\\xe9t\\xe9/also-\\xc3')?.nonUtf8).toBe(true);
    expect(at('workspace/dir-\\xe9t\\xe9/inside.txt')?.nonUtf8).toBeUndefined();
    expect(at('workspace/link-to-bad-bytes')).toMatchObject({ type: 'symlink', linkTarget: 'target-\\xff' });
    expect(at('workspace/link-broken')).toMatchObject({ type: 'symlink', linkTarget: 'nowhere/at/all', size: 'nowhere/at/all'.length });
    expect(at('workspace/old')?.mtimeMs).toBe(Date.parse('1969-07-20T20:17:40.250Z'));
    expect(at('workspace/future')?.mtimeMs).toBe(Math.trunc(fs.lstatSync(path.join(tree, 'workspace/future')).mtimeMs));
    expect(at('workspace/sparse')?.size).toBe(5 * 1024 ** 3);
    expect(at('workspace/sock')?.type).toBe('socket');
    expect(at('workspace/fifo')?.type).toBe('fifo');
    expect(at('workspace/setuid')?.mode).toBe(0o4755);
    expect(at('workspace/sticky')?.mode).toBe(0o1777);
    expect(at('empty')?.type).toBe('dir');
    expect(at('.hidden/deeper/deepest/.dot')?.type).toBe('file');
  });

  it('marks a dir it cannot list and reports it', (ctx) => {
    if (isRoot) ctx.skip('root can list any dir, so EACCES cannot happen here: run the suite as a user to see it');
    const { inventory, problems } = walkTree(tree, '/s');
    expect(inventory.entries.find((entry) => entry.path === 'locked')?.unreadable).toBe('EACCES');
    expect(problems).toContainEqual({ path: '/s/locked', code: 'EACCES', message: 'cannot list /s/locked: EACCES' });
  });

  it('stops at maxEntries', () => {
    const walked = walkTree(path.join(tree, 'agents'), '/x', { maxEntries: 50 });
    expect(walked.inventory.truncated).toBe(true);
    expect(walked.inventory.entries).toHaveLength(50);
  });

  it('never holds more names of a dir than the entry budget left, plus one: a dir of 1,000 names under a budget of 20 (#10, #13)', () => {
    const big = path.join(base, 'many-names');
    fs.mkdirSync(big);
    for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(big, `n-${i}`), '');
    const listed = readNames(big, 21);
    expect(listed.names).toHaveLength(21);
    expect(listed.cut).toBe(true);
    expect(readNames(big, 1000).cut).toBe(false);
    expect(readNames(big).names).toHaveLength(1000);
    const walked = walkTree(big, '/x', { maxEntries: 20 });
    expect(walked.inventory.truncated).toBe(true);
    expect(walked.inventory.entries).toHaveLength(20);
    expect(walked.problems.map((problem) => problem.code)).toContain('ETOOMANY');
    // non-UTF-8 names are read by the same bounded reader
    fs.writeFileSync(Buffer.concat([Buffer.from(`${big}/`), raw('odd-\xff')]), '');
    const odd = readNames(big, 2000);
    expect(odd.names).toHaveLength(1001);
    expect(odd.raws?.filter((bytes) => bytes !== undefined)).toHaveLength(1);
    fs.rmSync(big, { recursive: true, force: true });
  });

  it("keeps lstat's numbers exactly, past 2^31 too (the entries store them as small integers where they fit: #13)", () => {
    const big = path.join(base, 'big-ids');
    fs.mkdirSync(big);
    fs.writeFileSync(path.join(big, 'owned'), 'x');
    if (isRoot) fs.chownSync(path.join(big, 'owned'), 4294967294, 2147483648);
    const sparse = fs.openSync(path.join(big, 'huge'), 'w');
    fs.ftruncateSync(sparse, 2 ** 31 + 3);
    fs.closeSync(sparse);
    const walked = walkTree(big, '/b');
    for (const entry of walked.inventory.entries) {
      const stat = fs.lstatSync(path.join(big, entry.path));
      expect([entry.mode, entry.uid, entry.gid, entry.size]).toEqual([stat.mode & 0o7777, stat.uid, stat.gid, stat.size]);
    }
    expect(walked.inventory.entries.find((entry) => entry.path === 'huge')?.size).toBe(2 ** 31 + 3);
    if (isRoot) expect(walked.inventory.entries.find((entry) => entry.path === 'owned')).toMatchObject({ uid: 4294967294, gid: 2147483648 });
  });

  it('ticks the progress counter once per entry it lists, the root included', () => {
    const progress = new ProgressCounter({ delayMs: 0, intervalMs: 0, checkEvery: 1 });
    const walked = walkTree(tree, '/s', { progress });
    expect(progress.entries).toBe(walked.inventory.entries.length);
    const cut = new ProgressCounter();
    walkTree(path.join(tree, 'agents'), '/x', { maxEntries: 50, progress: cut });
    expect(cut.entries).toBe(50);
  });
});
