// --fix and --fix-dry-run on real files: the same plan, nothing changed by a dry run, idempotent, safe.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { canChown, entry, treeDigest } from '../helpers/scenario.js';
import { cliForOtherUsers, releaseStaged } from '../helpers/unprivileged.js';
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom } from './run.js';

afterAll(cleanupMachines);
afterAll(releaseStaged);

async function looseCopy() {
  const scenario = await liveScenario('healthy-file-2026.5');
  entry(scenario, '{home}/.resonix/').mode = '0755';
  entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
  entry(scenario, '{home}/.resonix/credentials/').mode = '0755';
  entry(scenario, '{home}/.resonix/credentials/whatsapp/default/creds.json').mode = '0644';
  // a link to a file outside the state dir: a fix must never follow it
  scenario.entries.push({ path: 'srv/shared.json', mode: '0644', content: '{}' }, { path: '{home}/.resonix/shared.json', target: '{root}/srv/shared.json' });
  return machineFrom(scenario);
}

function planLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s{2}(chmod|chown|mkdir) /.test(line)).map((line) => line.replace(/\s+#.*$/, '').trim());
}

describe('--fix-dry-run and --fix', () => {
  it('dry-run prints exactly what --fix then applies, changes nothing; --fix leaves nothing to fix; a second --fix changes nothing', async () => {
    const machine = await looseCopy();
    const before = await treeDigest(machine.root);
    const dry = await machine.cli(['audit', '--home', machine.home, '--fix-dry-run']);
    expect(dry.code).toBe(1);
    expect(await treeDigest(machine.root)).toBe(before);
    const planned = planLines(dry.stdout);
    expect(planned).toContain(`chmod 0700 ${path.join(machine.home, '.resonix')}`);
    expect(planned).toContain(`chmod 0700 ${path.join(machine.home, '.resonix/credentials')}`);
    expect(planned).toContain(`chmod 0600 ${path.join(machine.home, '.resonix/resonix.json')}`);
    // a 0644 file under 0700 dirs is not exposed, so it is not touched
    expect(planned.join('\n')).not.toContain('creds.json');

    const fixed = await machine.cli(['audit', '--home', machine.home, '--fix']);
    expect(planLines(fixed.stdout)).toEqual(planned);
    expect(fs.statSync(path.join(machine.home, '.resonix')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(machine.home, '.resonix/resonix.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(machine.path('srv/shared.json')).mode & 0o777).toBe(0o644);
    expect(fixed.stdout).not.toContain('perms/secrets-exposed  ');
    const after = await treeDigest(machine.root);

    const again = await machine.cli(['audit', '--home', machine.home, '--fix', '--format', 'json']);
    expect(again.stderr).toContain('Nothing to fix automatically.');
    expect((JSON.parse(again.stdout) as Report).findings.map((finding) => finding.ruleId)).not.toContain('perms/secrets-exposed');
    expect(await treeDigest(machine.root)).toBe(after);
  });

  it.skipIf(!canChown)('--fix gives a `sudo cp -r` copy back to the gateway user (needs root to chown)', async () => {
    const old = await machineFrom('healthy-file-2026.5');
    const fresh = await looseCopy();
    fs.rmSync(path.join(fresh.home, '.resonix'), { recursive: true });
    execFileSync('cp', ['-r', path.join(old.home, '.resonix'), path.join(fresh.home, '.resonix')]);
    const fixed = await fresh.cli(['verify', '--home', fresh.home, '--fix', '--format', 'json']);
    const report = JSON.parse(fixed.stdout) as Report;
    expect(report.findings.map((finding) => finding.ruleId)).not.toContain('perms/wrong-owner');
    expect(fs.statSync(path.join(fresh.home, '.resonix/credentials/whatsapp/default/creds.json')).uid).toBe(1000);
  });

  it.skipIf(!canChown)('without permission it stops before changing anything, with a one-line reason (exit 2) (needs root: runs as uid 1000)', async ({ skip }) => {
    const machine = await looseCopy();
    // root-owned files in alice's state dir: alice may not chown them back
    execFileSync('chown', ['-R', '0:0', path.join(machine.home, '.resonix/credentials')]);
    const before = await treeDigest(machine.root);
    const cli = cliForOtherUsers(skip);
    const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cli, 'verify', '--home', machine.home, '--fix'], {
      env: { PATH: process.env.PATH!, HOME: machine.home, TMPDIR: machine.path('tmp') },
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/run the fix as root/);
    expectNoLeak(run.stdout + run.stderr, machine);
    expect(await treeDigest(machine.root)).toBe(before);
  });
});
