// Bugs found in review, each pinned by the input that showed it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { canChown, entry, runCli } from '../helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom } from './run.js';

afterAll(cleanupMachines);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-regress-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

async function looseMachine() {
  const scenario = await liveScenario('healthy-file-2026.5');
  entry(scenario, '{home}/.resonix/').mode = '0755';
  entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
  return machineFrom(scenario);
}

describe('review regressions', () => {
  it('image: a ROOTFS whose /home is a symlink to the host is resolved inside ROOTFS; --fix touches nothing outside', async () => {
    const outside = fs.mkdtempSync(path.join(work, 'host-'));
    fs.mkdirSync(path.join(outside, 'alice/.resonix'), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(outside, 'alice/.resonix/resonix.json'), '{ gateway: { mode: "local" } }', { mode: 0o644 });
    const rootfs = fs.mkdtempSync(path.join(work, 'rootfs-'));
    fs.mkdirSync(path.join(rootfs, 'etc'));
    fs.writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
    fs.symlinkSync(outside, path.join(rootfs, 'home'));
    const result = await runCli(['image', rootfs, '--fix', '--format', 'json']);
    expect(result.code, result.stderr).toBeLessThan(2);
    expect(fs.statSync(path.join(outside, 'alice/.resonix')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(outside, 'alice/.resonix/resonix.json')).mode & 0o777).toBe(0o644);
  });

  it('--fix-dry-run plans nothing for a suppressed finding', async () => {
    const machine = await looseMachine();
    const config = path.join(work, 'suppress.json');
    fs.writeFileSync(config, JSON.stringify({ suppressions: [{ rule: 'perms/secrets-exposed', path: '$STATEDIR', reason: 'lab' }] }));
    const dry = await machine.cli(['audit', '--home', machine.home, '--config', config, '--fix-dry-run']);
    expect(dry.stdout).toContain('Nothing to fix automatically.');
  });

  it('rewriting a baseline from a run that used it keeps the known findings', async () => {
    const machine = await looseMachine();
    const first = path.join(work, 'b1.json');
    const second = path.join(work, 'b2.json');
    await machine.cli(['audit', '--home', machine.home, '--write-baseline', first]);
    await machine.cli(['audit', '--home', machine.home, '--baseline', first, '--write-baseline', second]);
    expect(JSON.parse(fs.readFileSync(second, 'utf8')).findings.length).toBe(JSON.parse(fs.readFileSync(first, 'utf8')).findings.length);
    expect((await machine.cli(['audit', '--home', machine.home, '--baseline', second])).code).toBe(0);
  });

  it('a plugin finding with a made-up severity becomes a crash finding, not a silent pass', async () => {
    const plugin = path.join(work, 'bad-severity.mjs');
    fs.writeFileSync(plugin, 'export const name = "acme"; export const rules = [{ meta: { id: "acme/bad", title: "t", description: "d", why: "w", fix: "f", severity: "warning", phases: ["audit"] }, check: () => [{ message: "bad thing", severity: "critical" }] }];');
    const config = path.join(work, 'plugin.json');
    fs.writeFileSync(config, JSON.stringify({ plugins: [plugin] }));
    const machine = await machineFrom('healthy-file-2026.5');
    const result = await machine.cli(['audit', '--home', machine.home, '--config', config, '--format', 'json']);
    const finding = (JSON.parse(result.stdout) as Report).findings.find((item) => item.ruleId === 'acme/bad')!;
    expect(finding.severity).toBe('error');
    expect(finding.message).toContain('malformed finding');
    expect(result.code).toBe(1);
  });

  it('--output: report=final.json is a file name, SARIF=x picks the format, an unwritable path is exit 2 with one line', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const plain = path.join(work, 'report=final');
    const sarif = path.join(work, 'x.sarif');
    await machine.cli(['audit', '--home', machine.home, '--format', 'json', '--output', plain, '--output', `SARIF=${sarif}`]);
    expect(JSON.parse(fs.readFileSync(plain, 'utf8')).phase).toBe('audit');
    expect(JSON.parse(fs.readFileSync(sarif, 'utf8')).version).toBe('2.1.0');
    const failed = await machine.cli(['audit', '--home', machine.home, '--output', '/nonexistent/dir/x.json']);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/^resonix-migrate: cannot write \/nonexistent\/dir\/x\.json: ENOENT\n$/);
  });

  it('--snapshot is not written when another flag is wrong; --user that names nobody is exit 2', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const snapshot = path.join(work, 'never.json');
    expect((await machine.cli(['audit', '--home', machine.home, '--snapshot', snapshot, '--only', 'nope/nope'])).code).toBe(2);
    expect(fs.existsSync(snapshot)).toBe(false);
    const nobody = await machine.cli(['verify', '--home', machine.home, '--user', 'no-such-user-here']);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toContain('no such user');
  });

  it.skipIf(!canChown)('--fix on a file its owner cannot read (mode 0200) still applies, without opening it (needs root: chown to other uids)', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/resonix.json').mode = '0200';
    const machine = await machineFrom(scenario);
    const result = await machine.cli(['verify', '--home', machine.home, '--fix', '--format', 'json']);
    expect(result.code, result.stderr).toBeLessThan(2);
    expect(fs.statSync(path.join(machine.home, '.resonix/resonix.json')).mode & 0o777).toBe(0o600);
  });
});
