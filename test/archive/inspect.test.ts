// inspect ARCHIVE on archives made with the real tools from a realistic state dir.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRules } from '../../src/engine.js';
import { archiveBaseline, inspectArchive, looksLikeArchive } from '../../src/archive/inspect.js';
import type { Install, Machine, Report } from '../../src/model.js';
import { formatJson } from '../../src/reporters/json.js';
import { formatPretty } from '../../src/reporters/pretty.js';
import { parseConfigText } from '../../src/scan/install.js';
import { FAKE_SECRETS, API_KEY, DOTENV_VALUE, GATEWAY_TOKEN, makeHome, missing, needs, run, sh, walkSource, write } from './fixture.js';

let tmp: string;
let home: string;
const at = (...parts: string[]): string => path.join(tmp, ...parts);

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-inspect-'));
  home = makeHome(tmp);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const installsOf = (machine: Machine): Install[] => machine.homes.flatMap((item) => item.installs);
const onlyInstall = (machine: Machine): Install => {
  const installs = installsOf(machine);
  expect(installs).toHaveLength(1);
  return installs[0]!;
};
const inspect = (report: Report): string[] => report.findings.map((finding) => finding.ruleId);

function expectNoSecrets(...outputs: unknown[]): void {
  for (const output of outputs) {
    const text = typeof output === 'string' ? output : JSON.stringify(output);
    for (const secret of FAKE_SECRETS) expect(text).not.toContain(secret);
  }
}

/** The inventory as the source tree looks: type, mode, file size, link target. */
function shape(install: Install): ReturnType<typeof walkSource> {
  return install.inventory.entries
    .map((entry) => ({
      path: entry.path,
      type: entry.type as 'file' | 'dir' | 'symlink',
      mode: entry.mode,
      ...(entry.type === 'file' ? { size: entry.size } : {}),
      ...(entry.linkTarget !== undefined ? { linkTarget: entry.linkTarget } : {}),
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

describe('inspectArchive on a tar.gz of a home (tar -C ~ -czf x.tgz .resonix work notes.txt)', () => {
  let result: Awaited<ReturnType<typeof inspectArchive>>;

  beforeAll(async () => {
    if (missing('tar', 'gzip').length > 0) return;
    run('tar', ['-czf', at('home.tgz'), '.resonix', 'work', 'notes.txt'], home);
    fs.chmodSync(at('home.tgz'), 0o600);
    result = await inspectArchive(at('home.tgz'));
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`builds one install whose inventory matches the source tree ${needs('tar', 'gzip')}`, () => {
    const { machine, archive, problems } = result;
    expect(problems).toEqual([]);
    expect(machine).toMatchObject({ schema: 1, mode: 'image', root: at('home.tgz'), users: [] });
    const install = onlyInstall(machine);
    // the archive does not record the home; the config's agentDir does (/home/alice/.resonix/agents/research/agent)
    expect(install.stateDir).toBe('/home/alice/.resonix');
    expect(install.inventory.root).toBe('/home/alice/.resonix');
    expect(shape(install)).toEqual(walkSource(path.join(home, '.resonix')));
    const uid = process.getuid!();
    expect(install.inventory.entries.every((entry) => entry.uid === uid && entry.mtimeMs > Date.parse('2020-01-01'))).toBe(true);
    expect(install).toMatchObject({ generation: 'mixed', hasData: true, active: true, dotenvKeys: ['LOG_LEVEL', 'OPENROUTER_API_KEY'] });
    expect(archive).toMatchObject({ path: at('home.tgz'), format: 'tar.gz', encrypted: false, mode: 0o600, holdsResonixState: true });
    expect(archive.secretMembers).toContain('.resonix/agents/main/agent/auth-profiles.json');
    expect(archive.members).toBeUndefined();
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('reads the config, SQLite headers and transcript ends from the stream', () => {
    const install = onlyInstall(result.machine);
    expect(install.config).toMatchObject({
      path: '/home/alice/.resonix/resonix.json',
      exists: true,
      gatewayMode: 'local',
      port: 18789,
      lastTouchedVersion: '2026.5.28',
      channels: ['whatsapp'],
      inlineSecretKeys: ['gateway.auth.token'],
    });
    expect(install.config.parseError).toBeUndefined();
    expect([...install.sqlite].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'memory/main.sqlite', valid: true, pageSize: 4096, pageCount: 10, userVersion: 0, size: 2 * 4096 },
      { path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 3, userVersion: 18, size: 3 * 4096 },
    ]);
    expect(install.partialTranscripts).toEqual(['agents/main/sessions/a2.jsonl']);
    expect([...result.secrets]).toEqual(expect.arrayContaining([GATEWAY_TOKEN, DOTENV_VALUE]));
    // auth-profiles.json is never read: its key is nowhere, not even among the secrets
    expect(result.secrets.has(API_KEY)).toBe(false);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('parses the config as the live scan does, key positions included', () => {
    const install = onlyInstall(result.machine);
    const text = fs.readFileSync(path.join(home, '.resonix', 'resonix.json'), 'utf8');
    const live = parseConfigText(text, install.config.path, new Set());
    expect(install.config).toEqual(live);
    expect(install.config.keyPositions?.['gateway.mode']).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('finds the workspaces the config names inside the archive, and visible workspace dirs', () => {
    const [homeFacts] = result.machine.homes;
    expect(homeFacts).toMatchObject({ path: '/home/alice', exists: true, workspaceDirs: [{ path: '/home/alice/work/agent-research', markers: ['AGENTS.md', 'SOUL.md'] }] });
    const workspaces = Object.fromEntries(onlyInstall(result.machine).workspaces.map((workspace) => [workspace.agentId, workspace]));
    expect(workspaces.main).toMatchObject({ path: '/home/alice/.resonix/workspace', source: 'default', inventory: { exists: true } });
    expect(workspaces.main!.inventory.entries.map((entry) => entry.path).sort()).toEqual(['', 'AGENTS.md', 'SOUL.md']);
    expect(workspaces.research).toMatchObject({ path: '/home/alice/work/agent-research', source: 'config', inventory: { root: '/home/alice/work/agent-research', exists: true } });
    expect(workspaces.research!.inventory.entries.map((entry) => entry.path).sort()).toEqual(['', 'AGENTS.md', 'SOUL.md', 'memory', 'memory/2026-05-01.md']);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('runs the inspect rules: unencrypted backup, torn SQLite, cut transcript; no secret in any output', () => {
    const report = runRules({ phase: 'inspect', machine: result.machine, secrets: result.secrets });
    expect(inspect(report)).toEqual(expect.arrayContaining(['secrets/unencrypted-backup', 'copy/sqlite-torn', 'copy/truncated-transcript']));
    expect(inspect(report)).not.toContain('copy/hidden-omitted');
    expect(inspect(report)).not.toContain('copy/config-only');
    expect(inspect(report)).not.toContain('perms/symlink-escape');
    expect(inspect(report)).not.toContain('secrets/backup-exposed');
    expectNoSecrets(result.machine, result.problems, report, formatJson(report), formatPretty(report, { color: false, verbose: true }));
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('serves as a verify baseline: archiveBaseline gives the same Machine', async () => {
    const baseline = await archiveBaseline(at('home.tgz'));
    expect({ ...baseline, scannedAt: '' }).toEqual({ ...result.machine, scannedAt: '' });
    expectNoSecrets(baseline);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)('tells an archive from a JSON manifest for --against', async () => {
    write(at('manifest.json'), JSON.stringify({ schema: 1, mode: 'live' }));
    expect(await looksLikeArchive(at('home.tgz'))).toBe(true);
    expect(await looksLikeArchive(at('manifest.json'))).toBe(false);
    expect(await looksLikeArchive(at('nope.tgz'))).toBe(false);
    expect(await looksLikeArchive(tmp)).toBe(false);
  });
});

describe('other layouts', () => {
  it.skipIf(missing('tar').length > 0)(`a plain tar of an absolute path keeps the path it records ${needs('tar')}`, async () => {
    run('tar', ['-cf', at('abs.tar'), path.join(home, '.resonix')], '/');
    const { machine, archive, problems } = await inspectArchive(at('abs.tar'));
    expect(problems).toEqual([]);
    expect(archive.format).toBe('tar');
    const install = onlyInstall(machine);
    expect(install.stateDir).toBe(path.join(home, '.resonix'));
    expect(shape(install)).toEqual(walkSource(path.join(home, '.resonix')));
    expect(install.config.gatewayMode).toBe('local');
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`an archive of the state dir's contents (tar -C ~/.resonix -czf x.tgz .) ${needs('tar', 'gzip')}`, async () => {
    run('tar', ['-czf', at('contents.tgz'), '.'], path.join(home, '.resonix'));
    const { machine, problems } = await inspectArchive(at('contents.tgz'));
    expect(problems).toEqual([]);
    const install = onlyInstall(machine);
    expect(install.stateDir).toBe('/home/alice/.resonix');
    expect(shape(install)).toEqual(walkSource(path.join(home, '.resonix')));
    // the research workspace lies outside what the archive holds: nothing is said about it
    expect(install.workspaces.map((workspace) => workspace.agentId)).toEqual(['main']);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`a state dir whose config names no path shows where the archive has it ${needs('tar', 'gzip')}`, async () => {
    const plain = at('plain-home');
    write(path.join(plain, '.resonix-work', 'resonix.json'), '{ gateway: { mode: "remote", remote: { url: "wss://gw.example.net:18789" } } }');
    write(path.join(plain, '.resonix-work', 'identity', 'device.json'), '{}');
    run('tar', ['-czf', at('profile.tgz'), '.resonix-work'], plain);
    const { machine } = await inspectArchive(at('profile.tgz'));
    const install = onlyInstall(machine);
    expect(install).toMatchObject({ stateDir: '/.resonix-work', profile: 'work', config: { gatewayMode: 'remote', remoteUrl: 'wss://gw.example.net:18789/' } });
    expect(machine.homes[0]!.path).toBe('/');
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`Resonix's own \`resonix backup create\` layout ${needs('tar', 'gzip')}`, async () => {
    const top = '2026-09-01T10-00-00Z-resonix-backup';
    const payload = at('rbackup', top, 'payload', 'srv', 'resonix', '.resonix');
    fs.mkdirSync(payload, { recursive: true });
    fs.cpSync(path.join(home, '.resonix'), payload, { recursive: true, verbatimSymlinks: true });
    write(at('rbackup', top, 'manifest.json'), JSON.stringify({ version: 1, paths: ['/srv/resonix/.resonix'] }));
    run('tar', ['-czf', at('rbackup.tar.gz'), top], at('rbackup'));
    const { machine, problems } = await inspectArchive(at('rbackup.tar.gz'));
    expect(problems).toEqual([]);
    const install = onlyInstall(machine);
    expect(install.stateDir).toBe('/srv/resonix/.resonix');
    expect(install.config.gatewayMode).toBe('local');
    expect(install.inventory.entries.some((entry) => entry.path === 'credentials/whatsapp/default/creds.json')).toBe(true);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`\`tar czf x.tgz *\` in a home: no install, workspace dirs, copy/hidden-omitted ${needs('tar', 'gzip')}`, async () => {
    sh(`tar czf ${at('glob.tgz')} *`, home);
    const { machine, secrets, problems } = await inspectArchive(at('glob.tgz'));
    expect(problems).toEqual([]);
    expect(installsOf(machine)).toEqual([]);
    expect(machine.homes).toHaveLength(1);
    expect(machine.homes[0]!.workspaceDirs).toEqual([{ path: '/work/agent-research', markers: ['AGENTS.md', 'SOUL.md'] }]);
    expect(machine.archives[0]).toMatchObject({ format: 'tar.gz', holdsResonixState: false, secretMembers: [] });
    const report = runRules({ phase: 'inspect', machine, secrets });
    expect(inspect(report)).toEqual(['copy/hidden-omitted']);
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`only the config copied: copy/config-only ${needs('tar', 'gzip')}`, async () => {
    run('tar', ['-czf', at('config-only.tgz'), '.resonix/resonix.json'], home);
    const { machine, secrets } = await inspectArchive(at('config-only.tgz'));
    expect(onlyInstall(machine).inventory.entries.map((entry) => entry.path)).toEqual(['resonix.json']);
    expect(inspect(runRules({ phase: 'inspect', machine, secrets }))).toContain('copy/config-only');
  });

  it.skipIf(missing('tar', 'gzip').length > 0)(`a config that does not parse: state/config-invalid, no value quoted ${needs('tar', 'gzip')}`, async () => {
    const broken = at('broken-home');
    write(path.join(broken, '.resonix', 'resonix.json'), `{ gateway: { mode: "local", auth: { token: "${GATEWAY_TOKEN}" } }\n  oops }`);
    write(path.join(broken, '.resonix', 'credentials', 'oauth.json'), '{}');
    run('tar', ['-czf', at('broken.tgz'), '.resonix'], broken);
    const { machine, secrets } = await inspectArchive(at('broken.tgz'));
    expect(onlyInstall(machine).config.parseError).toMatchObject({ line: 2 });
    const report = runRules({ phase: 'inspect', machine, secrets });
    expect(inspect(report)).toContain('state/config-invalid');
    expectNoSecrets(machine, report);
  });
});

describe('zip', () => {
  it.skipIf(missing('zip').length > 0)(`zip -r -y: the same inventory from the central directory, contents not read ${needs('zip')}`, async () => {
    run('zip', ['-q', '-r', '-y', at('home.zip'), '.resonix', 'work'], home);
    const { machine, archive, problems, secrets } = await inspectArchive(at('home.zip'));
    expect(archive).toMatchObject({ format: 'zip', encrypted: false, holdsResonixState: true });
    const install = onlyInstall(machine);
    expect(install.stateDir).toBe('/.resonix');
    // a zip symlink keeps its target in the entry's data, which is never inflated
    const source = walkSource(path.join(home, '.resonix')).map(({ linkTarget: _target, ...entry }) => entry);
    expect(shape(install)).toEqual(source);
    expect(install.config).toMatchObject({ exists: true });
    expect(install.config.gatewayMode).toBeUndefined();
    expect(install.config.parseError).toBeUndefined();
    expect(install.partialTranscripts).toBeUndefined();
    expect(problems.map((problem) => problem.code)).toEqual(['EARCHIVE_CONTENT']);
    expect(secrets.size).toBe(0);
    const report = runRules({ phase: 'inspect', machine, secrets });
    expect(inspect(report)).toContain('secrets/unencrypted-backup');
  });

  it.skipIf(missing('zip').length > 0)(`zip -P: encrypted entries, so no unencrypted-backup finding ${needs('zip')}`, async () => {
    run('zip', ['-q', '-r', '-P', 'correct horse', at('enc.zip'), '.resonix'], home);
    const { machine, archive, secrets } = await inspectArchive(at('enc.zip'));
    expect(archive).toMatchObject({ format: 'zip', encrypted: true });
    expect(onlyInstall(machine).inventory.entries.length).toBeGreaterThan(10);
    expect(inspect(runRules({ phase: 'inspect', machine, secrets }))).not.toContain('secrets/unencrypted-backup');
  });
});

describe('encrypted archives: no installs, only where and how the file is kept', () => {
  const gpgArgs = (gnupg: string): string[] => ['--batch', '--quiet', '--passphrase', 'x', '--pinentry-mode', 'loopback', '--homedir', gnupg];

  async function expectOpaque(file: string, format: string): Promise<void> {
    fs.chmodSync(file, 0o644);
    const { machine, archive, problems, secrets } = await inspectArchive(file);
    expect(archive).toMatchObject({ format, encrypted: true, holdsResonixState: true, secretMembers: [], mode: 0o644 });
    expect(installsOf(machine)).toEqual([]);
    expect(machine.homes).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.code).toBe('EARCHIVE_UNREADABLE');
    expect(problems[0]!.message).toMatch(/: encrypted .*contents cannot be read/);
    const report = runRules({ phase: 'inspect', machine, secrets });
    // world-readable, but encrypted: exposed, not unencrypted
    expect(inspect(report)).toEqual(['secrets/backup-exposed']);
  }

  it.skipIf(missing('tar', 'gzip', 'age', 'age-keygen').length > 0)(`age -r ${needs('tar', 'gzip', 'age', 'age-keygen')}`, async () => {
    run('age-keygen', ['-o', at('age.key')], tmp);
    const recipient = execFileSync('age-keygen', ['-y', at('age.key')], { encoding: 'utf8' }).trim();
    run('tar', ['-czf', at('for-age.tgz'), '.resonix'], home);
    run('age', ['-r', recipient, '-o', at('home.tgz.age'), at('for-age.tgz')], tmp);
    await expectOpaque(at('home.tgz.age'), 'age');
  });

  it.skipIf(missing('tar', 'gzip', 'gpg').length > 0)(`gpg -c ${needs('tar', 'gzip', 'gpg')}`, async () => {
    const gnupg = at('gnupg');
    fs.mkdirSync(gnupg, { mode: 0o700 });
    run('tar', ['-czf', at('for-gpg.tgz'), '.resonix'], home);
    run('gpg', [...gpgArgs(gnupg), '-c', '-o', at('home.tgz.gpg'), at('for-gpg.tgz')], tmp);
    await expectOpaque(at('home.tgz.gpg'), 'openpgp');
  });

  it.skipIf(missing('tar', 'gzip', 'openssl').length > 0)(`openssl enc ${needs('tar', 'gzip', 'openssl')}`, async () => {
    run('tar', ['-czf', at('for-openssl.tgz'), '.resonix'], home);
    run('openssl', ['enc', '-aes-256-cbc', '-pbkdf2', '-pass', 'pass:x', '-in', at('for-openssl.tgz'), '-out', at('home.tgz.enc')], tmp);
    await expectOpaque(at('home.tgz.enc'), 'openssl-enc');
  });
});

describe('budgets', () => {
  it('a config naming more agents than the scan looks at: the cut is a problem (EBUDGET), as in a live scan', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-inspect-agents-'));
    try {
      const state = path.join(dir, '.resonix');
      fs.mkdirSync(state, { mode: 0o700 });
      const list = Array.from({ length: 1500 }, (_, index) => ({ id: `a${index}`, workspace: `~/work/a${index}` }));
      fs.writeFileSync(path.join(state, 'resonix.json'), JSON.stringify({ agents: { list } }), { mode: 0o600 });
      const archive = path.join(dir, 'backup.tgz');
      execFileSync('tar', ['czf', archive, '-C', dir, '.resonix']);
      const inspected = await inspectArchive(archive);
      const cut = inspected.problems.filter((problem) => problem.code === 'EBUDGET');
      expect(cut).toHaveLength(1);
      expect(cut[0]!.message).toMatch(/names 1500 agents: only the first 1000 were looked at/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
