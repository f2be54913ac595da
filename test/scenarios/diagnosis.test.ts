// The diagnosis through the real CLI: a copy broken the way people break it gives one root cause (or one
// per tree), the rest folded under it, and one plan whose steps come in the order that works, no command twice.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding, Report } from '../../src/model.js';
import { canChown, type Scenario } from '../helpers/scenario.js';
import { releaseStaged, stageForOtherUsers } from '../helpers/unprivileged.js';

// the checkout may sit in a private (0700) dir: another user runs a world-readable staged copy of the CLI
function cliForTheUser(): string {
  const staged = stageForOtherUsers();
  if (typeof staged === 'string') throw new Error(`cannot stage the CLI for another user: ${staged}`);
  return staged.cli;
}
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, type Machine } from './run.js';
import { manifestFileText } from '../helpers/manifest-file.js';

afterAll(cleanupMachines);

const FILE = 'healthy-file-2026.5';
const SQLITE = 'healthy-sqlite-2026.9';

function emptyHome(): Scenario {
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

const roots = (report: Report): string[] => [...new Set(report.findings.filter((finding) => !finding.causedBy && finding.severity !== 'info').map((finding) => finding.ruleId))].sort();
const folded = (report: Report): Finding[] => report.findings.filter((finding) => finding.causedBy);

/** Every folded finding points at a root that is in the report and is itself a root. */
function expectWellFormed(report: Report): void {
  const byFingerprint = new Map(report.findings.map((finding) => [finding.fingerprint, finding]));
  for (const finding of folded(report)) {
    const root = byFingerprint.get(finding.causedBy);
    expect(root, `${finding.ruleId} folded under a fingerprint that is not in the report`).toBeDefined();
    expect(root!.causedBy).toBeUndefined();
  }
  const live = report.findings.filter((finding) => !finding.suppressed && !finding.causedBy);
  expect(report.summary).toEqual({
    error: live.filter((finding) => finding.severity === 'error').length,
    warning: live.filter((finding) => finding.severity === 'warning').length,
    info: live.filter((finding) => finding.severity === 'info').length,
  });
  const commands = (report.plan ?? []).flatMap((step) => [...step.commands, ...(step.alternatives ?? []).flat()]);
  expect(new Set(commands).size, `a command repeats in the plan: ${commands.join(' | ')}`).toBe(commands.length);
}

/** The new machine has the same node and Resonix installed as the old one. */
function withPrograms(old: Machine, fresh: Machine): void {
  fs.cpSync(old.path('usr'), fresh.path('usr'), { recursive: true, verbatimSymlinks: true });
}

const steps = (report: Report): string[] => (report.plan ?? []).map((step) => step.step);

/** verify --format json run as alice (uid 1000), not root. */
function verifyAsAlice(machine: Machine): { code: number; report: Report } {
  const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cliForTheUser(), 'verify', '--home', machine.home, '--format', 'json'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...machine.env, TMPDIR: machine.path('tmp') },
    encoding: 'utf8',
    cwd: '/',
  });
  expect(run.status, run.stderr).toBeLessThan(2);
  expectNoLeak(run.stdout + run.stderr, machine);
  return { code: run.status!, report: JSON.parse(run.stdout) as Report };
}

describe('a root copy (`sudo cp -r`): the files belong to root', () => {
  async function rootCopy(): Promise<Machine> {
    const old = await machineFrom(FILE);
    const fresh = await machineFrom(emptyHome());
    for (const dir of ['.resonix', 'work']) execFileSync('cp', ['-r', path.join(old.home, dir), path.join(fresh.home, dir)]);
    withPrograms(old, fresh);
    return fresh;
  }

  it.skipIf(!canChown)('run with sudo: perms/wrong-owner per tree is the root, the rest folded under it; the plan chowns, then checks', async () => {
    const fresh = await rootCopy();
    const { code, report } = await fresh.json('verify');
    expect(code).toBe(1);
    expectWellFormed(report);
    expect(roots(report)).toEqual(['perms/wrong-owner']);
    expect(folded(report).map((finding) => finding.ruleId)).toContain('perms/unreadable');
    // one error per tree the copy made root's: the state dir and the workspace outside it
    expect(report.summary.error).toBe(report.findings.filter((finding) => finding.ruleId === 'perms/wrong-owner').length);
    // the unit was not copied: the service is installed (gateway/service-missing, info) after the files are the user's
    expect(steps(report)).toEqual(['Give the files to the gateway user', 'Install the service for the profile that holds the data', 'Check with resonix doctor', 'Restart the gateway', 'Check that it runs']);
    const chown = report.plan![0]!.commands;
    expect(chown.every((command) => /^sudo chown -R \S+ /.test(command))).toBe(true);
    expect(chown).toHaveLength(report.findings.filter((finding) => finding.ruleId === 'perms/wrong-owner').length);
    expect(report.verdicts!.migration.error).toBe(report.summary.error);

    const pretty = await fresh.cli(['verify', '--home', fresh.home]);
    expect(pretty.stdout).toMatch(/✗ perms\/wrong-owner /);
    expect(pretty.stdout).toMatch(/ {4}because of this:\n(?: {6}- [^\n]*\n)*? {6}- perms\/unreadable /);
    // a folded finding's fix is not shown: the only chmod/chown commands are the roots'
    expect(pretty.stdout).not.toMatch(/\$ sudo chown 1000:1000/);
    expect(pretty.stdout).toMatch(/Plan \(in this order\)\n {2}1\. Give the files to the gateway user/);
  });

  it.skipIf(!canChown)('run as the gateway user, who cannot read the tree: still one root, nothing inside judged', async () => {
    const fresh = await rootCopy();
    const { code, report } = verifyAsAlice(fresh);
    expect(code).toBe(1);
    expectWellFormed(report);
    expect(roots(report)).toEqual(['perms/wrong-owner']);
    // what it could not read is not judged at all: no config-only, invalid or missing, folded or not;
    // the rules that would judge inside list themselves as skipped, and say to run with sudo
    expect(report.findings.map((finding) => finding.ruleId)).toEqual(['perms/wrong-owner']);
    const skipped = report.rules.skipped.map((item) => item.id);
    expect(skipped).toEqual(expect.arrayContaining(['copy/config-only', 'copy/hidden-omitted', 'state/not-found']));
    expect(report.rules.skipped.find((item) => item.id === 'copy/config-only')!.reason).toMatch(/sudo/);
    expect(report.summary.error).toBe(1);
    expect(steps(report)[0]).toBe('Give the files to the gateway user');
  });

  it.skipIf(!canChown)('--fix-dry-run plans the roots\' actions only', async () => {
    const fresh = await rootCopy();
    const dry = await fresh.cli(['verify', '--home', fresh.home, '--fix-dry-run']);
    const planned = dry.stdout.split('\n').filter((line) => /# perms\//.test(line));
    expect(planned.length).toBeGreaterThan(0);
    expect(planned.every((line) => /# perms\/wrong-owner$/.test(line))).toBe(true);
  });
});

describe('a config-only copy (`scp resonix.json`)', () => {
  it('copy/config-only is the root; what it left behind is folded under it', async () => {
    const scenario = await liveScenario(FILE);
    for (const dir of ['agents', 'credentials', 'identity', 'devices', 'cron', 'logs', 'media', 'workspace', '.env']) {
      scenario.entries = scenario.entries.filter((item) => !item.path.startsWith(`{home}/.resonix/${dir}`));
    }
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    expectWellFormed(report);
    expect(roots(report)).toContain('copy/config-only');
    const configOnly = report.findings.find((finding) => finding.ruleId === 'copy/config-only')!;
    const under = folded(report).filter((finding) => finding.causedBy === configOnly.fingerprint).map((finding) => finding.ruleId);
    expect(under.sort()).toEqual(['copy/channel-login-missing', 'copy/workspace-missing', 'paths/foreign-home']);
    expect(report.summary.error).toBe(1);
    expect(steps(report)[0]).toBe('Copy or restore what is missing');
    expect(report.plan![0]!.findings).toContain(configOnly.fingerprint);
    expect(steps(report).slice(-3)).toEqual(['Check with resonix doctor', 'Restart the gateway', 'Check that it runs']);
  });
});

describe('`cp ~/*`: the dot-dirs were skipped', () => {
  it('copy/hidden-omitted is the root, state/not-found folded under it; the copy step offers the two ways as alternatives', async () => {
    const old = await machineFrom(FILE);
    const fresh = await machineFrom(emptyHome());
    execFileSync('bash', ['-c', 'cp -rp "$1"/* "$2"/', 'cp', old.home, fresh.home]);
    withPrograms(old, fresh);
    if (canChown) execFileSync('chown', ['-R', '1000:1000', fresh.home]);
    const { code, report } = await fresh.json('verify');
    expect(code).toBe(1);
    expectWellFormed(report);
    expect(roots(report)).toEqual(['copy/hidden-omitted']);
    const hidden = report.findings.find((finding) => finding.ruleId === 'copy/hidden-omitted')!;
    expect(report.findings.find((finding) => finding.ruleId === 'state/not-found')!.causedBy).toBe(hidden.fingerprint);
    expect(report.summary.error).toBe(1);
    const copy = report.plan![0]!;
    expect(copy.step).toBe('Copy or restore what is missing');
    expect(copy.commands).toHaveLength(1);
    expect(copy.alternatives).toHaveLength(1);
    expect(steps(report)).toEqual(['Copy or restore what is missing', 'Check with resonix doctor', 'Restart the gateway', 'Check that it runs']);
  });
});

describe('`tar czf x *` in the home: the archive left the dot-dirs out', () => {
  it('the same root as `cp ~/*` (copy/hidden-omitted), as root and as the user, and no command twice in the plan', async () => {
    const old = await machineFrom(FILE);
    const fresh = await machineFrom(emptyHome());
    const archive = path.join(fresh.path('tmp'), 'home.tgz');
    // what people run: `cd ~ && tar czf home.tgz *` on the old machine, `tar xzf` in the new home
    execFileSync('bash', ['-c', 'cd "$1" && tar czf "$2" *', 'tar', old.home, archive]);
    execFileSync('tar', ['xzf', archive, '-C', fresh.home]);
    fs.rmSync(archive);
    withPrograms(old, fresh);
    if (canChown) execFileSync('chown', ['-R', '1000:1000', fresh.home]);
    const { code, report } = await fresh.json('verify');
    expect(code).toBe(1);
    expectWellFormed(report);
    expect(roots(report)).toEqual(['copy/hidden-omitted']);
    expect(report.summary.error).toBe(1);
    expect(steps(report)[0]).toBe('Copy or restore what is missing');
    const commands = (report.plan ?? []).flatMap((step) => step.commands);
    expect(new Set(commands).size).toBe(commands.length);
    // as the gateway user, as most people run it
    if (canChown && process.getuid?.() === 0) expect(roots(verifyAsAlice(fresh).report)).toEqual(['copy/hidden-omitted']);
  });
});

describe('a clean move says what it checked', () => {
  for (const name of [FILE, SQLITE]) {
    it(`${name}: one ✓ line per area, then the verification checklist`, async () => {
      const machine = await machineFrom(name);
      const { report } = await machine.json('verify');
      expect(report.verdicts!.migration).toEqual(expect.objectContaining({ error: 0, warning: 0 }));
      expect(report.checked!.map((line) => [line.area, line.status])).toEqual(
        ['state', 'config', 'agents', 'channels', 'sessions', 'service', 'versions', 'secrets'].map((area) => [area, 'ok']).filter(([area]) => report.checked!.some((line) => line.area === area)),
      );
      expect(report.checked!.map((line) => line.area)).toEqual(expect.arrayContaining(['state', 'config', 'agents', 'channels', 'sessions', 'service']));
      const pretty = await machine.cli(['verify', '--home', machine.home]);
      expect(pretty.stdout).toMatch(/What was checked\n {2}✓ state dir found, readable and owned by the gateway user\n {2}✓ config valid/);
      expect(pretty.stdout).toContain('Next: check it yourself\n  - `resonix status`');
      expect(pretty.stdout).toMatch(/\nmigration: ✓ 0 errors, 0 warnings, \d+ info: ready\nhygiene: {3}✓ 0 errors, 0 warnings, 0 info: clean\n$/);
    });
  }
});

describe('audit: the plan is the move itself', () => {
  it('lists what must travel with sizes, one archive per profile, in the order that works', async () => {
    const machine = await machineFrom(FILE);
    fs.mkdirSync(machine.path('usr/local/bin'), { recursive: true });
    // gpg is installed here, age is not: found by stat on PATH, never run (it would fail if run)
    fs.writeFileSync(machine.path('usr/local/bin/gpg'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    // only the machine's own programs on PATH: the host may have age
    const result = await machine.cli(['audit', '--home', machine.home, '--format', 'json'], { PATH: `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}` });
    const report = JSON.parse(result.stdout) as Report;
    const move = report.move!;
    const stateDir = move.find((item) => item.kind === 'state-dir')!;
    expect(stateDir.path).toBe(path.join(machine.home, '.resonix'));
    expect(stateDir.bytes).toBeGreaterThan(0);
    const workspace = move.find((item) => item.kind === 'workspace')!;
    expect(workspace.path).toBe(path.join(machine.home, 'work/agent-research'));
    expect(move.some((item) => item.kind === 'unit')).toBe(true);
    expect(steps(report).slice(0, 2)).toEqual(['Stop the gateway', 'Write a snapshot to check against']);
    const names = steps(report);
    const order = ['Stop the gateway', 'Archive each profile, dot-dirs included', 'Check each archive against the snapshot', 'Encrypt each archive', 'Transfer to the new machine', 'On the new machine: extract as the gateway user', 'On the new machine: install the service for each profile', 'On the new machine: verify against the snapshot'];
    expect(order.map((name) => names.indexOf(name))).toEqual([...order.map((name) => names.indexOf(name))].sort((a, b) => a - b));
    const archive = report.plan!.find((step) => step.step === 'Archive each profile, dot-dirs included')!;
    expect(archive.commands).toHaveLength(1);
    expect(archive.commands[0]).toMatch(/tar -C \S+ -czf resonix-default\.tgz \.resonix work\/agent-research/);
    const encrypt = report.plan!.find((step) => step.step === 'Encrypt each archive')!;
    expect(encrypt.commands[0]).toMatch(/^gpg --symmetric /);
    expectWellFormed(report);
  });
});

describe('verify --against a snapshot: which step of the move was skipped', () => {
  it('the snapshot records what must travel; a workspace that never arrived and a service never installed are named', async () => {
    const old = await machineFrom(FILE);
    const manifest = path.join(old.path('tmp'), 'manifest.json');
    const snapshot = await old.cli(['snapshot', '--home', old.home, '--out', manifest]);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    const recorded = JSON.parse(manifestFileText(manifest)) as { move: { kind: string; path: string }[] };
    expect(recorded.move.map((item) => [item.kind, path.relative(old.home, item.path)])).toEqual(expect.arrayContaining([['state-dir', '.resonix'], ['workspace', 'work/agent-research'], ['unit', '.config/systemd/user/resonix-gateway.service']]));
    // the new machine at the same path: only ~/.resonix was copied (cp -a keeps owners and modes)
    const saved = `${old.root}.old`;
    fs.renameSync(old.root, saved);
    try {
      fs.mkdirSync(old.home, { recursive: true, mode: 0o755 });
      fs.mkdirSync(old.path('tmp'), { mode: 0o1777 });
      fs.cpSync(path.join(saved, 'usr'), old.path('usr'), { recursive: true, verbatimSymlinks: true });
      const savedHome = path.join(saved, path.relative(old.root, old.home));
      execFileSync('cp', ['-a', path.join(savedHome, '.resonix'), path.join(old.home, '.resonix')]);
      if (canChown) fs.chownSync(old.home, 1000, 1000);
      fs.copyFileSync(path.join(saved, 'tmp', 'manifest.json'), manifest);
      const result = await old.cli(['verify', '--home', old.home, '--against', manifest, '--format', 'json']);
      expect(result.code, result.stderr).toBeLessThan(2);
      const report = JSON.parse(result.stdout) as Report;
      expectWellFormed(report);
      const byPath = new Map(report.move!.map((item) => [path.relative(old.home, item.path), item]));
      expect(byPath.get('.resonix')!.arrived).toBe(true);
      expect(byPath.get('work/agent-research')!.arrived).toBe(false);
      expect(byPath.get('work/agent-research')!.skippedStep).toMatch(/^Archive each profile/);
      expect(byPath.get('.config/systemd/user/resonix-gateway.service')!.arrived).toBe(false);
      expect(byPath.get('.config/systemd/user/resonix-gateway.service')!.skippedStep).toBe('On the new machine: install the service for each profile');
      const pretty = await old.cli(['verify', '--home', old.home, '--against', manifest]);
      expect(pretty.stdout).toMatch(/What the move had to carry \(from the old machine\)\n {2}✓ state dir \S+\/\.resonix \(profile default\)\n/);
      expect(pretty.stdout).toMatch(/✗ workspace \S+\/work\/agent-research \(profile default\) did not arrive: skipped step "Archive each profile/);
    } finally {
      fs.rmSync(saved, { recursive: true, force: true });
    }
  });
});

afterAll(releaseStaged);
