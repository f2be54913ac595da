// inspect ARCHIVE on damaged and hostile archives: clear one-line problems, never a crash, never a write.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRules } from '../../src/engine.js';
import { inspectArchive } from '../../src/archive/inspect.js';
import type { Install, Machine, ScanProblem } from '../../src/model.js';
import { FAKE_SECRETS, makeHome, missing, needs, run, sh, snapshot, write } from './fixture.js';

let tmp: string;
let home: string;
const at = (...parts: string[]): string => path.join(tmp, ...parts);

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-hostile-'));
  home = makeHome(tmp);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const installsOf = (machine: Machine): Install[] => machine.homes.flatMap((item) => item.installs);
const codes = (problems: ScanProblem[]): string[] => problems.map((problem) => problem.code);

function expectOneLineEach(problems: ScanProblem[]): void {
  for (const problem of problems) {
    expect(problem.message).not.toMatch(/[\n\r]/);
    expect(problem.message.length).toBeLessThan(400);
  }
}

describe('path traversal', () => {
  it.skipIf(missing('tar').length > 0)(`../ and absolute members and writes through a symlink member: reported, left out, nothing written ${needs('tar')}`, async () => {
    const src = at('evil', 'src');
    write(path.join(src, '.resonix', 'resonix.json'), '{ gateway: { mode: "local" } }');
    write(path.join(src, '.resonix', 'credentials', 'oauth.json'), '{}');
    fs.symlinkSync('/etc/shadow', path.join(src, '.resonix', 'shadow'));
    fs.symlinkSync('../../outside/creds', path.join(src, '.resonix', 'up'));
    write(at('evil', 'evil.txt'), 'pwned\n');
    write(at('evil', 'evil\nline.txt'), 'pwned\n');
    write(path.join(src, 'realdir', 'f'), 'x');
    fs.symlinkSync('realdir', path.join(src, 'lnk'));
    run('tar', ['-cPf', at('evil.tar'), '.resonix', '../evil.txt', '../evil\nline.txt', '/etc/passwd', 'lnk', 'lnk/f'], src);

    const before = snapshot(tmp);
    const parentBefore = fs.readdirSync(path.dirname(tmp)).filter((name) => name.startsWith('evil'));
    const { machine, problems, secrets } = await inspectArchive(at('evil.tar'));
    expect(snapshot(tmp)).toEqual(before);
    expect(fs.readdirSync(path.dirname(tmp)).filter((name) => name.startsWith('evil'))).toEqual(parentBefore);

    expect(codes(problems)).toEqual(['EARCHIVE_TRAVERSAL', 'EARCHIVE_TRAVERSAL', 'EARCHIVE_TRAVERSAL', 'EARCHIVE_TRAVERSAL']);
    const text = problems.map((problem) => problem.message).join('\n');
    expect(text).toContain(`unsafe member "../evil.txt" ('..' in its path)`);
    expect(text).toContain('unsafe member "../evil\\nline.txt"'); // escaped as every report escapes a newline
    expect(text).toContain('unsafe member "/etc/passwd" (an absolute path)');
    expect(text).toContain('unsafe member "lnk/f" (a path through the symlink member "lnk")');
    expectOneLineEach(problems);
    // the absolute /etc/passwd member is not read as the archive's users
    expect(machine.users).toEqual([]);
    const [install] = installsOf(machine);
    expect(install!.inventory.entries.map((entry) => entry.path).sort()).toEqual(['', 'credentials', 'credentials/oauth.json', 'resonix.json', 'shadow', 'up']);

    const report = runRules({ phase: 'inspect', machine, secrets });
    const escape = report.findings.find((finding) => finding.ruleId === 'perms/symlink-escape');
    expect([...escape!.evidence!].sort()).toEqual(['/.resonix/shadow -> /etc/shadow (absolute)', '/.resonix/up -> ../../outside/creds']);
  });

  it.skipIf(missing('zip').length > 0)(`zip names with ../ are reported the same way ${needs('zip')}`, async () => {
    const sub = at('zipevil', 'sub');
    write(path.join(sub, '.resonix', 'resonix.json'), '{}');
    write(at('zipevil', 'evil.txt'), 'x');
    run('zip', ['-q', at('evil.zip'), '.resonix/resonix.json', '../evil.txt'], sub);
    const { problems } = await inspectArchive(at('evil.zip'));
    expect(codes(problems)).toContain('EARCHIVE_TRAVERSAL');
  });
});

describe('damage', () => {
  /** A state dir with enough data that a cut lands after some members: names sorted, so the order is known. */
  function bulkyState(): string {
    const dir = at('bulky');
    write(path.join(dir, '.resonix', 'agents', 'main', 'agent', 'auth-profiles.json'), '{"version":1}');
    for (let i = 0; i < 40; i++) write(path.join(dir, '.resonix', 'media', `m${String(i).padStart(2, '0')}.bin`), Buffer.from(Array.from({ length: 16384 }, (_, n) => (n * 7919 + i * 104729) % 251)));
    write(path.join(dir, '.resonix', 'resonix.json'), '{ gateway: { mode: "local" } }');
    return dir;
  }

  it.skipIf(missing('tar', 'gzip').length > 0)(`a truncated tgz: what was listed, and a problem ${needs('tar', 'gzip')}`, async () => {
    const dir = bulkyState();
    sh(`tar --sort=name -cf - .resonix | gzip -1 > ${at('bulky.tgz')}`, dir);
    const whole = fs.readFileSync(at('bulky.tgz'));
    fs.writeFileSync(at('cut.tgz'), whole.subarray(0, Math.floor(whole.length / 2)));
    const { machine, archive, problems } = await inspectArchive(at('cut.tgz'));
    expect(archive.format).toBe('tar.gz');
    expect(codes(problems)).toEqual(['EARCHIVE']);
    expect(problems[0]!.message).toMatch(/: truncated gzip stream after (\d+) members: only the \1 members listed before that are in the inventory$/);
    const [install] = installsOf(machine);
    const listed = install!.inventory.entries.length;
    expect(listed).toBeGreaterThan(5);
    expect(listed).toBeLessThan(45);
    // resonix.json sorts after media/: never reached
    expect(install!.config.exists).toBe(false);
  });

  it.skipIf(missing('tar').length > 0)(`a tar with a damaged header in the middle ${needs('tar')}`, async () => {
    const dir = bulkyState();
    run('tar', ['--sort=name', '-cf', at('bulky.tar'), '.resonix'], dir);
    const bytes = fs.readFileSync(at('bulky.tar'));
    // walk the headers to the 10th and overwrite it
    let offset = 0;
    for (let i = 0; i < 10; i++) {
      const size = parseInt(bytes.subarray(offset + 124, offset + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    bytes.fill(0xff, offset, offset + 512);
    fs.writeFileSync(at('damaged.tar'), bytes);
    const { machine, problems } = await inspectArchive(at('damaged.tar'));
    expect(codes(problems)).toEqual(['EARCHIVE']);
    expect(problems[0]!.message).toMatch(/: corrupt tar after 10 members: .*: only the 10 members listed before that are in the inventory$/);
    expect(installsOf(machine)[0]!.inventory.entries).toHaveLength(10);
    expectOneLineEach(problems);
  });

  it('random bytes: an unknown format, said so, nothing guessed', async () => {
    write(at('random.tgz'), Buffer.concat([Buffer.from('RANDOM'), Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 31 + 7) % 256))]), 0o600);
    const { machine, archive, problems, secrets } = await inspectArchive(at('random.tgz'));
    expect(archive).toMatchObject({ format: 'unknown', encrypted: false, secretMembers: [] });
    expect(machine.homes).toEqual([]);
    expect(codes(problems)).toEqual(['EARCHIVE_UNREADABLE']);
    expect(problems[0]!.message).toContain(': not an archive format inspect knows');
    expect((await inspectArchive(at('random.tgz'))).opened).toBe(true);
    expect(runRules({ phase: 'inspect', machine, secrets }).findings).toEqual([]);
  });

  it.skipIf(missing('tar', 'xz').length > 0)(`an xz tarball: named, not listed, with the way to read it ${needs('tar', 'xz')}`, async () => {
    run('tar', ['-cJf', at('home.tar.xz'), '.resonix'], home);
    const { archive, problems } = await inspectArchive(at('home.tar.xz'));
    expect(archive.format).toBe('xz');
    expect(problems[0]!.message).toContain('xz-compressed, which inspect does not list: decompress it (unxz -k)');
  });

  it('a missing file, a directory and a FIFO: a problem each, no throw', async () => {
    const missingFile = await inspectArchive(at('nope.tgz'));
    expect(missingFile.problems).toEqual([{ path: at('nope.tgz'), code: 'ENOENT', message: `${at('nope.tgz')}: cannot read: ENOENT` }]);
    expect(missingFile.machine.archives[0]!.holdsResonixState).toBe(false);
    expect(missingFile.opened).toBe(false);
    const dir = await inspectArchive(tmp);
    expect(dir.problems[0]!.message).toContain('not a regular file (directory)');
    expect(dir.opened).toBe(false);
    if (missing('mkfifo').length === 0) {
      run('mkfifo', [at('backup.fifo')], tmp);
      const fifo = await inspectArchive(at('backup.fifo'));
      expect(fifo.problems[0]!.message).toContain('not a regular file (fifo)');
    }
  });
});

describe('bombs and limits', () => {
  it.skipIf(missing('tar', 'gzip', 'truncate').length > 0)(
    `a gzip bomb (200 MB of zeros) stops at the byte cap ${needs('tar', 'gzip', 'truncate')}`,
    async () => {
      const dir = at('bomb');
      write(path.join(dir, '.resonix', 'resonix.json'), '{}');
      write(path.join(dir, '.resonix', 'credentials', 'oauth.json'), '{}');
      fs.writeFileSync(path.join(dir, '.resonix', 'zeros.bin'), '');
      run('truncate', ['-s', '200M', path.join(dir, '.resonix', 'zeros.bin')], dir);
      sh(`tar --sort=name -cf - .resonix | gzip -9 > ${at('bomb.tgz')}`, dir);
      expect(fs.statSync(at('bomb.tgz')).size).toBeLessThan(1024 * 1024);
      const { archive, problems, machine } = await inspectArchive(at('bomb.tgz'), { maxBytes: 16 * 1024 * 1024 });
      expect(archive.membersTruncated).toBe(true);
      expect(codes(problems)).toEqual(['EARCHIVE_LIMIT']);
      expect(problems[0]!.message).toMatch(/: stopped after 16 MiB of decompressed data \(the limit\) from a [\d.]+ KiB file: a gzip bomb or a very large backup; only the first \d+ members are in the inventory$/);
      expect(installsOf(machine)[0]!.inventory.entries.some((entry) => entry.path === 'zeros.bin' && entry.size === 200 * 1024 * 1024)).toBe(true);
    },
    60_000,
  );

  it('a zip that declares terabytes: reported as a bomb, nothing inflated', async () => {
    write(at('bomb.zip'), zipDeclaring(300, 0xfffffffe), 0o600);
    const { archive, problems } = await inspectArchive(at('bomb.zip'));
    expect(archive.format).toBe('zip');
    expect(codes(problems)).toEqual(['EARCHIVE_BOMB', 'EARCHIVE_CONTENT']);
    expect(problems[0]!.message).toMatch(/: zip declares 1\.2 TiB of contents in a [\d.]+ KiB file: a zip bomb\? Nothing was inflated; do not extract it$/);
  });

  it.skipIf(missing('tar').length > 0)(`the member cap ${needs('tar')}`, async () => {
    run('tar', ['-cf', at('capped.tar'), '.resonix'], home);
    const { archive, problems, machine } = await inspectArchive(at('capped.tar'), { maxMembers: 5 });
    expect(archive.membersTruncated).toBe(true);
    // every inventory from a cut listing says so: rules that judge absence skip it
    const inventories = machine.homes.flatMap((home) => home.installs.flatMap((install) => [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]));
    expect(inventories.length).toBeGreaterThan(0);
    expect(inventories.every((inventory) => inventory.truncated === true)).toBe(true);
    expect(problems).toEqual([{ path: at('capped.tar'), code: 'EARCHIVE_LIMIT', message: `${at('capped.tar')}: stopped listing at 5 members (the limit): the rest of the archive is not in the inventory` }]);
  });

  it.skipIf(missing('tar', 'gzip', 'head').length > 0)(
    `a 300 MB tgz lists with flat memory (RSS growth < 60 MB) ${needs('tar', 'gzip', 'head')}`,
    async () => {
      const dir = at('big');
      makeHome(dir);
      const state = path.join(dir, 'home', 'alice', '.resonix');
      sh(`head -c 300M /dev/urandom > media.bin`, state);
      sh(`tar -cf - .resonix | gzip -1 > ${at('big.tgz')}`, path.join(dir, 'home', 'alice'));
      fs.rmSync(dir, { recursive: true, force: true });
      expect(fs.statSync(at('big.tgz')).size).toBeGreaterThan(300 * 1024 * 1024);
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const { machine, problems, secrets } = await inspectArchive(at('big.tgz'));
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      fs.rmSync(at('big.tgz'));
      expect(problems).toEqual([]);
      const [install] = installsOf(machine);
      expect(install!.inventory.entries.find((entry) => entry.path === 'media.bin')!.size).toBe(300 * 1024 * 1024);
      expect(install!.config.gatewayMode).toBe('local');
      expect(peak - before).toBeLessThan(60 * 1024 * 1024);
      const text = JSON.stringify(runRules({ phase: 'inspect', machine, secrets }));
      for (const secret of FAKE_SECRETS) expect(text).not.toContain(secret);
    },
    120_000,
  );
});

/** A zip whose central directory declares `count` stored entries of `size` bytes each, with no data. */
function zipDeclaring(count: number, size: number): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const name = Buffer.from(`.resonix/media/big-${i}.bin`);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(2, 18); // compressed size
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const data = Buffer.from([0x03, 0x00]);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(2, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
