import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { hasTool } from './tools.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHIVE_PASSPHRASE,
  CANARIES,
  CANARY,
  CANARY_DEVICE_ID,
  CANARY_DEVICE_PUBLIC_KEY,
  canChown,
  entry,
  findCanaries,
  loadScenario,
  materialise,
  removeEntries,
  runCli,
  treeDigest,
  treeSnapshot,
  type Materialised,
  type Scenario,
} from './scenario.js';

const exec = promisify(execFile);
const TIMEOUT = 60_000;

function modeOf(p: string): string {
  return (fs.lstatSync(p).mode & 0o7777).toString(8).padStart(4, '0');
}

function header(p: string): { magic: string; pageSize: number; pageCount: number; userVersion: number; size: number; formats: number[] } {
  const bytes = fs.readFileSync(p);
  const raw = bytes.readUInt16BE(16);
  return {
    magic: bytes.subarray(0, 16).toString('latin1'),
    pageSize: raw === 1 ? 65536 : raw,
    pageCount: bytes.readUInt32BE(28),
    userVersion: bytes.readUInt32BE(60),
    size: bytes.length,
    formats: [bytes[18]!, bytes[19]!],
  };
}

/** Every file's text under dir (regular files only). */
function allText(dir: string): string {
  let out = '';
  for (const dirent of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (dirent.isFile()) out += fs.readFileSync(path.join(dirent.parentPath, dirent.name)).toString('latin1');
  }
  return out;
}


const live: Materialised[] = [];
async function make(scenario: Scenario | string): Promise<Materialised> {
  const machine = await materialise(scenario, { allowOwnerSkip: !canChown });
  live.push(machine);
  return machine;
}
afterAll(async () => {
  for (const machine of live) await machine.cleanup();
});

describe('CANARIES', () => {
  it('have the real shapes and are distinct', () => {
    expect(CANARY.anthropic).toMatch(/^sk-ant-api03-[A-Za-z0-9_-]{93}AA$/);
    expect(CANARY.gateway).toMatch(/^[0-9a-f]{48}$/);
    expect(CANARY.remote).toMatch(/^[0-9a-f]{48}$/);
    expect(CANARY.telegram).toMatch(/^\d{9}:[A-Za-z0-9_-]{35}$/);
    expect(Buffer.from(CANARY.whatsapp, 'base64')).toHaveLength(32);
    expect(CANARY.github).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(CANARY.openrouter).toMatch(/^sk-or-v1-[0-9a-f]{64}$/);
    expect(CANARY.devicetoken.length).toBeGreaterThanOrEqual(32);
    expect(new Set(CANARIES).size).toBe(CANARIES.length);
    expect(findCanaries(`x ${CANARY.github} y`)).toEqual([CANARY.github]);
  });

  it('device canary is a real Ed25519 key whose public half and id are exported', async () => {
    const crypto = await import('node:crypto');
    const key = crypto.createPrivateKey({ key: Buffer.from(CANARY.device, 'base64'), format: 'der', type: 'pkcs8' });
    const spki = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' });
    expect(spki.toString('base64')).toBe(CANARY_DEVICE_PUBLIC_KEY);
    expect(crypto.createHash('sha256').update(spki.subarray(-32)).digest('hex')).toBe(CANARY_DEVICE_ID);
  });
});

describe('healthy-file-2026.5', () => {
  let m: Materialised;
  beforeAll(async () => {
    m = await make('healthy-file-2026.5');
  }, TIMEOUT);

  it('lays out the home and env', () => {
    expect(m.home).toBe(path.join(m.root, 'home/alice'));
    expect(m.homeAbs).toBe('/home/alice');
    expect(m.env.HOME).toBe(m.home);
    expect(m.path('/home/alice/.resonix')).toBe(path.join(m.home, '.resonix'));
    expect(m.path('~/.resonix')).toBe(path.join(m.home, '.resonix'));
    expect(m.machinePath(path.join(m.home, '.resonix'))).toBe('/home/alice/.resonix');
    expect(m.autoDirs.filter((d) => d.startsWith('home/alice'))).toEqual([]);
    expect(fs.readFileSync(m.path('/etc/passwd'), 'utf8')).toBe('root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:alice:/home/alice:/bin/bash\n');
    expect(fs.readFileSync(m.path('/etc/group'), 'utf8')).toBe('root:x:0:\nalice:x:1000:\n');
  });

  it('applies modes', () => {
    expect(modeOf(m.home)).toBe('0755');
    expect(modeOf(m.path('~/.resonix'))).toBe('0700');
    expect(modeOf(m.path('~/.resonix/resonix.json'))).toBe('0600');
    expect(modeOf(m.path('~/.resonix/.env'))).toBe('0600');
    expect(modeOf(m.path('~/.resonix/agents/main/agent/auth-profiles.json'))).toBe('0600');
    expect(modeOf(m.path('~/.resonix/credentials/whatsapp/default/creds.json'))).toBe('0600');
    expect(modeOf(m.path('~/.resonix/media'))).toBe('0700');
    expect(modeOf(m.path('/tmp'))).toBe('1777');
    expect(modeOf(m.path('~/.config/systemd/user/resonix-gateway.service'))).toBe('0644');
    expect(modeOf(m.path('/usr/bin/node'))).toBe('0755');
  });

  it.runIf(canChown)('applies owners (root only)', () => {
    const walk = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true, recursive: true }).map((d) => path.join(d.parentPath, d.name));
    for (const p of [m.home, ...walk(m.home)]) {
      const stat = fs.lstatSync(p);
      expect([p, stat.uid, stat.gid]).toEqual([p, 1000, 1000]);
    }
    expect(fs.lstatSync(m.path('/usr/bin/node')).uid).toBe(0);
    expect(fs.lstatSync(m.path('/home')).uid).toBe(0);
  });

  it('writes JSON, JSONL, placeholders and canaries', () => {
    const config = JSON.parse(fs.readFileSync(m.path('~/.resonix/resonix.json'), 'utf8'));
    expect(config.gateway).toMatchObject({ mode: 'local', auth: { token: CANARY.gateway } });
    expect(config.meta.lastTouchedVersion).toBe('2026.5.28');
    expect(config.channels.telegram.botToken).toBe(CANARY.telegram);
    expect(config.channels.whatsapp.accounts).toEqual({ default: {} });
    expect(config.agents.list).toEqual([
      { id: 'main' },
      { id: 'research', name: 'research', workspace: '/home/alice/work/agent-research', agentDir: '/home/alice/.resonix/agents/research/agent' },
    ]);
    const auth = JSON.parse(fs.readFileSync(m.path('~/.resonix/agents/main/agent/auth-profiles.json'), 'utf8'));
    expect(auth.profiles['anthropic:default'].key).toBe(CANARY.anthropic);
    const creds = JSON.parse(fs.readFileSync(m.path('~/.resonix/credentials/whatsapp/default/creds.json'), 'utf8'));
    expect(creds.noiseKey.private.data).toBe(CANARY.whatsapp);
    expect(fs.readFileSync(m.path('~/.resonix/.env'), 'utf8')).toContain(`OPENROUTER_API_KEY=${CANARY.openrouter}\n`);

    const sessions = JSON.parse(fs.readFileSync(m.path('~/.resonix/agents/main/sessions/sessions.json'), 'utf8'));
    for (const session of Object.values<{ sessionId: string; sessionFile: string }>(sessions)) {
      expect(session.sessionFile).toBe(`/home/alice/.resonix/agents/main/sessions/${session.sessionId}.jsonl`);
      const transcript = fs.readFileSync(m.path(session.sessionFile), 'utf8');
      expect(transcript.endsWith('}\n')).toBe(true);
      for (const line of transcript.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    }

    const unit = fs.readFileSync(m.path('~/.config/systemd/user/resonix-gateway.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/bin/node /usr/lib/node_modules/resonix/dist/index.js gateway --port 18789\n');
    expect(unit).toContain('Environment=HOME=/home/alice\n');
    expect(fs.readlinkSync(m.path('~/.config/systemd/user/default.target.wants/resonix-gateway.service'))).toBe(
      '/home/alice/.config/systemd/user/resonix-gateway.service',
    );

    const text = allText(m.root);
    expect(text).not.toMatch(/\{(canary:[a-z]+|home|homeAbs|root|homeHost)\}/);
    for (const name of ['anthropic', 'gateway', 'telegram', 'whatsapp', 'github', 'openrouter', 'device', 'devicetoken'] as const) {
      expect(text, name).toContain(CANARY[name]);
    }
    expect(m.canaries).toEqual([...CANARIES]);
  });

  it('has the workspaces', () => {
    for (const file of ['AGENTS.md', 'SOUL.md', 'USER.md', 'MEMORY.md', 'memory/2026-04-01.md']) {
      expect(fs.statSync(m.path(`~/.resonix/workspace/${file}`)).isFile(), file).toBe(true);
    }
    expect(fs.statSync(m.path('~/work/agent-research')).isDirectory()).toBe(true);
  });
});

describe('healthy-sqlite-2026.9', () => {
  let m: Materialised;
  beforeAll(async () => {
    m = await make('healthy-sqlite-2026.9');
  }, TIMEOUT);

  it('writes valid SQLite headers of the real sizes', () => {
    const state = header(m.path('~/.resonix/state/resonix.sqlite'));
    expect(state).toEqual({ magic: 'SQLite format 3\0', pageSize: 4096, pageCount: 394, userVersion: 18, size: 1613824, formats: [2, 2] });
    const agent = header(m.path('~/.resonix/agents/main/agent/resonix-agent.sqlite'));
    expect(agent).toMatchObject({ pageSize: 4096, pageCount: 189, userVersion: 23, size: 774144 });
    expect(header(m.path('~/.resonix/agents/research/agent/resonix-agent.sqlite'))).toMatchObject({ userVersion: 23, size: 741376 });
    expect(header(m.path('~/.resonix-work/state/resonix.sqlite'))).toMatchObject({ userVersion: 18, size: 1454080 });
    expect(fs.statSync(m.path('~/.resonix/agents/main/agent/resonix-agent.sqlite-shm')).size).toBe(32768);
    expect(fs.statSync(m.path('~/.resonix/agents/main/agent/resonix-agent.sqlite-wal')).size).toBe(0);
    // the API key is inside the state database, in plaintext, as in real installs
    expect(fs.readFileSync(m.path('~/.resonix/state/resonix.sqlite')).includes(CANARY.anthropic)).toBe(true);
  });

  it.runIf(hasTool('sqlite3'))('headers open in the sqlite3 CLI', async () => {
    const copy = path.join(m.root, 'copy.sqlite');
    await fsp.copyFile(m.path('~/.resonix/state/resonix.sqlite'), copy);
    const { stdout } = await exec('sqlite3', [copy, 'PRAGMA user_version; PRAGMA page_size; PRAGMA page_count; SELECT count(*) FROM sqlite_schema;']);
    expect(stdout.trim().split('\n')).toEqual(['18', '4096', '394', '0']);
    await fsp.rm(copy, { force: true });
    await fsp.rm(`${copy}-wal`, { force: true });
    await fsp.rm(`${copy}-shm`, { force: true });
  });

  it('mirrors the real modes', () => {
    const expected: Record<string, string> = {
      '~/.resonix': '0700',
      '~/.resonix/agents': '0755',
      '~/.resonix/agents/main': '0755',
      '~/.resonix/agents/main/agent': '0700',
      '~/.resonix/agents/main/agent/resonix-agent.sqlite': '0600',
      '~/.resonix/agents/main/agent/resonix-agent.sqlite.memory-reindex-a92b86eb-2221-4a3b-8c64-eaafdf4be4f1-wal': '0644',
      '~/.resonix/agents/main/sessions': '0755',
      '~/.resonix/tmp': '0755',
      '~/.resonix/tmp/agent-cli/resonix': '0700',
      '~/.resonix/tmp/resonix-1000/gateway.state.lock.sqlite': '0644',
      '~/.resonix/state': '0700',
      '~/.resonix/config-journal-fingerprint.key': '0600',
      '~/.resonix-work': '0700',
      '~/work/agent-main/AGENTS.md': '0644',
    };
    for (const [p, mode] of Object.entries(expected)) expect([p, modeOf(m.path(p))]).toEqual([p, mode]);
    expect(fs.readdirSync(m.path('~/.resonix/agents/main/sessions'))).toEqual([]);
    expect(fs.statSync(m.path('~/.resonix/config-journal-fingerprint.key')).size).toBe(32);
    expect(m.autoDirs.filter((d) => d.startsWith('home/alice'))).toEqual([]);
  });

  it('makes the plugin-skills symlinks absolute, into the npm prefix', () => {
    const link = m.path('~/.resonix/plugin-skills/canvas');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link)).toBe('/opt/resonix-prefix/lib/node_modules/resonix/dist/extensions/canvas/skills/canvas');
    expect(fs.existsSync(m.path(fs.readlinkSync(link)))).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(m.path('/opt/resonix-prefix/lib/node_modules/resonix/package.json'), 'utf8'));
    expect(pkg.resonix.schemaVersions).toEqual({ state: 18, agent: 23 });
  });

  it('uses the agents.entries config form and a remote thin client', () => {
    const config = JSON.parse(fs.readFileSync(m.path('~/.resonix/resonix.json'), 'utf8'));
    expect(Object.keys(config.agents.entries)).toEqual(['main', 'research']);
    expect(config.agents.entries.research.workspace).toBe('/home/alice/work/agent-research');
    const work = JSON.parse(fs.readFileSync(m.path('~/.resonix-work/resonix.json'), 'utf8'));
    expect(work.gateway).toEqual({ mode: 'remote', remote: { url: 'wss://gw.example.net:18789', token: CANARY.remote } });
    expect(work.agents).toBeUndefined();
  });

  it.runIf(canChown)('is owned by alice (root only)', () => {
    for (const d of fs.readdirSync(m.home, { withFileTypes: true, recursive: true })) {
      const stat = fs.lstatSync(path.join(d.parentPath, d.name));
      expect([d.name, stat.uid, stat.gid]).toEqual([d.name, 1000, 1000]);
    }
    expect(fs.lstatSync(m.path('/opt/resonix-prefix/bin/resonix')).uid).toBe(0);
  });
});

describe('entry types', () => {
  const base = (entries: Scenario['entries']): Scenario => ({
    description: 'entry type test',
    home: 'home/alice',
    users: [{ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }],
    entries,
  });

  it('makes a FIFO and never blocks on it in treeDigest', async () => {
    const m = await make(base([{ path: '{home}/pipe', type: 'fifo', mode: '0600' }]));
    const stat = fs.lstatSync(m.path('~/pipe'));
    expect(stat.isFIFO()).toBe(true);
    expect(modeOf(m.path('~/pipe'))).toBe('0600');
    expect((await treeSnapshot(m.root)).find((l) => l.startsWith('"home/alice/pipe"'))).toMatch(/ fifo 0600 /);
  });

  it('makes a sparse file: full size, (almost) no blocks', async () => {
    const size = 256 * 1024 * 1024;
    const m = await make(base([{ path: '{home}/big.img', type: 'sparse', size }]));
    const stat = fs.statSync(m.path('~/big.img'));
    expect(stat.size).toBe(size);
    expect(stat.blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('pads files with NUL bytes (written, not sparse) and truncates SQLite files', async () => {
    const m = await make(
      base([
        { path: 'a.bin', content: 'ab', size: 8192 },
        { path: 'torn.sqlite', sqlite: { pageSize: 65536, pageCount: 10, userVersion: 7, truncateTo: 100000 } },
      ]),
    );
    const padded = fs.readFileSync(m.path('a.bin'));
    expect(padded.length).toBe(8192);
    expect(padded.subarray(0, 2).toString()).toBe('ab');
    expect(padded.subarray(2).every((b) => b === 0)).toBe(true);
    expect(fs.statSync(m.path('a.bin')).blocks * 512).toBeGreaterThanOrEqual(8192);
    const torn = fs.readFileSync(m.path('torn.sqlite'));
    expect(torn.length).toBe(100000);
    expect(torn.readUInt16BE(16)).toBe(1); // 65536 is stored as 1
    expect(torn.readUInt32BE(28)).toBe(10);
    expect(torn.readUInt32BE(60)).toBe(7);
  });

  it('fills a 0500 dir before applying its mode, and sets mtimes', async () => {
    const m = await make(
      base([
        { path: '{home}/ro/', mode: '0500', mtime: '2026-01-02T03:04:05.000Z' },
        { path: '{home}/ro/inside.txt', content: 'x', mode: '0400', mtime: 'now-45m' },
      ]),
    );
    expect(modeOf(m.path('~/ro'))).toBe('0500');
    expect(fs.readFileSync(m.path('~/ro/inside.txt'), 'utf8')).toBe('x');
    expect(fs.statSync(m.path('~/ro')).mtime.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    const age = Date.now() - fs.statSync(m.path('~/ro/inside.txt')).mtimeMs;
    expect(age).toBeGreaterThan(44 * 60e3);
    expect(age).toBeLessThan(46 * 60e3);
  });

  it.runIf(canChown)('applies numeric owners, named groups and the owner\'s primary group', async () => {
    const m = await make({
      ...base([
        { path: 'a', owner: 1001 },
        { path: 'b', owner: 'alice', group: 'staff' },
        { path: 'c', owner: 'alice' },
        { path: 'd', owner: 0 },
      ]),
      groups: [{ name: 'staff', gid: 50, members: ['alice'] }],
    });
    const ids = (p: string): number[] => [fs.lstatSync(m.path(p)).uid, fs.lstatSync(m.path(p)).gid];
    expect(ids('a')).toEqual([1001, 1001]);
    expect(ids('b')).toEqual([1000, 50]);
    expect(ids('c')).toEqual([1000, 1000]);
    expect(ids('d')).toEqual([0, 0]);
    expect(fs.readFileSync(m.path('/etc/group'), 'utf8')).toBe('root:x:0:\nstaff:x:50:alice\nalice:x:1000:\n');
  });

  it('refuses a foreign owner when it cannot chown, unless allowOwnerSkip', async (ctx) => {
    if (canChown) ctx.skip('runs only where chown is refused: this process may chown');
    const foreign = base([{ path: 'a', owner: 4242, content: '' }]);
    await expect(materialise(foreign)).rejects.toThrow(/cannot chown.*allowOwnerSkip/s);
    const m = await make(foreign);
    expect(m.skippedOwners).toEqual(['a']);
  });

  it('a later entry with the same path replaces the earlier one', async () => {
    const m = await make(
      base([
        { path: 'x/', mode: '0700' },
        { path: 'x/y', content: 'old' },
        { path: 'x', content: 'now a file', mode: '0600' },
      ]),
    );
    expect(fs.readFileSync(m.path('x'), 'utf8')).toBe('now a file');
    expect(modeOf(m.path('x'))).toBe('0600');
  });

  it('rejects bad scenarios with clear errors', async () => {
    await expect(materialise(base([{ path: 'a', mdoe: '0600' } as never]))).rejects.toThrow(/unknown key "mdoe"/);
    await expect(materialise(base([{ path: 'a', mode: 600 as never }]))).rejects.toThrow(/octal string/);
    await expect(materialise(base([{ path: 'a', content: '{canary:nope}' }]))).rejects.toThrow(/unknown canary/);
    await expect(materialise(base([{ path: '../escape', content: '' }]))).rejects.toThrow(/not inside the root/);
    await expect(materialise(base([{ path: 'a', owner: 'mallory' }]))).rejects.toThrow(/owner "mallory" is not in users/);
    await expect(materialise(base([{ path: 'l', target: '/etc' }, { path: 'l/x', content: '' }]))).rejects.toThrow(/symlink/);
    await expect(materialise(base([{ path: 'a', content: 'x', json: {} }]))).rejects.toThrow(/one of/);
  });
});

describe('archives', () => {
  const scenario = (format: string, members: string[], cwd = '{home}', extra: Record<string, unknown> = {}): Scenario => ({
    description: `archive ${format}`,
    home: 'home/alice',
    users: [{ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }],
    defaults: { owner: 'alice' },
    entries: [
      { path: '{home}/', mode: '0755' },
      { path: '{home}/.resonix/', mode: '0700' },
      { path: '{home}/.resonix/resonix.json', mode: '0600', json: { gateway: { mode: 'local', auth: { token: '{canary:gateway}' } } } },
      { path: '{home}/work/agent-main/AGENTS.md', content: '# agents\n' },
      { path: '{home}/notes.txt', content: 'hello\n' },
      { path: 'backups/out', type: 'archive', owner: 'root', archive: { format: format as never, cwd, members, ...extra } },
    ],
  });

  async function tarList(file: string, gzip = true): Promise<string[]> {
    const { stdout } = await exec('tar', [gzip ? '-tzvf' : '-tvf', file]);
    return stdout.trim().split('\n');
  }

  it('tar.gz of ["*"] skips dot-dirs exactly like `tar czf x.tgz *`', async () => {
    const m = await make(scenario('tar.gz', ['*']));
    const names = (await exec('tar', ['-tzf', m.path('backups/out')])).stdout.trim().split('\n').sort();
    expect(names).toEqual(['notes.txt', 'work/', 'work/agent-main/', 'work/agent-main/AGENTS.md']);
    expect(names.some((n) => n.includes('.resonix'))).toBe(false);
  });

  it('tar of [".resonix"] records the scenario modes', async () => {
    const m = await make(scenario('tar', ['.resonix']));
    const lines = await tarList(m.path('backups/out'), false);
    expect(lines.find((l) => l.endsWith('.resonix/'))).toMatch(/^drwx------ /);
    expect(lines.find((l) => l.endsWith('.resonix/resonix.json'))).toMatch(/^-rw------- /);
    // names from the scenario's users, not from the host's passwd (where uid 1000 may be someone else)
    if (canChown) expect(lines.find((l) => l.endsWith('.resonix/resonix.json'))).toMatch(/ alice\/alice /);
  });

  it('zip and zip-encrypted', async () => {
    const plain = await make(scenario('zip', ['.resonix', 'notes.txt']));
    const zipped = fs.readFileSync(plain.path('backups/out'));
    expect(zipped.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    const { stdout } = await exec('unzip', ['-Z1', plain.path('backups/out')]);
    expect(stdout.trim().split('\n').sort()).toEqual(['.resonix/', '.resonix/resonix.json', 'notes.txt']);

    const locked = await make(scenario('zip-encrypted', ['.resonix']));
    const bytes = fs.readFileSync(locked.path('backups/out'));
    // every file's local header has general purpose flag bit 0 (encrypted) set; dirs carry no data
    const flags: Record<string, number> = {};
    for (let at = bytes.indexOf('PK\x03\x04'); at >= 0; at = bytes.indexOf('PK\x03\x04', at + 4)) {
      flags[bytes.subarray(at + 30, at + 30 + bytes.readUInt16LE(at + 26)).toString()] = bytes.readUInt16LE(at + 6) & 1;
    }
    expect(flags).toEqual({ '.resonix/': 0, '.resonix/resonix.json': 1 });
    expect(bytes.includes(CANARY.gateway)).toBe(false);
    expect(locked.archives['backups/out']).toEqual({ passphrase: ARCHIVE_PASSPHRASE });
    const out = await exec('unzip', ['-p', '-P', ARCHIVE_PASSPHRASE, locked.path('backups/out'), '.resonix/resonix.json']);
    expect(out.stdout).toContain(CANARY.gateway);
  }, TIMEOUT);

  it.runIf(hasTool('gpg'))('gpg symmetric', async () => {
    const m = await make(scenario('gpg', ['.resonix'], '{home}', { passphrase: 'pw-gpg' }));
    const bytes = fs.readFileSync(m.path('backups/out'));
    expect([0x8c, 0xc3]).toContain(bytes[0]); // symmetric-key encrypted session key packet
    expect(m.archives['backups/out']).toEqual({ passphrase: 'pw-gpg' });
    const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-gpg-test-'));
    try {
      const decrypted = path.join(home, 'out.tgz');
      await exec('gpg', ['--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', 'pw-gpg', '-o', decrypted, '-d', m.path('backups/out')], {
        env: { ...process.env, GNUPGHOME: home },
      });
      expect((await tarList(decrypted)).some((l) => l.endsWith('.resonix/resonix.json'))).toBe(true);
    } finally {
      await exec('gpgconf', ['--kill', 'all'], { env: { ...process.env, GNUPGHOME: home } }).catch(() => undefined);
      await fsp.rm(home, { recursive: true, force: true });
    }
  }, TIMEOUT);

  it.runIf(hasTool('openssl'))('openssl enc', async () => {
    const m = await make(scenario('openssl', ['.resonix']));
    expect(fs.readFileSync(m.path('backups/out')).subarray(0, 8).toString('latin1')).toBe('Salted__');
    const out = path.join(m.root, 'dec.tgz');
    await exec('openssl', ['enc', '-d', '-aes-256-cbc', '-pbkdf2', '-pass', `pass:${ARCHIVE_PASSPHRASE}`, '-in', m.path('backups/out'), '-out', out]);
    expect((await tarList(out)).some((l) => l.endsWith('.resonix/resonix.json'))).toBe(true);
  }, TIMEOUT);

  it.runIf(hasTool('age'))('age with a generated key, kept where asked', async () => {
    const m = await make(scenario('age', ['.resonix'], '{home}', { keyPath: '{home}/.config/age/key.txt' }));
    expect(fs.readFileSync(m.path('backups/out')).subarray(0, 22).toString('latin1')).toBe('age-encryption.org/v1\n');
    const secrets = m.archives['backups/out']!;
    expect(secrets.identity).toMatch(/^AGE-SECRET-KEY-1/);
    expect(secrets.recipient).toMatch(/^age1/);
    expect(fs.readFileSync(m.path('~/.config/age/key.txt'), 'utf8')).toContain(secrets.identity);
    expect(modeOf(m.path('~/.config/age/key.txt'))).toBe('0600');
    const out = path.join(m.root, 'dec.tgz');
    await exec('age', ['-d', '-i', m.path('~/.config/age/key.txt'), '-o', out, m.path('backups/out')]);
    expect((await tarList(out)).some((l) => l.endsWith('.resonix/resonix.json'))).toBe(true);
  }, TIMEOUT);
});

describe('treeDigest', () => {
  it('is stable, changes with one mode, and comes back when the mode does', async () => {
    const m = await make('healthy-file-2026.5');
    const first = await treeDigest(m.root);
    expect(await treeDigest(m.root)).toBe(first);
    const target = m.path('~/.resonix/resonix.json');
    await fsp.chmod(target, 0o644);
    expect(await treeDigest(m.root)).not.toBe(first);
    await fsp.chmod(target, 0o600);
    expect(await treeDigest(m.root)).toBe(first);
  }, TIMEOUT);

  it('sees content, mtime, link target and new entries; never follows symlinks', async () => {
    const m = await make({
      description: 'digest',
      home: 'home/alice',
      entries: [
        { path: 'f', content: 'one', mtime: '2026-03-04T05:06:07.089Z' },
        { path: 'l', target: '/nonexistent/elsewhere' },
        { path: 'loop', target: 'loop' },
      ],
    });
    const before = await treeSnapshot(m.root);
    const digest = await treeDigest(m.root);
    const stat = fs.statSync(m.path('f'));
    await fsp.writeFile(m.path('f'), 'two');
    await fsp.utimes(m.path('f'), stat.atime, stat.mtime);
    expect(await treeDigest(m.root)).not.toBe(digest);
    await fsp.writeFile(m.path('f'), 'one');
    await fsp.utimes(m.path('f'), stat.atime, stat.mtime);
    expect(await treeSnapshot(m.root)).toEqual(before);
    await fsp.utimes(m.path('f'), stat.atime, new Date(stat.mtimeMs + 1000));
    expect(await treeDigest(m.root)).not.toBe(digest);
    expect(before.find((l) => l.startsWith('"l" symlink'))).toContain('-> "/nonexistent/elsewhere"');
  });
});

describe('scenario editing', () => {
  it('loadScenario gives a fresh copy to vary', async () => {
    const s = await loadScenario('healthy-file-2026.5');
    entry(s, '{home}/.resonix/').mode = '0755';
    expect(removeEntries(s, '{home}/.config')).toBeGreaterThan(4);
    const m = await make(s);
    expect(modeOf(m.path('~/.resonix'))).toBe('0755');
    expect(fs.existsSync(m.path('~/.config'))).toBe(false);
    expect(entry(await loadScenario('healthy-file-2026.5'), '{home}/.resonix').mode).toBe('0700');
  });

  it('builds into a given root; cleanup removes it only if materialise created it', async () => {
    const parent = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-given-'));
    try {
      const fresh = await materialise({ description: 'given', home: 'home/bob', entries: [{ path: '{home}/x', content: '{homeAbs}' }] }, { root: path.join(parent, 'old') });
      expect(fresh.root).toBe(path.join(parent, 'old'));
      expect(fs.readFileSync(fresh.path('~/x'), 'utf8')).toBe('/home/bob');
      await fresh.cleanup();
      expect(fs.existsSync(fresh.root)).toBe(false);
      const kept = await materialise({ description: 'given', home: 'home/bob', entries: [{ path: 'y', content: '' }] }, { root: parent });
      await kept.cleanup();
      expect(fs.existsSync(path.join(parent, 'y'))).toBe(true);
    } finally {
      await fsp.rm(parent, { recursive: true, force: true });
    }
  });

  it('cleanup removes the root', async () => {
    const m = await materialise({ description: 'cleanup', home: 'home/alice', entries: [{ path: 'ro/', mode: '0000' }, { path: 'f', content: '' }] });
    await m.cleanup();
    expect(fs.existsSync(m.root)).toBe(false);
  });
});

describe('runCli', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await fsp.rm(dir, { recursive: true, force: true });
  });

  it('runs node with a clean env, args, and exit code', async () => {
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-cli-'));
    const script = path.join(dir, 'echo.mjs');
    await fsp.writeFile(
      script,
      'process.stdout.write(JSON.stringify({ env: process.env, argv: process.argv.slice(2), cwd: process.cwd() }));\nprocess.stderr.write("err");\nprocess.exit(3);\n',
    );
    const result = await runCli(['audit', '--json'], { env: { HOME: '/somewhere' }, script });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('err');
    const seen = JSON.parse(result.stdout);
    expect(seen.argv).toEqual(['audit', '--json']);
    expect(Object.keys(seen.env).sort()).toEqual(['HOME', 'PATH']);
    expect(seen.env.HOME).toBe('/somewhere');
    expect(fs.existsSync(seen.cwd)).toBe(false); // the default cwd is a scratch dir, removed afterwards
  });
});
