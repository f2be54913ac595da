import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBinary } from 'plist';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDotenv, parseDotenvKeys } from '../../src/scan/dotenv.js';
import { hostPathInRoot } from '../../src/scan/links.js';
import { discoverServiceUnits, MAX_UNIT_BYTES, type RawServiceUnit } from '../../src/scan/services.js';
import { distForOtherUsers, releaseStaged } from '../helpers/unprivileged.js';

const TOKEN = '3f9a1c0b7e2d4f6a8b1c3e5d7f9a0b2c4d6e8f0a1b3c5d7e';
const OPENAI = 'sk-proj-4fJ8kLq2Mn7Pr1St5Vw9Xy3Zb6Cd0Ef';
const TELEGRAM = '123456789:AAHfA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p';

const USER_UNIT = `[Unit]
Description=Resonix Gateway (v2026.5.28)

[Service]
ExecStart=/home/alice/.nvm/versions/node/v22.19.0/bin/node /home/alice/.nvm/versions/node/v22.19.0/lib/node_modules/resonix/dist/index.js gateway --port 18789
Environment=HOME=/home/alice
Environment=RESONIX_GATEWAY_PORT=18789
Environment=RESONIX_GATEWAY_TOKEN=${TOKEN}
EnvironmentFile=-%h/.resonix/.env
EnvironmentFile=-%h/missing.env

[Install]
WantedBy=default.target
`;

const WORK_UNIT = `[Service]
ExecStart=/usr/bin/node /opt/resonix/dist/index.js gateway --port 18809
Environment=RESONIX_PROFILE=work
`;

const SYSTEM_UNIT = `[Unit]
Description=Resonix Gateway

[Service]
User=resonix
Group=resonix
WorkingDirectory=/var/lib/resonix
ExecStart=/usr/bin/node /usr/lib/node_modules/resonix/dist/index.js gateway --token ${TOKEN}
Environment=HOME=/var/lib/resonix
EnvironmentFile=/etc/resonix/gateway.env

[Install]
WantedBy=multi-user.target
`;

const AGENT_PLIST = `<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
  <key>Label</key><string>ai.resonix.gateway</string>
  <key>ProgramArguments</key><array>
    <string>/opt/homebrew/bin/node</string><string>/opt/homebrew/lib/node_modules/resonix/dist/index.js</string>
    <string>gateway</string>
  </array>
  <key>RunAtLoad</key><true/>
  <key>EnvironmentVariables</key><dict>
    <key>HOME</key><string>/Users/alice</string>
    <key>RESONIX_GATEWAY_TOKEN</key><string>${TOKEN}</string>
  </dict>
</dict></plist>`;

let root: string;

function write(machinePath: string, content: string | Uint8Array): void {
  const host = path.join(root, machinePath);
  fs.mkdirSync(path.dirname(host), { recursive: true });
  fs.writeFileSync(host, content);
}

function symlink(target: string, machinePath: string): void {
  const host = path.join(root, machinePath);
  fs.mkdirSync(path.dirname(host), { recursive: true });
  fs.symlinkSync(target, host);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-services-'));
  const userDir = '/home/alice/.config/systemd/user';
  write(`${userDir}/resonix-gateway.service`, USER_UNIT);
  // absolute target: dangling on the host, and that is still "enabled"
  symlink(`${userDir}/resonix-gateway.service`, `${userDir}/default.target.wants/resonix-gateway.service`);
  write(`${userDir}/resonix-gateway-work.service`, WORK_UNIT);
  write(`${userDir}/resonix-gateway-work.service.d/10-state.conf`, '[Service]\nEnvironment=RESONIX_STATE_DIR=%h/.resonix-work\n');
  write(`${userDir}/resonix-gateway-work.service.d/notes.txt`, 'ignored');
  symlink('/etc/passwd', `${userDir}/resonix-gateway-linked.service`);
  write(`${userDir}/other.service`, '[Service]\nExecStart=/bin/true\n');
  write('/home/alice/.resonix/.env', `# keys for the gateway\nOPENAI_API_KEY=${OPENAI}\nexport RESONIX_GATEWAY_PORT=18790\n`);
  write('/home/alice/Library/LaunchAgents/ai.resonix.gateway.plist', AGENT_PLIST);
  write(
    '/home/alice/Library/LaunchAgents/ai.resonix.work.plist',
    buildBinary({ Label: 'ai.resonix.work', ProgramArguments: ['/usr/local/bin/node', 'index.js'], RunAtLoad: false }),
  );
  write('/home/alice/Library/LaunchAgents/com.example.other.plist', AGENT_PLIST);

  write('/etc/systemd/system/resonix-gateway.service', SYSTEM_UNIT);
  symlink('/etc/systemd/system/resonix-gateway.service', '/etc/systemd/system/multi-user.target.wants/resonix-gateway.service');
  write('/etc/systemd/system/resonix-gateway-huge.service', `[Service]\n${'#'.repeat(MAX_UNIT_BYTES)}\n`);
  // a secrets file reached through an absolute symlink, which must resolve inside the image
  write('/run/secrets/gateway.env', `export TELEGRAM_BOT_TOKEN="${TELEGRAM}"\nRESONIX_STATE_DIR=/var/lib/resonix/.resonix\n`);
  symlink('/run/secrets/gateway.env', '/etc/resonix/gateway.env');

  // bob keeps ~/.config in a dotfiles dir: an absolute symlink that only makes sense inside the image
  write('/home/bob/dotfiles/config/systemd/user/resonix-gateway.service', WORK_UNIT);
  symlink('/home/bob/dotfiles/config', '/home/bob/.config');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
afterAll(releaseStaged);

function byPath(units: RawServiceUnit[], machinePath: string): RawServiceUnit {
  const unit = units.find((candidate) => candidate.path === machinePath);
  if (!unit) throw new Error(`no unit ${machinePath} in ${units.map((u) => u.path).join(', ')}`);
  return unit;
}

describe('discoverServiceUnits', () => {
  it('finds user units, system units and launch agents', async () => {
    const { units } = await discoverServiceUnits({
      root,
      homes: [{ path: '/home/alice' }, { path: '/home/bob' }, { path: '/home/ghost' }, { path: '/home/alice' }],
      readSystemUnits: true,
    });
    expect(units.map((unit) => [unit.kind, unit.path, unit.enabled])).toEqual([
      ['systemd-user', '/home/alice/.config/systemd/user/resonix-gateway-work.service', false],
      ['systemd-user', '/home/alice/.config/systemd/user/resonix-gateway.service', true],
      ['launchd', '/home/alice/Library/LaunchAgents/ai.resonix.gateway.plist', true],
      ['launchd', '/home/alice/Library/LaunchAgents/ai.resonix.work.plist', false],
      ['systemd-user', '/home/bob/.config/systemd/user/resonix-gateway.service', false],
      ['systemd-system', '/etc/systemd/system/resonix-gateway.service', true],
    ]);
  });

  it('reads a user unit, its environment files (keys only) and its secrets', async () => {
    const { units } = await discoverServiceUnits({ root, homes: [{ path: '/home/alice' }], readSystemUnits: false });
    const unit = byPath(units, '/home/alice/.config/systemd/user/resonix-gateway.service');
    expect(unit).toMatchObject({ name: 'resonix-gateway.service', homePath: '/home/alice', dropIns: [] });
    expect(unit.parsed.execStart[0]).toBe('/home/alice/.nvm/versions/node/v22.19.0/bin/node');
    expect(unit.environmentFiles).toEqual([
      { path: '/home/alice/.resonix/.env', exists: true, keys: ['OPENAI_API_KEY', 'RESONIX_GATEWAY_PORT'] },
      { path: '/home/alice/missing.env', exists: false, keys: [] },
    ]);
    // EnvironmentFile= overrides Environment=; only non-secret values are carried over
    expect(unit.resolutionEnv).toEqual({ HOME: '/home/alice', RESONIX_GATEWAY_PORT: '18790', RESONIX_GATEWAY_TOKEN: TOKEN });
    expect(unit.secretValues.sort()).toEqual([TOKEN, OPENAI].sort());
  });

  it('applies drop-ins with the home as %h', async () => {
    const { units } = await discoverServiceUnits({ root, homes: [{ path: '/home/alice' }], readSystemUnits: false });
    const unit = byPath(units, '/home/alice/.config/systemd/user/resonix-gateway-work.service');
    expect(unit.dropIns).toEqual(['/home/alice/.config/systemd/user/resonix-gateway-work.service.d/10-state.conf']);
    expect(unit.parsed.environment).toEqual({ RESONIX_PROFILE: 'work', RESONIX_STATE_DIR: '/home/alice/.resonix-work' });
  });

  it('reads a system unit with User= and a symlinked EnvironmentFile inside the image', async () => {
    const { units } = await discoverServiceUnits({ root, homes: [], readSystemUnits: true });
    const unit = byPath(units, '/etc/systemd/system/resonix-gateway.service');
    expect(unit.homePath).toBeUndefined();
    expect(unit.parsed).toMatchObject({ user: 'resonix', group: 'resonix', workingDirectory: '/var/lib/resonix', wantedBy: ['multi-user.target'] });
    expect(unit.environmentFiles).toEqual([
      { path: '/etc/resonix/gateway.env', exists: true, keys: ['TELEGRAM_BOT_TOKEN', 'RESONIX_STATE_DIR'] },
    ]);
    expect(unit.resolutionEnv.RESONIX_STATE_DIR).toBe('/var/lib/resonix/.resonix');
    expect(unit.secretValues.sort()).toEqual([TOKEN, TELEGRAM].sort());
  });

  it('reads launch agents, XML and binary', async () => {
    const { units } = await discoverServiceUnits({ root, homes: [{ path: '/home/alice' }], readSystemUnits: false });
    const agent = byPath(units, '/home/alice/Library/LaunchAgents/ai.resonix.gateway.plist');
    expect(agent).toMatchObject({ name: 'ai.resonix.gateway', label: 'ai.resonix.gateway', homePath: '/home/alice', secretValues: [TOKEN] });
    expect(agent.parsed.environment.RESONIX_GATEWAY_TOKEN).toBe(TOKEN);
    const work = byPath(units, '/home/alice/Library/LaunchAgents/ai.resonix.work.plist');
    expect(work.parsed).toMatchObject({ execStart: ['/usr/local/bin/node', 'index.js'], errors: [] });
  });

  it('reports what it would not read, and nothing for a missing home', async () => {
    const { problems } = await discoverServiceUnits({
      root,
      homes: [{ path: '/home/alice' }, { path: '/home/ghost' }],
      readSystemUnits: true,
    });
    expect(problems.map((problem) => [problem.path, problem.code])).toEqual([
      ['/home/alice/.config/systemd/user/resonix-gateway-linked.service', 'not-regular-file'],
      ['/etc/systemd/system/resonix-gateway-huge.service', 'too-large'],
    ]);
  });
});

describe('hostPathInRoot', () => {
  it('resolves symlinks on the way inside the root and leaves the last component alone', async () => {
    expect(hostPathInRoot(root, '/home/bob/.config/systemd/user/x.service')).toBe(
      path.join(root, 'home/bob/dotfiles/config/systemd/user/x.service'),
    );
    expect(hostPathInRoot(root, '/etc/resonix/gateway.env')).toBe(path.join(root, 'etc/resonix/gateway.env'));
    expect(hostPathInRoot(root, '/etc/resonix/gateway.env', { followLast: true })).toBe(path.join(root, 'run/secrets/gateway.env'));
    expect(hostPathInRoot(root, '/../../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(hostPathInRoot('/', '/etc/passwd')).toBe('/etc/passwd');
  });
});

describe('parseDotenv', () => {
  it('reads dotenv syntax', () => {
    const text = [
      '# comment',
      'PLAIN=value # trailing comment',
      'export EXPORTED=yes',
      "SINGLE='a # not a comment'",
      'DOUBLE="line1\\nline2"',
      'SPACED = padded  ',
      'EMPTY=',
      'YAML: style',
      'MULTI="first',
      'second"',
      'ESCAPED="say \\"hi\\"" # c',
      'not a line',
      'PLAIN=later wins',
      'UNTERMINATED="open',
      '__proto__=x',
    ].join('\r\n');
    const env = parseDotenv(text);
    expect(env).toEqual({
      PLAIN: 'later wins',
      EXPORTED: 'yes',
      SINGLE: 'a # not a comment',
      DOUBLE: 'line1\nline2',
      SPACED: 'padded',
      EMPTY: '',
      YAML: 'style',
      MULTI: 'first\nsecond',
      ESCAPED: 'say \\"hi\\"',
      UNTERMINATED: '"open',
      ['__proto__']: 'x',
    });
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(parseDotenvKeys(text)).toEqual(['PLAIN', 'EXPORTED', 'SINGLE', 'DOUBLE', 'SPACED', 'EMPTY', 'YAML', 'MULTI', 'ESCAPED', 'UNTERMINATED', '__proto__']);
  });

  it('stays linear on hostile input', () => {
    const hostile = `A="${'\\"'.repeat(100_000)}x\n`.repeat(5) + 'B=1\n'.repeat(50_000);
    const started = Date.now();
    expect(parseDotenvKeys(hostile)).toEqual(['A', 'B']);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('hostPathInRoot, following the last link', () => {
  it('gives a path that does not exist for a dangling or looping link, never the link itself or the host', async () => {
    const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-links-'));
    try {
      await fsp.mkdir(path.join(base, 'etc/resonix'), { recursive: true });
      await fsp.symlink('/run/secrets/gone.env', path.join(base, 'etc/resonix/dangling.env'));
      await fsp.symlink('loop-b', path.join(base, 'etc/resonix/loop-a'));
      await fsp.symlink('loop-a', path.join(base, 'etc/resonix/loop-b'));
      await fsp.symlink('/etc/passwd', path.join(base, 'etc/resonix/host.env'));
      for (const name of ['dangling.env', 'loop-a']) {
        const host = hostPathInRoot(base, `/etc/resonix/${name}`, { followLast: true });
        expect(host.startsWith(base)).toBe(true);
        expect(fs.existsSync(host)).toBe(false);
      }
      // an absolute link means the image's /etc/passwd, which this root does not have
      expect(fs.existsSync(hostPathInRoot(base, '/etc/resonix/host.env', { followLast: true }))).toBe(false);
      await fsp.writeFile(path.join(base, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
      expect(hostPathInRoot(base, '/etc/resonix/host.env', { followLast: true })).toBe(path.join(base, 'etc/passwd'));
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});

describe('hostPathInRoot in an image', () => {
  it('goes up from where a link led (`..` after a link), and a dir it cannot search gives EACCES, not a missing path', async () => {
    const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-links-'));
    try {
      await fsp.mkdir(path.join(base, 'srv/secrets/dir'), { recursive: true });
      await fsp.writeFile(path.join(base, 'srv/secrets/env'), 'A=1\n');
      await fsp.mkdir(path.join(base, 'etc/resonix'), { recursive: true });
      await fsp.symlink('/srv/secrets/dir', path.join(base, 'etc/resonix/link'));
      expect(hostPathInRoot(base, '/etc/resonix/link/../env', { followLast: true })).toBe(path.join(base, 'srv/secrets/env'));
      expect(hostPathInRoot(base, '/etc/resonix/link/../env')).toBe(path.join(base, 'srv/secrets/env'));
      // a parent created after a failed lookup is found on the next one (failures are not remembered)
      expect(fs.existsSync(hostPathInRoot(base, '/opt/later/file'))).toBe(false);
      await fsp.mkdir(path.join(base, 'opt/later'), { recursive: true });
      expect(hostPathInRoot(base, '/opt/later/file')).toBe(path.join(base, 'opt/later/file'));
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });

  it.skipIf(process.getuid?.() !== 0)('a home the scanning user cannot search: the path leads to that EACCES, not to a made-up missing one (run as uid 65534; needs root to switch)', async ({ skip }) => {
    const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-links-'));
    try {
      await fsp.mkdir(path.join(base, 'home/u/.config/systemd/user'), { recursive: true });
      await fsp.chmod(base, 0o755);
      await fsp.chmod(path.join(base, 'home'), 0o755);
      await fsp.chmod(path.join(base, 'home/u'), 0o700);
      // the checkout may sit in a dir uid 65534 cannot reach: it imports a world-readable copy of dist
      const links = pathToFileURL(path.join(distForOtherUsers(skip), 'scan', 'links.js')).href;
      const script = `import(${JSON.stringify(links)}).then((m) => console.log(m.hostPathInRoot(process.argv[1], '/home/u/.config/systemd/user')))`;
      const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script, base], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout.trim()).toBe(path.join(base, 'home/u/.config/systemd/user'));
    } finally {
      await fsp.rm(base, { recursive: true, force: true });
    }
  });
});
