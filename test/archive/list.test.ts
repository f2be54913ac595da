import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveHoldsResonixState, classifyArchiveHead, isTarHeader } from '../../src/archive/classify.js';
import { inspectArchiveFile } from '../../src/archive/list.js';

const hasTool = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = (...tools: string[]): string[] => tools.filter((tool) => !hasTool(tool));

let tmp: string;
const at = (...parts: string[]): string => path.join(tmp, ...parts);

function run(command: string, args: string[], cwd = tmp): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function sh(script: string, cwd = tmp): void {
  execFileSync('sh', ['-c', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function write(file: string, content: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

/** A home with ordinary files and, optionally, a file-based Resonix state dir (reference §2). */
function makeHome(name: string, withResonix: boolean): string {
  const home = at(name);
  write(path.join(home, 'notes.txt'), 'hello\n');
  write(path.join(home, 'Documents', 'plan.md'), '# plan\n');
  if (!withResonix) return home;
  const state = path.join(home, '.resonix');
  write(path.join(state, 'resonix.json'), '{ gateway: { mode: "local" } }\n', 0o600);
  write(path.join(state, 'resonix.json.bak.1'), '{}\n', 0o600);
  write(path.join(state, '.env'), 'OPENROUTER_API_KEY=x\n', 0o600);
  write(path.join(state, 'credentials', 'whatsapp', 'default', 'creds.json'), '{}', 0o600);
  write(path.join(state, 'agents', 'main', 'agent', 'auth-profiles.json'), '{"version":1}', 0o600);
  write(path.join(state, 'agents', 'main', 'sessions', 'sessions.json'), '{}', 0o600);
  write(path.join(state, 'identity', 'device.json'), '{}', 0o600);
  write(path.join(state, 'state', 'resonix.sqlite'), 'SQLite format 3\0', 0o600);
  write(path.join(state, 'gateway', 'tls', 'gateway-key.pem'), 'k', 0o600);
  write(path.join(state, 'gateway', 'tls', 'gateway-cert.pem'), 'c');
  write(path.join(state, 'workspace', 'AGENTS.md'), '# agents\n');
  fs.symlinkSync('workspace/AGENTS.md', path.join(state, 'agents-link'));
  fs.chmodSync(state, 0o700);
  return home;
}

const HOME_SECRETS = [
  '.resonix/.env',
  '.resonix/agents/main/agent/auth-profiles.json',
  '.resonix/credentials/whatsapp/default/creds.json',
  '.resonix/gateway/tls/gateway-key.pem',
  '.resonix/identity/device.json',
  '.resonix/resonix.json',
  '.resonix/resonix.json.bak.1',
  '.resonix/state/resonix.sqlite',
];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-archive-'));
  makeHome('home-tar', true);
  write(at('outside.txt'), 'o');
  write(at('payload.bin'), randomBytes(4096));
  for (let i = 0; i < 40; i++) write(at('many', `f${String(i).padStart(2, '0')}.bin`), randomBytes(16 * 1024));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

function tarBlock(options: { name?: string; magic?: 'posix' | 'gnu'; badChecksum?: boolean } = {}): Buffer {
  const block = Buffer.alloc(512);
  block.write(options.name ?? 'hello.txt', 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write('00000000006\0', 124, 'latin1');
  block.write('14700000000\0', 136, 'latin1');
  block.write('0', 156, 'latin1');
  block.write(options.magic === 'gnu' ? 'ustar  \0' : 'ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (options.badChecksum) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

const bytes = (...values: number[]): Buffer => Buffer.from(values);
const text = (value: string): Buffer => Buffer.from(value, 'latin1');

describe('classifyArchiveHead', () => {
  it.each([
    ['POSIX tar', tarBlock(), 'tar', false],
    ['GNU tar', tarBlock({ magic: 'gnu' }), 'tar', false],
    ['tar with a bad checksum (magic still says tar)', tarBlock({ badChecksum: true }), 'tar', false],
    ['tar whose first member is named like a zip', tarBlock({ name: 'PK\x03\x04.txt' }), 'tar', false],
    ['gzip', bytes(0x1f, 0x8b, 0x08, 0x00), 'gzip', false],
    ['zip', text('PK\x03\x04\x14\x00'), 'zip', false],
    ['empty zip', text('PK\x05\x06'.padEnd(22, '\0')), 'zip', false],
    ['age binary', text('age-encryption.org/v1\n-> X25519 abc\n'), 'age', true],
    ['age armored', text('\n-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n'), 'age', true],
    ['OpenPGP armored', text('-----BEGIN PGP MESSAGE-----\n\njA0E\n'), 'openpgp', true],
    ['OpenPGP old-format SKESK v4 (gpg -c)', bytes(0x8c, 0x0d, 0x04, 0x09, 0x03, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0xff), 'openpgp', true],
    ['OpenPGP new-format SKESK v6', bytes(0xc3, 0x20, 0x06, 0x1e, 0x09, 0x03, 0x04), 'openpgp', true],
    ['OpenPGP new-format SKESK, 2-octet length', bytes(0xc3, 0xc0, 0x10, 0x04, 0x09, 0x03), 'openpgp', true],
    ['OpenPGP old-format PKESK v3', bytes(0x84, 0x5e, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 0x12), 'openpgp', true],
    ['OpenPGP new-format PKESK v3', bytes(0xc1, 0x5e, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 0x12), 'openpgp', true],
    ['OpenPGP SEIPD v1, partial length', bytes(0xd2, 0xe9, 0x01, 0xaa), 'openpgp', true],
    ['OpenPGP SEIPD v2, 5-octet length', bytes(0xd2, 0xff, 0, 0, 1, 0, 0x02, 0x09), 'openpgp', true],
    ['OpenPGP old-format SED, indeterminate length', bytes(0xa7, 0x11, 0x22), 'openpgp', true],
    ['OpenPGP SKESK with an unknown version', bytes(0x8c, 0x0d, 0x09, 0x09, 0x03), 'unknown', false],
    ['OpenPGP compressed packet (not encrypted)', bytes(0xa3, 0x01, 0x78, 0x9c), 'unknown', false],
    ['OpenPGP signature packet', bytes(0x89, 0x01, 0x0c, 0x04), 'unknown', false],
    ['OpenPGP header cut short', bytes(0x85), 'unknown', false],
    ['openssl enc', text('Salted__12345678'), 'openssl-enc', true],
    ['7z', bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0x00, 0x04), '7z', false],
    ['bzip2', text('BZh91AY&SY'), 'bzip2', false],
    ['"BZh" without a block size', text('BZhello'), 'unknown', false],
    ['xz', bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00), 'xz', false],
    ['zstd', bytes(0x28, 0xb5, 0x2f, 0xfd, 0x24), 'zstd', false],
    ['plain text', text('hello world\n'), 'unknown', false],
    ['empty', Buffer.alloc(0), 'unknown', false],
  ] as const)('%s', (_name, head, format, encrypted) => {
    expect(classifyArchiveHead(head)).toEqual({ format, encrypted });
  });
});

describe('isTarHeader', () => {
  it('checks magic and checksum', () => {
    expect(isTarHeader(tarBlock())).toBe(true);
    expect(isTarHeader(tarBlock({ magic: 'gnu' }))).toBe(true);
    expect(isTarHeader(tarBlock({ badChecksum: true }))).toBe(false);
    expect(isTarHeader(tarBlock().subarray(0, 511))).toBe(false);
    expect(isTarHeader(Buffer.alloc(512))).toBe(false);
  });
});

describe('archiveHoldsResonixState', () => {
  const list = (...paths: string[]) => paths.map((p) => ({ path: p }));

  it('says no for a home without a state dir', () => {
    expect(archiveHoldsResonixState(list('notes.txt', 'Documents/', 'Documents/resonix.json'))).toEqual({
      holdsResonixState: false,
      secretMembers: [],
    });
  });

  it('finds .resonix at any depth, normalises paths and lists secret files only', () => {
    const verdict = archiveHoldsResonixState([
      ...list('./home/alice/.resonix/', './home/alice/.resonix/resonix.json', '/home/alice/.resonix/.env'),
      ...list('home/alice/.resonix/credentials/', 'home/alice/.resonix/credentials/oauth.json'),
      ...list('home/alice/.resonix/devices/paired.json', 'home/alice/.resonix/devices/pending.json'),
      ...list('home/alice/.resonix/tmp/resonix-1000/gateway.ab12.lock.sqlite', 'home/alice/.resonix/state/resonix.sqlite-wal'),
      ...list('home/alice/.resonix/agents/main/agent/resonix-agent.sqlite', 'home/alice/.resonix/cron/jobs.json'),
      { path: 'home/alice/.resonix/identity', type: 'dir' as const },
    ]);
    expect(verdict).toEqual({
      holdsResonixState: true,
      secretMembers: [
        'home/alice/.resonix/.env',
        'home/alice/.resonix/agents/main/agent/resonix-agent.sqlite',
        'home/alice/.resonix/credentials/oauth.json',
        'home/alice/.resonix/devices/paired.json',
        'home/alice/.resonix/resonix.json',
        'home/alice/.resonix/state/resonix.sqlite-wal',
      ],
    });
  });

  it('knows profile dirs', () => {
    const verdict = archiveHoldsResonixState(list('.resonix-work/resonix.json.last-good', '.resonix-work/secrets.json'));
    expect(verdict.secretMembers).toEqual(['.resonix-work/resonix.json.last-good', '.resonix-work/secrets.json']);
  });

  it("does not take a workspace's own .resonix for a state dir", () => {
    const verdict = archiveHoldsResonixState(list('agent-main/AGENTS.md', 'agent-main/.resonix/', 'agent-main/.resonix/workspace-state.json'));
    expect(verdict.holdsResonixState).toBe(false);
  });

  it('knows an archive of the state dir contents (resonix.json next to credentials/ or agents/)', () => {
    const verdict = archiveHoldsResonixState(list('resonix.json', 'agents/main/agent/auth.json', 'workspace/SOUL.md'));
    expect(verdict).toEqual({ holdsResonixState: true, secretMembers: ['agents/main/agent/auth.json', 'resonix.json'] });
    expect(archiveHoldsResonixState(list('resonix.json', 'notes.txt')).holdsResonixState).toBe(false);
  });

  it('knows a `resonix backup create` archive', () => {
    const root = '2026-09-01T10-00-00Z-resonix-backup';
    const verdict = archiveHoldsResonixState(
      list(`${root}/manifest.json`, `${root}/payload/srv/rx/resonix.json`, `${root}/payload/srv/rx/state/resonix.sqlite`),
    );
    expect(verdict).toEqual({
      holdsResonixState: true,
      secretMembers: [`${root}/payload/srv/rx/resonix.json`, `${root}/payload/srv/rx/state/resonix.sqlite`],
    });
  });

  it('returns at most 20 secret members, sorted', () => {
    const paths = Array.from({ length: 30 }, (_, i) => `.resonix/credentials/c${String(i).padStart(2, '0')}.json`);
    const verdict = archiveHoldsResonixState(list(...paths.reverse()));
    expect(verdict.secretMembers).toHaveLength(20);
    expect(verdict.secretMembers[0]).toBe('.resonix/credentials/c00.json');
    expect(verdict.secretMembers[19]).toBe('.resonix/credentials/c19.json');
  });
});

// ---------------------------------------------------------------------------------------------

describe('inspectArchiveFile with real tools', () => {
  it.skipIf(missing('tar', 'gzip').length > 0)('lists a tar.gz of a home with .resonix', async () => {
    const home = makeHome('home-rx', true);
    run('tar', ['czf', at('home-rx.tgz'), '.'], home);
    const result = await inspectArchiveFile(at('home-rx.tgz'));
    expect(result).toMatchObject({ format: 'tar.gz', encrypted: false });
    expect(result.listError).toBeUndefined();
    const byPath = new Map(result.members!.map((member) => [member.path, member]));
    expect(byPath.get('./.resonix/')).toMatchObject({ type: 'dir', mode: 0o700 });
    expect(byPath.get('./.resonix/resonix.json')).toMatchObject({ type: 'file', mode: 0o600, uid: process.getuid!() });
    expect(byPath.get('./.resonix/agents-link')).toMatchObject({ type: 'symlink', linkTarget: 'workspace/AGENTS.md' });
    expect(byPath.get('./notes.txt')).toMatchObject({ type: 'file', size: 6, mode: 0o644 });
    expect(byPath.get('./notes.txt')!.mtimeMs).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(archiveHoldsResonixState(result.members!)).toEqual({ holdsResonixState: true, secretMembers: HOME_SECRETS });
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('`tar czf x.tgz *` in a home holds no Resonix state (the glob skips dot dirs)', async () => {
    const plain = makeHome('home-plain', false);
    sh(`tar czf ${at('plain.tgz')} *`, plain);
    const withDot = makeHome('home-glob', true);
    sh(`tar czf ${at('glob.tgz')} *`, withDot);
    for (const name of ['plain.tgz', 'glob.tgz']) {
      const result = await inspectArchiveFile(at(name));
      expect(result.format).toBe('tar.gz');
      expect(result.members!.map((member) => member.path).sort()).toEqual(['Documents/', 'Documents/plan.md', 'notes.txt']);
      expect(archiveHoldsResonixState(result.members!).holdsResonixState).toBe(false);
    }
  });

  it.skipIf(missing('tar').length > 0)('lists a plain tar, names with ../ and absolute paths as they are', async () => {
    run('tar', ['cPf', at('home.tar'), 'home-tar/.resonix', '../' + path.basename(tmp) + '/outside.txt', at('outside.txt')]);
    const result = await inspectArchiveFile(at('home.tar'));
    expect(result).toMatchObject({ format: 'tar', encrypted: false });
    const paths = result.members!.map((member) => member.path);
    expect(paths).toContain('home-tar/.resonix/resonix.json');
    expect(paths).toContain(`../${path.basename(tmp)}/outside.txt`);
    expect(paths).toContain(at('outside.txt'));
    expect(archiveHoldsResonixState(result.members!).secretMembers).toEqual(HOME_SECRETS.map((p) => `home-tar/${p}`));
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('reports a truncated .tgz with the members listed so far', async () => {
    run('tar', ['czf', at('many.tgz'), 'many']);
    const whole = fs.readFileSync(at('many.tgz'));
    fs.writeFileSync(at('cut.tgz'), whole.subarray(0, Math.floor(whole.length / 2)));
    const result = await inspectArchiveFile(at('cut.tgz'));
    expect(result.format).toBe('tar.gz');
    expect(result.listError).toMatch(/^truncated gzip stream after \d+ members$/);
    expect(result.members!.length).toBeGreaterThan(5);
    expect(result.members!.length).toBeLessThan(41);
    expect(result.listError).toBe(`truncated gzip stream after ${result.members!.length} members`);
  });

  it.skipIf(missing('tar').length > 0)('reports a truncated plain tar', async () => {
    run('tar', ['cf', at('many.tar'), 'many']);
    const whole = fs.readFileSync(at('many.tar'));
    fs.writeFileSync(at('cut.tar'), whole.subarray(0, 300 * 1024 + 100));
    const result = await inspectArchiveFile(at('cut.tar'));
    expect(result.format).toBe('tar');
    expect(result.listError).toMatch(/^truncated tar after \d+ members$/);
    expect(result.members!.length).toBeGreaterThan(5);
  });

  it.skipIf(missing('tar').length > 0)('stops at maxMembers', async () => {
    run('tar', ['cf', at('many-limit.tar'), 'many']);
    const result = await inspectArchiveFile(at('many-limit.tar'), { maxMembers: 10 });
    expect(result.members).toHaveLength(10);
    expect(result.membersTruncated).toBe(true);
    expect(result.listError).toBeUndefined();
    const all = await inspectArchiveFile(at('many-limit.tar'), { maxMembers: 41 });
    expect(all.members).toHaveLength(41);
    expect(all.membersTruncated).toBeUndefined();
  });

  it.skipIf(missing('gzip').length > 0)('calls a gzip that is not a tar "gzip"', async () => {
    write(at('notes.txt.gz.src'), 'just some text\n'.repeat(100));
    sh(`gzip -c notes.txt.gz.src > notes.gz`);
    expect(await inspectArchiveFile(at('notes.gz'))).toEqual({ format: 'gzip', encrypted: false });
  });

  it.skipIf(missing('zip').length > 0)('lists a zip from its central directory', async () => {
    const home = makeHome('home-zip', true);
    run('zip', ['-q', '-r', '-y', at('home.zip'), '.'], home);
    const result = await inspectArchiveFile(at('home.zip'));
    expect(result).toMatchObject({ format: 'zip', encrypted: false });
    expect(result.partlyEncrypted).toBeUndefined();
    const byPath = new Map(result.members!.map((member) => [member.path, member]));
    expect(byPath.get('.resonix/')).toMatchObject({ type: 'dir', mode: 0o700 });
    expect(byPath.get('.resonix/resonix.json')).toMatchObject({ type: 'file', mode: 0o600, encrypted: false });
    expect(byPath.get('.resonix/agents-link')).toMatchObject({ type: 'symlink' });
    expect(archiveHoldsResonixState(result.members!)).toEqual({
      holdsResonixState: true,
      secretMembers: HOME_SECRETS,
    });
  });

  it.skipIf(missing('zip').length > 0)('sees encrypted zip entries, all or some', async () => {
    makeHome('home-zipenc', true);
    run('zip', ['-q', '-P', 'pass', '-r', at('enc.zip'), 'home-zipenc']);
    const all = await inspectArchiveFile(at('enc.zip'));
    expect(all).toMatchObject({ format: 'zip', encrypted: true });
    expect(all.members!.filter((member) => member.type === 'file').every((member) => member.encrypted)).toBe(true);

    fs.copyFileSync(at('enc.zip'), at('partly.zip'));
    run('zip', ['-q', at('partly.zip'), 'outside.txt']);
    const partly = await inspectArchiveFile(at('partly.zip'));
    expect(partly).toMatchObject({ format: 'zip', encrypted: false, partlyEncrypted: true });
  });

  it.skipIf(missing('zip').length > 0)('lists zip names with ../ as they are', async () => {
    fs.mkdirSync(at('zipsub'), { recursive: true });
    run('zip', ['-q', at('evil.zip'), '../outside.txt'], at('zipsub'));
    const result = await inspectArchiveFile(at('evil.zip'));
    expect(result.members!.map((member) => member.path)).toEqual(['../outside.txt']);
    expect(result.listError).toBeUndefined();
  });

  it.skipIf(missing('zip').length > 0)('reports a zip cut short', async () => {
    run('zip', ['-q', '-r', at('tocut.zip'), 'home-tar']);
    const whole = fs.readFileSync(at('tocut.zip'));
    fs.writeFileSync(at('cut.zip'), whole.subarray(0, whole.length - 200));
    const result = await inspectArchiveFile(at('cut.zip'));
    expect(result.format).toBe('zip');
    expect(result.listError).toMatch(/^corrupt zip/);
  });

  it('lists an empty zip', async () => {
    write(at('empty.zip'), text('PK\x05\x06'.padEnd(22, '\0')));
    expect(await inspectArchiveFile(at('empty.zip'))).toEqual({ format: 'zip', encrypted: false, members: [] });
  });

  const gpg = ['gpg', '--batch', '--quiet', '--passphrase', 'x', '--pinentry-mode', 'loopback', '--homedir'];

  it.skipIf(missing('gpg').length > 0)('sees gpg -c output, binary and armored, as encrypted OpenPGP', async () => {
    const gnupgHome = at('gnupg');
    fs.mkdirSync(gnupgHome, { mode: 0o700 });
    run(gpg[0]!, [...gpg.slice(1), gnupgHome, '-c', '-o', at('home.tar.gpg'), at('payload.bin')]);
    run(gpg[0]!, [...gpg.slice(1), gnupgHome, '-c', '--armor', '-o', at('home.tar.asc'), at('payload.bin')]);
    for (const name of ['home.tar.gpg', 'home.tar.asc']) {
      expect(await inspectArchiveFile(at(name))).toEqual({ format: 'openpgp', encrypted: true });
    }
  });

  it.skipIf(missing('openssl').length > 0)('sees openssl enc output', async () => {
    run('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-pass', 'pass:x', '-in', at('payload.bin'), '-out', at('home.tar.enc')]);
    expect(await inspectArchiveFile(at('home.tar.enc'))).toEqual({ format: 'openssl-enc', encrypted: true });
  });

  it.skipIf(missing('age', 'age-keygen').length > 0)('sees age output, binary and armored (needs age, age-keygen)', async () => {
    run('age-keygen', ['-o', at('age.key')]);
    const recipient = execFileSync('age-keygen', ['-y', at('age.key')], { encoding: 'utf8' }).trim();
    run('age', ['-r', recipient, '-o', at('home.tar.age'), at('payload.bin')]);
    run('age', ['-r', recipient, '-a', '-o', at('home.tar.age.asc'), at('payload.bin')]);
    for (const name of ['home.tar.age', 'home.tar.age.asc']) {
      expect(await inspectArchiveFile(at(name))).toEqual({ format: 'age', encrypted: true });
    }
  });

  it.skipIf(missing('7z').length > 0)('sees a 7z with encrypted headers (needs 7z from p7zip-full)', async () => {
    run('7z', ['a', '-bso0', '-bsp0', '-pxyz', '-mhe=on', at('enc.7z'), 'home-tar']);
    expect(await inspectArchiveFile(at('enc.7z'))).toEqual({ format: '7z', encrypted: true });
    run('7z', ['a', '-bso0', '-bsp0', '-pxyz', '-mhc=off', at('enc-plainheader.7z'), 'home-tar']);
    expect(await inspectArchiveFile(at('enc-plainheader.7z'))).toEqual({ format: '7z', encrypted: true });
  });

  it.skipIf(missing('7z').length > 0)('cannot list or judge a 7z with a compressed header (needs 7z)', async () => {
    run('7z', ['a', '-bso0', '-bsp0', at('plain.7z'), 'home-tar']);
    expect(await inspectArchiveFile(at('plain.7z'))).toEqual({ format: '7z', encrypted: false, listError: 'cannot list 7z' });
    // -p without -mhe: the AES coder is inside the LZMA-compressed header, out of sight
    run('7z', ['a', '-bso0', '-bsp0', '-pxyz', at('data-only.7z'), 'home-tar']);
    expect(await inspectArchiveFile(at('data-only.7z'))).toEqual({ format: '7z', encrypted: false, listError: 'cannot list 7z' });
    const whole = fs.readFileSync(at('plain.7z'));
    fs.writeFileSync(at('cut.7z'), whole.subarray(0, whole.length - 10));
    expect(await inspectArchiveFile(at('cut.7z'))).toEqual({ format: '7z', encrypted: false, listError: 'truncated 7z' });
  });

  it.skipIf(missing('tar', 'bzip2', 'xz').length > 0)('names bzip2 and xz archives without listing them', async () => {
    run('tar', ['cjf', at('home.tar.bz2'), 'home-tar']);
    run('tar', ['cJf', at('home.tar.xz'), 'home-tar']);
    expect(await inspectArchiveFile(at('home.tar.bz2'))).toEqual({ format: 'bzip2', encrypted: false });
    expect(await inspectArchiveFile(at('home.tar.xz'))).toEqual({ format: 'xz', encrypted: false });
  });

  it.skipIf(missing('tar', 'zstd').length > 0)('names zstd archives (needs zstd)', async () => {
    run('tar', ['--zstd', '-cf', at('home.tar.zst'), 'home-tar']);
    expect(await inspectArchiveFile(at('home.tar.zst'))).toEqual({ format: 'zstd', encrypted: false });
  });
});

describe('inspectArchiveFile on odd files', () => {
  it('calls random bytes unknown, whatever the name', async () => {
    // a 0x1f 0x8b or other magic at the start would make this flaky
    const noise = Buffer.concat([text('RANDOM'), randomBytes(8192)]);
    write(at('random.tar.gz'), noise);
    expect(await inspectArchiveFile(at('random.tar.gz'))).toEqual({ format: 'unknown', encrypted: false });
  });

  it('calls an empty file unknown', async () => {
    write(at('empty.tgz'), '');
    expect(await inspectArchiveFile(at('empty.tgz'))).toEqual({ format: 'unknown', encrypted: false });
  });

  it('reports corrupt gzip data after a valid gzip header', async () => {
    write(at('bad.tgz'), Buffer.concat([bytes(0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3), Buffer.alloc(64, 0xff)]));
    const result = await inspectArchiveFile(at('bad.tgz'));
    expect(result.format).toBe('gzip');
    expect(result.listError).toMatch(/^corrupt gzip stream after 0 members: /);
  });

  it.skipIf(missing('mkfifo').length > 0)('refuses a FIFO without opening it', async () => {
    run('mkfifo', [at('backup.tgz.fifo')]);
    // opening a FIFO for reading without O_NONBLOCK would block here until a writer came
    const result = await inspectArchiveFile(at('backup.tgz.fifo'));
    expect(result).toEqual({ format: 'unknown', encrypted: false, listError: 'not a regular file (fifo)' });
  });

  it('refuses a symlink and a directory', async () => {
    fs.symlinkSync(at('empty.zip'), at('link.zip'));
    expect((await inspectArchiveFile(at('link.zip'))).listError).toBe('not a regular file (symlink)');
    expect((await inspectArchiveFile(tmp)).listError).toBe('not a regular file (directory)');
  });

  it('reports a missing file without throwing', async () => {
    const result = await inspectArchiveFile(at('nope.tgz'));
    expect(result).toMatchObject({ format: 'unknown', encrypted: false });
    expect(result.listError).toMatch(/ENOENT/);
  });

  it.skipIf(missing('tar', 'gzip', 'truncate').length > 0)(
    'lists a large tar.gz with flat memory',
    async () => {
      write(path.join(at('big'), 'small.txt'), 'x');
      run('truncate', ['-s', '512M', path.join(at('big'), 'zeros.bin')]);
      sh(`tar cf - big | gzip -1 > big.tgz`);
      const before = process.memoryUsage().rss;
      let peak = before;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const result = await inspectArchiveFile(at('big.tgz'));
      clearInterval(timer);
      expect(result.listError).toBeUndefined();
      expect(result.members!.find((member) => member.path === 'big/zeros.bin')!.size).toBe(512 * 1024 * 1024);
      expect(peak - before).toBeLessThan(128 * 1024 * 1024);
    },
    60_000,
  );

  it.skipIf(missing('tar', 'gzip').length > 0)('stops a tar listing at maxBytes', async () => {
    run('tar', ['czf', at('many-bytes.tgz'), 'many']);
    const result = await inspectArchiveFile(at('many-bytes.tgz'), { maxBytes: 100 * 1024 });
    expect(result.membersTruncated).toBe(true);
    expect(result.listError).toBeUndefined();
  });
});
