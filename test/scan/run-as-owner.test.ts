import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXED_PATH, planRun, runAsOwner } from '../../src/scan/run-as-owner.js';

const isRoot = process.getuid?.() === 0;
const ALICE = 1000;
const BOB = 1001;
const NOBODY = 65534;

let tmp: string;
/** a dir every uid can write the marks into */
let marks: string;

/** A program that records who ran it (uid, then every gid it holds) in marks/<name>, then prints `echo`. */
function recorder(file: string, name: string, echo = 'ok', mode = 0o755): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\necho "$(id -u) $(id -G)" >> ${marks}/${name}\necho ${echo}\n`, { mode });
  fs.chmodSync(file, mode);
  return file;
}

function ranAs(name: string): string[] {
  const file = path.join(marks, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
}

function dir(relative: string, mode: number, uid = 0): string {
  const full = path.join(tmp, relative);
  fs.mkdirSync(full, { recursive: true });
  fs.chmodSync(full, mode);
  if (isRoot) fs.chownSync(full, uid, uid);
  return full;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-run-'));
  fs.chmodSync(tmp, 0o755);
  marks = dir('marks', 0o1777);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('runAsOwner: what runs, and as whom', () => {
  it('runs nothing in an image scan', () => {
    const program = recorder(path.join(dir('image', 0o755), 'node'), 'image');
    const result = runAsOwner({ binary: program, args: ['--version'], scanMode: 'image' });
    expect(result).toEqual({ ran: false, reason: 'an image scan runs nothing from the image' });
    expect(ranAs('image')).toEqual([]);
  });

  it('gives the program a fixed environment, no stdin and nothing of ours', () => {
    const program = path.join(dir('env', 0o755, process.getuid?.() ?? 0), 'show-env');
    fs.writeFileSync(program, '#!/bin/sh\nenv | sort\nif read line; then echo "stdin: $line"; else echo "no stdin"; fi\n', { mode: 0o755 });
    const previous = process.env.RESONIX_TEST_LEAK;
    process.env.RESONIX_TEST_LEAK = 'must-not-pass';
    try {
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', env: { GIT_DIR: '/x' } });
      expect(result.ran).toBe(true);
      if (!result.ran) return;
      const lines = result.stdout.toString().trim().split('\n');
      // sh itself may add PWD; nothing else
      expect(lines.filter((line) => !line.startsWith('PWD='))).toEqual(['GIT_DIR=/x', 'LC_ALL=C', `PATH=${FIXED_PATH}`, 'no stdin']);
    } finally {
      if (previous === undefined) delete process.env.RESONIX_TEST_LEAK;
      else process.env.RESONIX_TEST_LEAK = previous;
    }
  });

  it('kills a program that does not finish in time', () => {
    const program = path.join(dir('slow', 0o755, process.getuid?.() ?? 0), 'slow');
    fs.writeFileSync(program, '#!/bin/sh\nexec sleep 20\n', { mode: 0o755 });
    const started = Date.now();
    const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ ran: true, timedOut: true, status: null });
  });

  it('caps the output and says it did', () => {
    const program = path.join(dir('loud', 0o755, process.getuid?.() ?? 0), 'loud');
    fs.writeFileSync(program, '#!/bin/sh\nexec yes 0123456789abcdef\n', { mode: 0o755 });
    const started = Date.now();
    const result = runAsOwner({ binary: program, args: [], scanMode: 'live', maxOutputBytes: 4096 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ ran: true, truncated: true });
    if (result.ran) expect(result.stdout.length).toBeLessThanOrEqual(4096 + 65536);
  });

  describe('nothing it started outlives the call', () => {
    /** A program that backgrounds a long sleep (its pid into marks/<name>), then does `then`. */
    function forker(name: string, then: string, background = 'sleep 1000'): string {
      const program = path.join(dir(`fork-${name}`, 0o755, process.getuid?.() ?? 0), 'forker');
      fs.writeFileSync(program, `#!/bin/sh\n${background} &\necho $! > ${marks}/${name}\n${then}\n`, { mode: 0o755 });
      return program;
    }

    function grandchild(name: string): number {
      const pid = Number(fs.readFileSync(path.join(marks, name), 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      return pid;
    }

    /**
     * True while `pid` runs: `process.kill(pid, 0)` does not throw ESRCH and it is not a zombie. An
     * orphan we killed is reaped by init, not by us, and init may take a while (or, in a container
     * whose pid 1 reaps nothing, never): a zombie runs nothing, so it counts as stopped.
     */
    function running(pid: number): boolean {
      try {
        process.kill(pid, 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
        throw error;
      }
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return !/^\d+ \(.*\) [ZX]/s.test(stat);
      } catch {
        return false; // gone between the two looks
      }
    }

    /** SIGKILL is delivered at once but a process takes a moment to die: wait a little for it. */
    function stopsSoon(pid: number): boolean {
      const deadline = Date.now() + 1000;
      while (running(pid)) {
        if (Date.now() > deadline) return false;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
      return true;
    }

    let started: number[] = [];
    afterAll(() => {
      // a failing test must not leave its sleeps behind
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });

    it('kills the children of a program that times out, not only the program', () => {
      const program = forker('timeout', 'exec sleep 1000');
      const begun = Date.now();
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 500 });
      const took = Date.now() - begun;
      expect(result).toMatchObject({ ran: true, timedOut: true });
      expect(took).toBeLessThan(500 + 1000);
      const pid = grandchild('timeout');
      started.push(pid);
      expect(stopsSoon(pid)).toBe(true);
    });

    it('does not wait past the timeout on a child that holds the output open after the program exits', () => {
      // the program ends at once; its sleep keeps our stdout pipe open
      const program = forker('holds-pipe', 'echo done; exit 0');
      const begun = Date.now();
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 500 });
      expect(Date.now() - begun).toBeLessThan(500 + 1000);
      // it did not finish: its output stayed open until the timeout
      expect(result).toMatchObject({ ran: true, timedOut: true, status: 0 });
      if (result.ran) expect(result.stdout.toString()).toBe('done\n');
      const pid = grandchild('holds-pipe');
      started.push(pid);
      expect(stopsSoon(pid)).toBe(true);
    });

    it('kills a child left behind by a program that finished in time', () => {
      const program = forker('finished', 'echo done', 'sleep 1000 > /dev/null 2>&1');
      const begun = Date.now();
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 5000 });
      expect(Date.now() - begun).toBeLessThan(2000);
      expect(result).toMatchObject({ ran: true, timedOut: false, status: 0 });
      const pid = grandchild('finished');
      started.push(pid);
      expect(stopsSoon(pid)).toBe(true);
    });

    it('kills the children of a program stopped at the output cap', () => {
      const program = forker('loud', 'exec yes 0123456789abcdef');
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 5000, maxOutputBytes: 4096 });
      expect(result).toMatchObject({ ran: true, truncated: true });
      const pid = grandchild('loud');
      started.push(pid);
      expect(stopsSoon(pid)).toBe(true);
    });

    it('kills a child of a child (the whole group)', () => {
      const program = forker('nested', 'exec sleep 1000', "sh -c 'sleep 1000 & echo $! > " + marks + "/nested-2; wait'");
      const result = runAsOwner({ binary: program, args: [], scanMode: 'live', timeoutMs: 500 });
      expect(result).toMatchObject({ ran: true, timedOut: true });
      for (const name of ['nested', 'nested-2']) {
        const pid = grandchild(name);
        started.push(pid);
        expect(stopsSoon(pid)).toBe(true);
      }
    });
  });

  it('refuses a program in a dir anyone may write, and a set-user-ID one', () => {
    const open = dir('open', 0o777, process.getuid?.() ?? 0);
    const program = recorder(path.join(open, 'node'), 'open');
    const refused = runAsOwner({ binary: program, args: [], scanMode: 'live' });
    expect(refused).toEqual({ ran: false, reason: expect.stringMatching(/open is writable by anyone \(mode 0777\): anyone who can write it can replace .*\/open\/node$/) });
    const setuid = recorder(path.join(dir('setuid', 0o755, process.getuid?.() ?? 0), 'node'), 'setuid', 'ok', 0o4755);
    expect(runAsOwner({ binary: setuid, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('set-user-ID') });
    expect(ranAs('open')).toEqual([]);
    expect(ranAs('setuid')).toEqual([]);
  });

  it('runs a program of the tool\'s own user as that user', () => {
    const me = process.getuid?.() ?? 0;
    const program = recorder(path.join(dir('mine', 0o755, me), 'node'), 'mine');
    const result = runAsOwner({ binary: program, args: [], scanMode: 'live' });
    expect(result).toMatchObject({ ran: true, status: 0 });
    // root's own file below the sticky /tmp runs as nobody; anyone else's as themselves
    expect(ranAs('mine').map((line) => Number(line.split(' ')[0]))).toEqual([me === 0 ? NOBODY : me]);
  });

  it('runs root\'s program on a clean root-owned path as root (the one case root runs anything)', () => {
    const id = fs.existsSync('/usr/bin/id') ? '/usr/bin/id' : '/bin/id';
    const stat = fs.statSync(id);
    const clean = stat.uid === 0 && (stat.mode & 0o022) === 0 && (fs.statSync(path.dirname(id)).mode & 0o022) === 0;
    if (!clean) return;
    const result = runAsOwner({ binary: id, args: ['-u'], scanMode: 'live' });
    expect(result).toMatchObject({ ran: true, status: 0 });
    if (result.ran) expect(result.stdout.toString().trim()).toBe(String(process.getuid?.() ?? 0));
  });
});

describe.skipIf(!isRoot)('runAsOwner as root (needs root to chown; skipped when not root)', () => {
  it('runs a user-owned program as that user, with none of root\'s groups', () => {
    const home = dir('home-alice', 0o755, ALICE);
    const program = recorder(path.join(home, 'bin', 'node'), 'alice');
    fs.chownSync(path.join(home, 'bin'), ALICE, ALICE);
    fs.chownSync(program, ALICE, ALICE);
    const result = runAsOwner({ binary: program, args: ['--version'], scanMode: 'live' });
    expect(result).toMatchObject({ ran: true, uid: ALICE, status: 0 });
    const [line] = ranAs('alice');
    const [uid, ...gids] = line!.split(' ').map(Number);
    expect(uid).toBe(ALICE);
    expect(gids).not.toContain(0);
  });

  it('runs root\'s program in a dir a user owns as that user, never as root', () => {
    const home = dir('home-alice-2', 0o755, ALICE);
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin);
    fs.chownSync(bin, ALICE, ALICE);
    const program = recorder(path.join(bin, 'node'), 'root-in-user-dir'); // owned by root
    expect(fs.statSync(program).uid).toBe(0);
    const result = runAsOwner({ binary: program, args: [], scanMode: 'live' });
    expect(result).toMatchObject({ ran: true, uid: ALICE });
    expect(ranAs('root-in-user-dir').map((line) => line.split(' ')[0])).toEqual([String(ALICE)]);
  });

  it('refuses root\'s program in a dir its group may write', () => {
    const shared = dir('group-shared', 0o775, 0);
    const program = recorder(path.join(shared, 'node'), 'group');
    expect(runAsOwner({ binary: program, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('writable by its group') });
    expect(ranAs('group')).toEqual([]);
  });

  it('refuses a program two users control', () => {
    const bobs = dir('bob-dir', 0o755, BOB);
    const program = recorder(path.join(bobs, 'node'), 'two');
    fs.chownSync(program, ALICE, ALICE);
    expect(runAsOwner({ binary: program, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('more than one user (uid 1000, 1001)') });
    expect(ranAs('two')).toEqual([]);
  });

  it('follows a root-owned symlink to the user\'s file and runs it as the user', () => {
    const home = dir('home-alice-3', 0o755, ALICE);
    const program = recorder(path.join(home, 'real-node'), 'link');
    fs.chownSync(program, ALICE, ALICE);
    const links = dir('links', 0o755, 0);
    fs.symlinkSync(program, path.join(links, 'node'));
    expect(planRun({ binary: path.join(links, 'node'), args: [], scanMode: 'live' })).toMatchObject({ ok: true, binary: program, as: { uid: ALICE } });
    runAsOwner({ binary: path.join(links, 'node'), args: [], scanMode: 'live' });
    expect(ranAs('link').map((line) => line.split(' ')[0])).toEqual([String(ALICE)]);
  });

  it('runs as a named user (the gateway user) only when nobody else owns what runs', () => {
    const rootBin = dir('root-bin', 0o755, 0);
    const program = recorder(path.join(rootBin, 'resonix'), 'as-alice');
    const result = runAsOwner({ binary: program, args: ['doctor'], scanMode: 'live', as: { uid: ALICE, gid: ALICE } });
    expect(result).toMatchObject({ ran: true, uid: ALICE, gid: ALICE });
    expect(ranAs('as-alice').map((line) => line.split(' ')[0])).toEqual([String(ALICE)]);

    const bobs = dir('bob-bin', 0o755, BOB);
    const bobProgram = recorder(path.join(bobs, 'resonix'), 'as-alice-bob');
    expect(runAsOwner({ binary: bobProgram, args: [], scanMode: 'live', as: { uid: ALICE, gid: ALICE } })).toEqual({
      ran: false,
      reason: expect.stringContaining('owned by uid 1001, not by uid 1000'),
    });
    // what it reads counts too: alice's program on bob's state dir
    expect(runAsOwner({ binary: program, args: [], scanMode: 'live', as: { uid: ALICE, gid: ALICE }, inputs: [bobs] })).toMatchObject({ ran: false });
    // root is asked for only on a path nobody else may write
    expect(runAsOwner({ binary: program, args: [], scanMode: 'live', as: { uid: 0, gid: 0 } })).toEqual({ ran: false, reason: expect.stringContaining('would run as root') });
    expect(ranAs('as-alice-bob')).toEqual([]);
  });
});

/** `dir` is root's alone: root-owned and not group/other-writable, and so is every dir above it. */
function rootClean(dir: string): boolean {
  for (let at = dir; ; at = path.dirname(at)) {
    const stat = fs.lstatSync(at);
    if (stat.isSymbolicLink() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) return false;
    if (at === '/') return true;
  }
}

describe.skipIf(!isRoot)('runAsOwner: what a script names counts like the script (needs root to chown; skipped when not root)', () => {
  /** root's own dir outside the sticky /tmp, so that a clean program there would run as root itself */
  let clean: string;
  /** alice's dir (below tmp) with alice's copy of the real sh: an interpreter that is not a script */
  let aliceBin: string;
  let aliceSh: string;
  const realSh = fs.realpathSync('/bin/sh');

  /** A root-owned script in `clean`: `firstLine`, then it records `id -u` in marks/shebang-<name>. */
  function rootScript(name: string, firstLine: string): string {
    const file = path.join(clean, name);
    fs.writeFileSync(file, `${firstLine}\nid -u >> ${marks}/shebang-${name}\necho ok\n`, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
    return file;
  }

  /** Who wrote marks/shebang-<name>: the file's owner and each uid it recorded (none when nothing ran). */
  function marker(name: string): { owner: number; uids: string[] } | undefined {
    const file = path.join(marks, `shebang-${name}`);
    if (!fs.existsSync(file)) return undefined;
    return { owner: fs.statSync(file).uid, uids: fs.readFileSync(file, 'utf8').trim().split('\n') };
  }

  beforeAll(() => {
    clean = fs.mkdtempSync(path.join('/run', 'resonix-run-'));
    fs.chmodSync(clean, 0o755);
    aliceBin = path.join(dir('home-alice-interp', 0o755, ALICE), 'bin');
    fs.mkdirSync(aliceBin, { recursive: true });
    fs.chownSync(aliceBin, ALICE, ALICE);
    aliceSh = path.join(aliceBin, 'sh');
    fs.copyFileSync(realSh, aliceSh);
    fs.chmodSync(aliceSh, 0o755);
    fs.chownSync(aliceSh, ALICE, ALICE);
  });
  afterAll(() => {
    if (clean) fs.rmSync(clean, { recursive: true, force: true });
  });

  it('runs root\'s clean `#!/bin/sh` and `#!/usr/bin/env sh` scripts as root', () => {
    if (!rootClean(clean) || !rootClean(realSh) || !rootClean('/usr/bin/env')) return;
    for (const [name, line] of [['clean-sh', '#!/bin/sh'], ['clean-env-sh', '#!/usr/bin/env sh']] as const) {
      const result = runAsOwner({ binary: rootScript(name, line), args: [], scanMode: 'live' });
      expect([name, result]).toMatchObject([name, { ran: true, uid: 0, status: 0 }]);
      expect([name, marker(name)]).toEqual([name, { owner: 0, uids: ['0'] }]);
    }
  });

  it('runs root\'s script whose #! names alice\'s binary as alice, never as root', () => {
    const script = rootScript('alice-interp', `#!${aliceSh}`);
    expect(fs.statSync(script).uid).toBe(0);
    const result = runAsOwner({ binary: script, args: [], scanMode: 'live' });
    expect(result).toMatchObject({ ran: true, uid: ALICE, status: 0 });
    // alice's sh wrote it, as alice
    expect(marker('alice-interp')).toEqual({ owner: ALICE, uids: [String(ALICE)] });
  });

  it('reads the #! line as the kernel does: spaces, an argument, no newline', () => {
    const lines: [string, string][] = [
      ['spaced', `#!  ${aliceSh}  `],
      ['with-arg', `#!${aliceSh} -e`],
      ['tab-arg', `#!\t${aliceSh}\t-e -u `],
    ];
    for (const [name, line] of lines) {
      expect([name, planRun({ binary: rootScript(name, line), args: [], scanMode: 'live' })]).toMatchObject([name, { ok: true, as: { uid: ALICE } }]);
    }
    const noNewline = path.join(clean, 'no-newline');
    fs.writeFileSync(noNewline, `#!${aliceSh}`, { mode: 0o755 });
    expect(planRun({ binary: noNewline, args: [], scanMode: 'live' })).toMatchObject({ ok: true, as: { uid: ALICE } });
    // an interpreter cut off by the kernel's 256 bytes: the kernel would not run it, nor does this
    const cut = path.join(clean, 'cut');
    fs.writeFileSync(cut, `#!/${'x'.repeat(300)}\n`, { mode: 0o755 });
    expect(runAsOwner({ binary: cut, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('longer than the kernel reads') });
  });

  it('runs root\'s `#!/usr/bin/env X` script as alice when X is alice\'s, found on the PATH it gets', () => {
    const planted = path.join(aliceBin, 'rxm-planted');
    fs.copyFileSync(realSh, planted);
    fs.chmodSync(planted, 0o755);
    fs.chownSync(planted, ALICE, ALICE);
    const script = rootScript('env-planted', '#!/usr/bin/env rxm-planted');
    const result = runAsOwner({ binary: script, args: [], scanMode: 'live', env: { PATH: `${aliceBin}:${FIXED_PATH}` } });
    expect(result).toMatchObject({ ran: true, uid: ALICE, status: 0 });
    expect(marker('env-planted')).toEqual({ owner: ALICE, uids: [String(ALICE)] });
  });

  it('counts a PATH dir alice owns even when X is root\'s, found after it: she could put hers first', () => {
    const empty = path.join(dir('home-alice-path', 0o755, ALICE), 'bin');
    fs.mkdirSync(empty, { recursive: true });
    fs.chownSync(empty, ALICE, ALICE);
    const script = rootScript('env-after-alice', '#!/usr/bin/env sh');
    const result = runAsOwner({ binary: script, args: [], scanMode: 'live', env: { PATH: `${empty}:${FIXED_PATH}` } });
    expect(result).toMatchObject({ ran: true, uid: ALICE });
    expect(marker('env-after-alice')).toEqual({ owner: ALICE, uids: [String(ALICE)] });
  });

  it('refuses a PATH dir anyone may write, even sticky, and a relative one', () => {
    const open = dir('open-path', 0o1777, 0);
    const script = rootScript('env-open-path', '#!/usr/bin/env sh');
    expect(runAsOwner({ binary: script, args: [], scanMode: 'live', env: { PATH: `${open}:${FIXED_PATH}` } })).toEqual({
      ran: false,
      reason: expect.stringMatching(/PATH dir .*open-path is writable by anyone \(mode 1777\): anyone who can write it can put a program on its PATH/),
    });
    expect(runAsOwner({ binary: script, args: [], scanMode: 'live', env: { PATH: `bin:${FIXED_PATH}` } })).toEqual({ ran: false, reason: expect.stringContaining('is not an absolute dir') });
    expect(marker('env-open-path')).toBeUndefined();
  });

  it('refuses an interpreter that is itself a script, one in a dir its group may write, and env options', () => {
    const inner = rootScript('inner', '#!/bin/sh');
    const nested = rootScript('nested', `#!${inner}`);
    expect(runAsOwner({ binary: nested, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('is itself a script') });
    const shared = dir('group-interp', 0o775, 0);
    fs.copyFileSync(realSh, path.join(shared, 'sh'));
    fs.chmodSync(path.join(shared, 'sh'), 0o755);
    const grouped = rootScript('group-interp', `#!${path.join(shared, 'sh')}`);
    expect(runAsOwner({ binary: grouped, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('writable by its group') });
    const split = rootScript('env-split', `#!/usr/bin/env -S ${aliceSh}`);
    expect(runAsOwner({ binary: split, args: [], scanMode: 'live' })).toEqual({ ran: false, reason: expect.stringContaining('env options and variables are not followed') });
    for (const name of ['inner', 'nested', 'group-interp', 'env-split']) expect([name, marker(name)]).toEqual([name, undefined]);
  });
});

describe('nothing else spawns', () => {
  it('only src/scan/run-as-owner.ts imports node:child_process', () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const spawning = fs
      .readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from ['"](node:)?child_process['"]|require\(['"](node:)?child_process['"]\)/.test(fs.readFileSync(path.join(src, file), 'utf8')));
    expect(spawning).toEqual(['scan/run-as-owner.ts']);
  });
});
