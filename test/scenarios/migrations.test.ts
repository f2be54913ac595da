// Whole machines, materialised in a temp dir, checked end to end through the real CLI: for every rule a
// migration where it fires, and the clean migrations where nothing at error or warning level may.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canChown, entry, removeEntries, type Scenario } from '../helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom, ruleIds } from './run.js';

afterAll(cleanupMachines);

const FILE = 'healthy-file-2026.5';
const SQLITE = 'healthy-sqlite-2026.9';

function configOf(scenario: Scenario): Record<string, any> {
  return entry(scenario, '{home}/.resonix/resonix.json').json as Record<string, any>;
}

describe('a clean, correct migration', () => {
  for (const name of [FILE, SQLITE]) {
    it(`${name}: verify, audit and image find no error or warning`, async () => {
      const machine = await machineFrom(name);
      const verify = await machine.json('verify');
      expect(verify.report.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
      expect(verify.code).toBe(0);
      const audit = await machine.json('audit');
      expect(ruleIds(audit.report, 'error')).toEqual([]);
      const image = await machineFrom(name, { live: false });
      const imaged = await image.image();
      expect(imaged.report.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
      expect(imaged.code).toBe(0);
    });
  }

  it('the SQLite install reports its layout and the thin-client profile beside it', async () => {
    const machine = await machineFrom(SQLITE);
    const { report } = await machine.json('verify');
    expect(report.installs.map((install) => [path.basename(install.stateDir), install.generation, install.gatewayMode])).toEqual([
      ['.resonix', 'sqlite', 'local'],
      ['.resonix-work', 'sqlite', 'remote'],
    ]);
  });
});

describe('state', () => {
  it('state/not-found: nothing arrived where the gateway looks', async () => {
    const scenario = await liveScenario(FILE);
    removeEntries(scenario, '{home}/.resonix');
    removeEntries(scenario, '{home}/work');
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toContain('state/not-found');
  });

  it('state/profile-mismatch: the service was installed from another profile', async () => {
    const scenario = await liveScenario(FILE);
    const unit = entry(scenario, '{home}/.config/systemd/user/resonix-gateway.service');
    unit.content = unit.content!.replace('Environment=HOME={homeAbs}\n', 'Environment=HOME={homeAbs}\nEnvironment=RESONIX_STATE_DIR={homeAbs}/.resonix-work\nEnvironment=RESONIX_PROFILE=work\n');
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toEqual(expect.arrayContaining(['state/profile-mismatch', 'state/not-found']));
    const mismatch = report.findings.find((finding) => finding.ruleId === 'state/profile-mismatch')!;
    expect(mismatch.fix!.commands[0]).toBe('resonix gateway install --force');
  });

  it('state/multiple-dirs: an old profile dir still holds data', async () => {
    const scenario = await liveScenario(FILE);
    // a bare generated config alone is a profile never onboarded (reference §12), not data: this one was used
    scenario.entries.push(
      { path: '{home}/.resonix-old/', mode: '0700' },
      { path: '{home}/.resonix-old/resonix.json', mode: '0600', json: { gateway: { mode: 'local' } } },
      { path: '{home}/.resonix-old/agents/', mode: '0700' },
      { path: '{home}/.resonix-old/agents/main/', mode: '0700' },
      { path: '{home}/.resonix-old/agents/main/sessions/', mode: '0700' },
      { path: '{home}/.resonix-old/agents/main/sessions/sessions.json', mode: '0600', json: {} },
    );
    const { report } = await (await machineFrom(scenario)).json('audit');
    expect(ruleIds(report, 'warning')).toContain('state/multiple-dirs');
  });

  it('state/config-invalid: a malformed resonix.json is a finding with line and column, and the rest still runs', async () => {
    const scenario = await liveScenario(FILE);
    const config = entry(scenario, '{home}/.resonix/resonix.json');
    delete config.json;
    config.content = '{\n  gateway: { mode: "local", auth: { token: "{canary:gateway}" } },\n  agents: { list: [ { id: "main" } ] ,, },\n}\n';
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    const finding = report.findings.find((item) => item.ruleId === 'state/config-invalid')!;
    expect(finding.message).toMatch(/line 3, column \d+/);
    expect(report.installs).toHaveLength(1);
  });
});

describe('copy', () => {
  it('copy/config-only: scp of resonix.json alone', async () => {
    const scenario = await liveScenario(FILE);
    for (const dir of ['agents', 'credentials', 'identity', 'devices', 'cron', 'logs', 'media', 'workspace']) removeEntries(scenario, `{home}/.resonix/${dir}`);
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toContain('copy/config-only');
  });

  it('copy/hidden-omitted: `cp -r old/* new/` copied the workspaces but not .resonix', async () => {
    const old = await machineFrom(FILE);
    const fresh = await machineFrom(await emptyHome());
    execFileSync('bash', ['-c', 'cp -r "$1"/* "$2"/', 'cp', old.home, fresh.home]);
    expect(fs.existsSync(path.join(fresh.home, 'work/agent-research/AGENTS.md'))).toBe(true);
    expect(fs.existsSync(path.join(fresh.home, '.resonix'))).toBe(false);
    const { code, report } = await fresh.json('verify');
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toEqual(expect.arrayContaining(['copy/hidden-omitted', 'state/not-found']));
  });
});

describe('copy, continued', () => {
  it('copy/workspace-missing: the research workspace lived outside ~/.resonix and was not copied', async () => {
    const scenario = await liveScenario(FILE);
    removeEntries(scenario, '{home}/work');
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(report.findings.find((item) => item.ruleId === 'copy/workspace-missing')!.path).toMatch(/work\/agent-research$/);
  });

  it('copy/channel-login-missing: WhatsApp configured, credentials/whatsapp left behind', async () => {
    const scenario = await liveScenario(FILE);
    removeEntries(scenario, '{home}/.resonix/credentials/whatsapp');
    const { report } = await (await machineFrom(scenario)).json('verify');
    expect(report.findings.find((item) => item.ruleId === 'copy/channel-login-missing')!.path).toMatch(/credentials\/whatsapp\/default\/creds\.json$/);
  });

  it('copy/sqlite-torn: a state database cut short, read from its header only', async () => {
    const scenario = await liveScenario(SQLITE);
    const database = entry(scenario, '{home}/.resonix/state/resonix.sqlite');
    database.sqlite = { ...database.sqlite!, truncateTo: 8192 };
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(report.findings.find((item) => item.ruleId === 'copy/sqlite-torn')!.evidence![0]).toMatch(/^state\/resonix\.sqlite: 8192 bytes/);
  });

  it('copy/truncated-transcript: the newest transcript ends mid-line', async () => {
    const scenario = await liveScenario(FILE);
    const transcript = scenario.entries.find((item) => item.path.endsWith('.jsonl') && item.path.includes('/sessions/'))!;
    const lines = (transcript.jsonl ?? []).map((line) => JSON.stringify(line)).join('\n');
    delete transcript.jsonl;
    transcript.content = `${lines}\n{"type":"message","role":"assistant","content":"half a li`;
    transcript.mtime = 'now';
    const { report } = await (await machineFrom(scenario)).json('verify');
    expect(report.findings.find((item) => item.ruleId === 'copy/truncated-transcript')!.evidence![0]).toContain('(partial last line)');
  });
});

describe('perms', () => {
  it.skipIf(!canChown)('perms/wrong-owner: copied as root with `cp -r`, which does not keep owners (needs root: chown to other uids)', async () => {
    const old = await machineFrom(FILE);
    const fresh = await machineFrom(await emptyHome());
    execFileSync('cp', ['-r', path.join(old.home, '.resonix'), path.join(fresh.home, '.resonix')]);
    const { code, report } = await fresh.json('verify');
    expect(code).toBe(1);
    const finding = report.findings.find((item) => item.ruleId === 'perms/wrong-owner')!;
    expect(finding.message).toMatch(/owned by root/);
    expect(finding.fix!.commands[0]).toBe(`sudo chown -R ${nameOf('/etc/passwd', 1000)}:${nameOf('/etc/group', 1000)} ${path.join(fresh.home, '.resonix')}`);
  });

  it.skipIf(!canChown)('perms/unreadable: a root-owned 0700 credentials dir after `sudo tar x` (needs root: chown to other uids)', async () => {
    const scenario = await liveScenario(FILE);
    entry(scenario, '{home}/.resonix/credentials/').owner = 'root';
    const { report } = await (await machineFrom(scenario)).json('verify');
    const finding = report.findings.find((item) => item.ruleId === 'perms/unreadable')!;
    expect(finding.path).toMatch(/\.resonix\/credentials$/);
  });

  it('perms/secrets-exposed: a copy with a loose umask (0755 dir, 0644 config)', async () => {
    const scenario = await liveScenario(FILE);
    entry(scenario, '{home}/.resonix/').mode = '0755';
    entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
    const { code, report } = await (await machineFrom(scenario)).json('audit');
    expect(code).toBe(1);
    const finding = report.findings.find((item) => item.ruleId === 'perms/secrets-exposed')!;
    expect(finding.severity).toBe('error');
    expect(finding.evidence!.join('\n')).toContain('resonix.json');
  });
});

describe('remote', () => {
  it('remote/client-only and remote/stale-local-state: a client that still holds the old state', async () => {
    const scenario = await liveScenario(FILE);
    configOf(scenario).gateway = { mode: 'remote', remote: { url: 'wss://gw.example.net:18789', token: '{canary:remote}' } };
    const { report } = await (await machineFrom(scenario)).json('audit');
    expect(ruleIds(report, 'warning')).toEqual(expect.arrayContaining(['remote/client-only', 'remote/stale-local-state']));
  });

  it('remote/mode-unset: the config has no gateway.mode', async () => {
    const scenario = await liveScenario(FILE);
    delete configOf(scenario).gateway.mode;
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toContain('remote/mode-unset');
  });
});

describe('secrets', () => {
  it('secrets/unencrypted-backup and secrets/backup-exposed: a world-readable tgz of the state dir in Downloads', async () => {
    const scenario = await liveScenario(FILE);
    scenario.entries.push(
      { path: '{home}/Downloads/' },
      { path: '{home}/Downloads/laptop-backup.bin', mode: '0644', archive: { format: 'tar.gz', cwd: '{home}', members: ['.resonix'] } },
    );
    const { code, report } = await (await machineFrom(scenario)).json('audit');
    expect(code).toBe(1);
    const plain = report.findings.find((item) => item.ruleId === 'secrets/unencrypted-backup')!;
    expect(plain.path).toMatch(/Downloads\/laptop-backup\.bin$/);
    expect(plain.evidence!.join('\n')).toContain('.resonix/credentials/whatsapp/default/creds.json');
    expect(ruleIds(report, 'warning')).toContain('secrets/backup-exposed');
  });

  it('an age-encrypted, private backup is fine; a `tar czf x.tgz *` of the home is not a Resonix backup at all', async () => {
    const scenario = await liveScenario(FILE);
    scenario.entries.push(
      { path: '{home}/backups/', mode: '0700' },
      { path: '{home}/backups/resonix-state.tgz.age', mode: '0600', archive: { format: 'age', cwd: '{home}', members: ['.resonix'], keyPath: 'root/age.key' } },
      { path: '{home}/home.tgz', mode: '0600', archive: { format: 'tar.gz', cwd: '{home}', members: ['*'] } },
    );
    const { report } = await (await machineFrom(scenario)).json('audit');
    expect(ruleIds(report)).not.toContain('secrets/unencrypted-backup');
    expect(ruleIds(report)).not.toContain('secrets/backup-exposed');
  });

  it('a private backup left in /tmp is exposed, though encrypted', async () => {
    const scenario = await liveScenario(FILE);
    scenario.entries.push({ path: 'tmp/resonix-backup.tar.gpg', mode: '0600', archive: { format: 'gpg', cwd: '{home}', members: ['.resonix'] } });
    const machine = await machineFrom(scenario);
    const { report } = await machine.json('audit');
    // TMPDIR is the machine's tmp: the live scan looks there
    const exposed = report.findings.find((item) => item.ruleId === 'secrets/backup-exposed');
    expect(exposed?.message).toMatch(/temporary dir/);
    expect(ruleIds(report)).not.toContain('secrets/unencrypted-backup');
  });
});

/** The live scan names owners by the host's passwd/group files, as chown will. */
function nameOf(file: string, id: number): string {
  const line = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find((row) => row.split(':')[2] === String(id));
  return line ? line.split(':')[0]! : String(id);
}

async function emptyHome(): Promise<Scenario> {
  return {
    description: 'a new machine: an empty home for alice',
    home: 'home/alice',
    users: [{ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }],
    env: { HOME: '{root}/{home}', USER: 'alice' },
    entries: [
      { path: 'tmp/', mode: '1777', owner: 'root' },
      { path: '{home}/', mode: '0755', ...(canChown ? { owner: 'alice' } : {}) },
    ],
  };
}
