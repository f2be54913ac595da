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
import { BUDGET_CODE } from '../../src/model.js';
import { discoverServiceUnits, fairShares, MAX_DROP_INS, MAX_ENV_FILE_LINES, MAX_ENVIRONMENT_FILES, MAX_SERVICE_BYTES, MAX_UNIT_BYTES, MAX_UNITS, MAX_WANTED_BY, type RawServiceUnit } from '../../src/scan/services.js';
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

describe('budgets for what a home can plant (issue 10)', () => {
  let planted: string;
  const put = (machinePath: string, content: string): void => {
    const host = path.join(planted, machinePath);
    fs.mkdirSync(path.dirname(host), { recursive: true });
    fs.writeFileSync(host, content);
  };
  const USER_DIR = '/home/mallory/.config/systemd/user';
  const pad = (index: number): string => String(index).padStart(3, '0');
  beforeAll(() => {
    planted = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-planted-'));
    // written in reverse: the cut must follow the names, not the order the dir lists them in
    for (let index = 199; index >= 0; index--) put(`${USER_DIR}/resonix-gateway-${pad(index)}.service`, `[Service]\nExecStart=/usr/bin/node /opt/${index}/index.js\n`);
    put('/home/mallory/Library/LaunchAgents/ai.resonix.gateway.plist', AGENT_PLIST);
    put('/etc/systemd/system/resonix-gateway.service', SYSTEM_UNIT);
    put('/home/bob/.config/systemd/user/resonix-gateway.service', WORK_UNIT);
  });
  afterAll(() => fs.rmSync(planted, { recursive: true, force: true }));
  const budgetCuts = (problems: { code: string; path: string; message: string }[]) => problems.filter((problem) => problem.code === BUDGET_CODE);

  it('fairShares: even shares, none above what a source holds, the rest to the others, the remainder to the first', () => {
    expect(fairShares([200, 1, 1], 64)).toEqual([62, 1, 1]);
    expect(fairShares([200, 200], 64)).toEqual([32, 32]);
    expect(fairShares([5, 200, 0, 3], 64)).toEqual([5, 56, 0, 3]);
    expect(fairShares([10, 10, 10], 4)).toEqual([2, 1, 1]);
    expect(fairShares([3, 2], 64)).toEqual([3, 2]);
    expect(fairShares([], 64)).toEqual([]);
  });

  it(`200 planted units: ${MAX_UNITS} read in all, the first by name, the system's and another home's kept, one EBUDGET problem`, async () => {
    const { units, problems } = await discoverServiceUnits({ root: planted, homes: [{ path: '/home/mallory' }, { path: '/home/bob' }], readSystemUnits: true });
    expect(units).toHaveLength(MAX_UNITS);
    const mallory = units.filter((unit) => unit.kind === 'systemd-user' && unit.homePath === '/home/mallory').map((unit) => unit.name);
    expect(mallory).toEqual(Array.from({ length: MAX_UNITS - 3 }, (_, index) => `resonix-gateway-${pad(index)}.service`));
    expect(units.filter((unit) => unit.kind !== 'systemd-user' || unit.homePath !== '/home/mallory').map((unit) => unit.path)).toEqual([
      '/home/mallory/Library/LaunchAgents/ai.resonix.gateway.plist',
      '/home/bob/.config/systemd/user/resonix-gateway.service',
      '/etc/systemd/system/resonix-gateway.service',
    ]);
    expect(budgetCuts(problems)).toEqual([
      {
        path: USER_DIR,
        code: BUDGET_CODE,
        message: `${USER_DIR} holds 200 gateway units: only the first ${MAX_UNITS - 3} were read (the scan's unit limit, ${MAX_UNITS} for every home and /etc/systemd/system together); the other ${200 - MAX_UNITS + 3} were not checked`,
      },
    ]);
  });

  it(`drop-ins past ${MAX_DROP_INS}, environment files past ${MAX_ENVIRONMENT_FILES}, lines past ${MAX_ENV_FILE_LINES} and WantedBy= past ${MAX_WANTED_BY} are not read, and each cut is said`, async () => {
    const dir = '/home/eve/.config/systemd/user';
    const unitPath = `${dir}/resonix-gateway.service`;
    const files = Array.from({ length: MAX_ENVIRONMENT_FILES + 4 }, (_, index) => `/home/eve/env/${pad(index)}.env`);
    const targets = Array.from({ length: MAX_WANTED_BY + 4 }, (_, index) => `t${pad(index)}.target`);
    put(unitPath, `[Service]\nExecStart=/usr/bin/node /opt/index.js\n${files.map((file) => `EnvironmentFile=${file}\n`).join('')}[Install]\nWantedBy=${targets.join(' ')}\n`);
    for (const file of files) put(file, `KEY_${path.basename(file, '.env')}=1\n`);
    // the long file is the first: the other lines of it would set RESONIX_STATE_DIR
    put(files[0]!, `${Array.from({ length: MAX_ENV_FILE_LINES + 500 }, (_, index) => `LINE_${index}=x`).join('\n')}\nRESONIX_STATE_DIR=/planted\n`);
    for (let index = 0; index < MAX_DROP_INS + 8; index++) put(`${unitPath}.d/${pad(index)}.conf`, `[Service]\nEnvironment=DROP_IN=${index}\n`);
    // enabled only through a target past the cut: not seen, and said
    fs.mkdirSync(path.join(planted, dir, `${targets.at(-1)}.wants`), { recursive: true });
    fs.symlinkSync(unitPath, path.join(planted, dir, `${targets.at(-1)}.wants`, 'resonix-gateway.service'));

    const { units, problems } = await discoverServiceUnits({ root: planted, homes: [{ path: '/home/eve' }], readSystemUnits: false });
    const [unit] = units;
    expect(unit!.dropIns).toHaveLength(MAX_DROP_INS);
    expect(unit!.parsed.environment.DROP_IN).toBe(String(MAX_DROP_INS - 1));
    expect(unit!.environmentFiles.map((file) => file.path)).toEqual(files.slice(0, MAX_ENVIRONMENT_FILES));
    expect(unit!.environmentFiles[0]!.keys).toHaveLength(MAX_ENV_FILE_LINES);
    expect(unit!.resolutionEnv.RESONIX_STATE_DIR).toBeUndefined();
    expect(unit!.enabled).toBe(false);
    expect(budgetCuts(problems).map((problem) => [problem.path, problem.message])).toEqual([
      [`${unitPath}.d`, `${unitPath}.d holds ${MAX_DROP_INS + 8} drop-ins: only the first ${MAX_DROP_INS} were read (the scan's limit per unit); the other 8 were not applied`],
      [unitPath, `${unitPath} names ${MAX_WANTED_BY + 4} WantedBy= targets: only the first ${MAX_WANTED_BY} were looked into to tell whether it is enabled (the scan's limit per unit)`],
      [unitPath, `${unitPath} names ${MAX_ENVIRONMENT_FILES + 4} environment files: only the first ${MAX_ENVIRONMENT_FILES} were read (the scan's limit per unit); the other 4 were not checked`],
      [files[0], `${files[0]} has more than ${MAX_ENV_FILE_LINES} lines: only the first ${MAX_ENV_FILE_LINES} were read (the scan's limit per environment file); the rest was not checked`],
    ]);
  });

  it(`stops reading unit files, drop-ins and environment files past ${MAX_SERVICE_BYTES / 1024 / 1024} MiB for the scan, and says where once`, async () => {
    const dir = '/home/trudy/.config/systemd/user';
    const big = `[Service]\n#${'x'.repeat(MAX_UNIT_BYTES - 64)}\n`;
    const perUnit = 1 + MAX_DROP_INS;
    const unitCount = Math.ceil(MAX_SERVICE_BYTES / big.length / perUnit) + 1;
    for (let index = 0; index < unitCount; index++) {
      const unitPath = `${dir}/resonix-gateway-${pad(index)}.service`;
      put(unitPath, `${big}ExecStart=/usr/bin/node /opt/${index}.js\n`);
      for (let dropIn = 0; dropIn < MAX_DROP_INS; dropIn++) put(`${unitPath}.d/${pad(dropIn)}.conf`, big);
    }
    const { units, problems } = await discoverServiceUnits({ root: planted, homes: [{ path: '/home/trudy' }], readSystemUnits: false });
    const read = units.reduce((sum, unit) => sum + (unit.size ?? 0) + unit.dropIns.length * big.length, 0);
    expect(read).toBeLessThanOrEqual(MAX_SERVICE_BYTES);
    expect(read).toBeGreaterThan(MAX_SERVICE_BYTES - 2 * big.length);
    const cuts = budgetCuts(problems);
    expect(cuts).toHaveLength(1);
    expect(cuts[0]!.message).toMatch(/^stopped reading service files at \/home\/trudy\/.+: the scan's budget \(64 MiB for every unit file, drop-in and environment file\) was spent; files past it were not read$/);
  }, 60_000);
});
