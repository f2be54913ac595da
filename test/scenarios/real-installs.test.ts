// The layouts the real program wrote (reference §11, §12: real-tree-2026.5.28.txt with units-2026.5.28/, and
// real-tree-2026.9.6.txt), moved cleanly and then broken the way people break them, through the real CLI: as
// root, as the gateway user (unprivileged, setpriv) and as root under sudo (SUDO_USER). A clean move must give no
// error and no warning, except the one true finding of 2026.5.28: its own 0755 state dir.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding, Report } from '../../src/model.js';
import { canChown, entry, type Scenario } from '../helpers/scenario.js';
import { releaseStaged } from '../helpers/unprivileged.js';
import { hasTool } from '../helpers/tools.js';
import { cleanupMachines, liveScenario, machineFrom } from './run.js';
import { canOverlayPasswd, movedFrom, parse, runAsAlice, runUnderSudo } from './runners.js';

afterAll(cleanupMachines);

const FILE = 'real-file-2026.5.28';
const SQLITE = 'healthy-sqlite-2026.9';

const loud = (report: Report): Finding[] => report.findings.filter((finding) => finding.severity !== 'info');
const brief = (findings: Finding[]): string[] => findings.map((finding) => `${finding.severity} ${finding.ruleId}`).sort();
/** the one true finding of a clean 2026.5.28 move: the program re-created its state dir 0755 (§11) */
const OWN_0755 = ['error perms/secrets-exposed'];
const expectedClean = (name: string): string[] => (name === FILE ? OWN_0755 : []);

describe('a clean move of each real layout', () => {
  for (const name of [FILE, SQLITE]) {
    it(`${name}: run as root, no error and no warning${name === FILE ? ' but the program\'s own 0755 state dir' : ''}`, async () => {
      const machine = await machineFrom(name);
      const { report } = await machine.json('verify');
      expect(brief(loud(report))).toEqual(expectedClean(name));
      expect(report.rules.skipped.filter((skipped) => /could not be read/.test(skipped.reason))).toEqual([]);
      // before a move every profile with data must be archived: audit may say so (state/multiple-dirs), never an error
      expect(brief(loud((await machine.json('audit')).report)).filter((item) => item.startsWith('error')), 'audit').toEqual(expectedClean(name));
      const image = await machineFrom(name, { live: false });
      expect(brief(loud((await image.image()).report)), 'image').toEqual(expectedClean(name));
    });

    it.skipIf(!canChown || !hasTool('setpriv'))(`${name}: run as the gateway user (uid 1000), the same verdict`, async () => {
      const machine = await machineFrom(name);
      const report = parse(runAsAlice(machine, ['verify', '--home', machine.home, '--format', 'json']));
      expect(brief(loud(report))).toEqual(expectedClean(name));
      // and without --home: HOME is alice's
      expect(brief(loud(parse(runAsAlice(machine, ['verify', '--format', 'json']))))).toEqual(expectedClean(name));
    });

    it.skipIf(!canOverlayPasswd)(`${name}: under sudo without --home, SUDO_USER's home is checked and the header says so`, async () => {
      const machine = await machineFrom(name);
      const report = parse(runUnderSudo(machine, ['verify', '--format', 'json']));
      expect(report.sudoUser).toEqual({ user: 'alice', home: machine.home });
      expect(report.installs[0]!.stateDir).toBe(path.join(machine.home, '.resonix'));
      expect(brief(loud(report))).toEqual(expectedClean(name));
      const pretty = runUnderSudo(machine, ['verify']);
      expect(pretty.stdout).toContain(`checking alice's home ${machine.home} (SUDO_USER)`);
    });
  }

  it('2026.5.28: each unit serves its profile, the never-onboarded work profile is no damaged copy, the clean-stop -wal is not torn', async () => {
    const machine = await machineFrom(FILE);
    const { report } = await machine.json('verify');
    const ids = report.findings.map((finding) => finding.ruleId);
    for (const id of ['state/profile-mismatch', 'copy/config-only', 'copy/workspace-missing', 'copy/sqlite-torn', 'state/multiple-dirs', 'state/not-found']) expect(ids).not.toContain(id);
    expect(report.installs.map((install) => [path.basename(install.stateDir), install.servedBy.map((unit) => path.basename(unit))])).toEqual([
      ['.resonix', ['resonix-gateway.service']],
      ['.resonix-work', ['resonix-gateway-work.service']],
    ]);
    expect(fs.statSync(machine.path('~/.resonix/tasks/runs.sqlite-wal')).size).toBe(78312);
    const exposed = report.findings.find((finding) => finding.ruleId === 'perms/secrets-exposed')!;
    expect(exposed.path).toBe(path.join(machine.home, '.resonix'));
    // audit agrees about the units
    const audit = await machine.json('audit');
    expect(audit.report.findings.map((finding) => finding.ruleId)).not.toContain('state/profile-mismatch');
  });
});

describe('an audit of each real layout, before the move', () => {
  it('no warning for the layouts the program writes (a thin client beside the gateway, one unit per profile): only the own 0755 state dir', async () => {
    for (const name of [SQLITE, FILE]) {
      const { report } = await (await machineFrom(name)).json('audit');
      const loud = report.findings.filter((finding) => finding.severity !== 'info').map((finding) => `${finding.severity} ${finding.ruleId}`);
      expect(loud, name).toEqual(expectedClean(name));
      // the profiles are still named, to be archived each
      if (name === SQLITE) expect(report.findings.find((finding) => finding.ruleId === 'state/multiple-dirs')?.severity).toBe('info');
    }
  });
});

describe('broken the way people break them', () => {
  it.skipIf(!canChown || !hasTool('setpriv'))('`sudo cp -r` of the state dir, run as the user: one wrong-owner finding with the chown, nothing judged inside, and the report says so', async () => {
    for (const name of [SQLITE, FILE]) {
      const machine = await machineFrom(name);
      const state = path.join(machine.home, '.resonix');
      // what `sudo cp -r old/.resonix ~/.resonix` leaves: root owns every copied entry, modes as cp -r makes them
      fs.renameSync(state, `${state}.old`);
      execFileSync('cp', ['-r', `${state}.old`, state]);
      fs.rmSync(`${state}.old`, { recursive: true, force: true });
      fs.chmodSync(state, 0o700);
      const report = parse(runAsAlice(machine, ['verify', '--home', machine.home, '--format', 'json']));
      const onState = report.findings.filter((finding) => finding.install === state && finding.severity !== 'info');
      expect(brief(onState), name).toEqual(['error perms/wrong-owner']);
      const wrongOwner = onState[0]!;
      // the owner spec names uid 1000 as this host's passwd does (alice in CI; another name, or 1000, elsewhere)
      expect(wrongOwner.fix!.commands).toEqual([expect.stringMatching(new RegExp(`^sudo chown -R [\\w.-]+:[\\w.-]+ ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))]);
      expect(wrongOwner.message).toContain('nothing inside it was checked');
      for (const id of ['copy/config-only', 'state/config-invalid', 'state/not-found', 'copy/hidden-omitted', 'perms/unreadable']) expect(report.findings.map((finding) => finding.ruleId), `${name}: ${id}`).not.toContain(id);
      expect(report.unseen).toEqual([{ path: state, code: 'EACCES', uid: 1000 }]);
      const skipped = report.rules.skipped.filter((item) => item.reason.includes('could not be read as uid 1000')).map((item) => item.id);
      expect(skipped).toEqual(expect.arrayContaining(['copy/config-only', 'copy/hidden-omitted', 'state/config-invalid', 'state/not-found', 'copy/workspace-missing']));
      const pretty = runAsAlice(machine, ['verify', '--home', machine.home]);
      expect(pretty.stdout).toContain('could not be read as uid 1000: what is inside was not checked');
      expect(pretty.stdout).toContain('run it with sudo to see more');
    }
  });

  it('a move to another home path (/srv/alice → /home/alice): one foreign-home finding with the rewrite plan, no missing transcripts or workspaces', async () => {
    const scenario = movedFrom(await liveScenario(FILE), '/srv/alice');
    const machine = await machineFrom(scenario);
    const { report } = await machine.json('verify');
    const foreign = report.findings.filter((finding) => finding.ruleId === 'paths/foreign-home');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.message).toContain('/srv/alice');
    const plan = foreign[0]!.fix!.commands;
    expect(plan).toEqual(expect.arrayContaining(["resonix config set 'agents.list[1].workspace' '~/work/agent-research'", 'resonix gateway stop', 'resonix doctor --fix', 'resonix gateway install --force']));
    expect(plan.indexOf('resonix gateway stop')).toBeLessThan(plan.indexOf('resonix doctor --fix'));
    expect(plan.indexOf('resonix doctor --fix')).toBeLessThan(plan.indexOf('resonix gateway install --force'));
    expect(new Set(plan).size).toBe(plan.length);
    const ids = report.findings.map((finding) => finding.ruleId);
    expect(ids).not.toContain('copy/truncated-transcript');
    expect(ids).not.toContain('copy/workspace-missing');
    // the units' state dirs under the old home are the same problem, not state dirs that did not arrive
    expect(ids).not.toContain('state/not-found');
    expect(ids).not.toContain('state/profile-mismatch');
    expect(foreign[0]!.evidence!.join('\n')).toContain('sessionFile = /srv/alice/.resonix/agents/main/sessions/');
    // the root set: the moved home is the one root; what only names paths under /srv/alice is folded under it
    // (the program's own 0755 state dir is a true finding of its own; so is an old `node` that the host running
    // this test has on PATH, which the scan sees after the machine's own bin dirs: not part of the move)
    const hostNode = (finding: (typeof report.findings)[number]): boolean => finding.ruleId === 'version/node-unsupported' && !(finding.evidence ?? []).join(' ').includes('/srv/alice');
    expect(report.findings.filter((finding) => !finding.causedBy && finding.severity !== 'info' && !hostNode(finding)).map((finding) => finding.ruleId).sort()).toEqual(['paths/foreign-home', 'perms/secrets-exposed']);
    const folded = report.findings.filter((finding) => finding.causedBy);
    expect(folded.map((finding) => finding.ruleId).sort()).toEqual(['gateway/stale-service', 'gateway/stale-service', 'version/node-unsupported', 'version/node-unsupported']);
    expect(new Set(folded.map((finding) => finding.causedBy))).toEqual(new Set([foreign[0]!.fingerprint]));
  });

  it.skipIf(!canChown || !hasTool('setpriv'))('a moved home and a torn database: the same roots as the gateway user and under sudo (SUDO_USER) as when run as root', async () => {
    const torn = await liveScenario(FILE);
    entry(torn, '{home}/.resonix/plugin-state/state.sqlite').sqlite!.truncateTo = 8192 + 1000;
    const cases: [string, Scenario][] = [['moved home', movedFrom(await liveScenario(FILE), '/srv/alice')], ['torn database', torn]];
    // (the host's own node on PATH is left out: it is this test machine's, not the move's)
    const rootsOf = (report: Report): string[] => report.findings.filter((finding) => !finding.causedBy && finding.severity !== 'info' && finding.ruleId !== 'version/node-unsupported').map((finding) => finding.ruleId).sort();
    for (const [name, scenario] of cases) {
      const machine = await machineFrom(scenario);
      const asRoot = rootsOf((await machine.json('verify')).report);
      expect(asRoot.length, name).toBeGreaterThan(0);
      expect(rootsOf(parse(runAsAlice(machine, ['verify', '--home', machine.home, '--format', 'json']))), `${name}, as alice`).toEqual(asRoot);
      if (canOverlayPasswd) {
        const underSudo = parse(runUnderSudo(machine, ['verify', '--format', 'json']));
        expect(underSudo.sudoUser?.user, name).toBe('alice');
        expect(rootsOf(underSudo), `${name}, under sudo`).toEqual(asRoot);
      }
    }
  });

  it('the same move to a mounted disk (/mnt/disk2/users/alice): any prefix is recognised', async () => {
    const machine = await machineFrom(movedFrom(await liveScenario(FILE), '/mnt/disk2/users/alice'));
    const { report } = await machine.json('verify');
    const foreign = report.findings.filter((finding) => finding.ruleId === 'paths/foreign-home');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]!.message).toContain('/mnt/disk2/users/alice');
    expect(report.findings.map((finding) => finding.ruleId)).not.toContain('copy/truncated-transcript');
  });

  it('a truncated database and a torn -wal: copy/sqlite-torn, by their bytes', async () => {
    const scenario = await liveScenario(FILE);
    entry(scenario, '{home}/.resonix/plugin-state/state.sqlite').sqlite!.truncateTo = 8192 + 1000;
    entry(scenario, '{home}/.resonix/tasks/runs.sqlite-wal').wal!.truncateTo = 78312 - 2000;
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    const torn = report.findings.filter((finding) => finding.ruleId === 'copy/sqlite-torn');
    expect(torn).toHaveLength(1);
    expect(torn[0]!.evidence).toEqual(['plugin-state/state.sqlite: 9192 bytes, the header says 20480', 'tasks/runs.sqlite-wal: it ends 2120 bytes into a frame']);
    const roots = report.findings.filter((finding) => !finding.causedBy && finding.severity !== 'info').map((finding) => finding.ruleId);
    // one root for the torn copy (the program's own 0755 state dir is a true finding of its own); the plan stops
    // the old gateway before copying again, then modes, doctor, restart, status, no command twice
    expect(roots.sort()).toEqual(['copy/sqlite-torn', 'perms/secrets-exposed']);
    expect(report.plan!.map((step) => step.step)).toEqual(['Stop the gateway', 'Copy or restore what is missing', 'Set the modes', 'Check with resonix doctor', 'Restart the gateway', 'Check that it runs']);
    const commands = report.plan!.flatMap((step) => step.commands);
    expect(new Set(commands).size).toBe(commands.length);
  });

  it('a -wal whose frames carry other salts than its header (header and frames from two moments): torn', async () => {
    const scenario = await liveScenario(FILE);
    entry(scenario, '{home}/.resonix/tasks/runs.sqlite-wal').wal!.otherSaltsFrom = 0;
    const { report } = await (await machineFrom(scenario)).json('verify');
    expect(report.findings.find((finding) => finding.ruleId === 'copy/sqlite-torn')!.evidence).toEqual(["tasks/runs.sqlite-wal: its first frame does not carry the header's salts"]);
  });

  it('the -wal a clean stop left is not torn, in verify, audit and image', async () => {
    const machine = await machineFrom(FILE);
    for (const command of ['verify', 'audit'] as const) expect((await machine.json(command)).report.findings.map((finding) => finding.ruleId)).not.toContain('copy/sqlite-torn');
    const image = await machineFrom(FILE, { live: false });
    expect((await image.image()).report.findings.map((finding) => finding.ruleId)).not.toContain('copy/sqlite-torn');
  });

  it('secrets/backup-exposed by the whole path: a 0644 tgz in a 0700 home is not readable by others; under a 0755 home it is', async () => {
    for (const homeMode of ['0700', '0755']) {
      const scenario = await liveScenario(FILE);
      entry(scenario, '{home}/').mode = homeMode;
      scenario.entries.push({ path: '{home}/Downloads/' }, { path: '{home}/Downloads/laptop-backup.tgz', mode: '0644', archive: { format: 'tar.gz', cwd: '{home}', members: ['.resonix'] } });
      const { report } = await (await machineFrom(scenario)).json('audit');
      const exposed = report.findings.filter((finding) => finding.ruleId === 'secrets/backup-exposed');
      if (homeMode === '0700') expect(exposed, homeMode).toEqual([]);
      else expect(exposed.map((finding) => [finding.evidence, finding.fix!.commands]), homeMode).toEqual([[['world-readable (0644)'], [`chmod 600 ${path.join(report.roots!.HOME!, 'Downloads/laptop-backup.tgz')}`]]]);
    }
  });

  it('copy/hidden-omitted with one workspace marker: `cp -r old/* new/` brought ~/work/agent-main with only AGENTS.md', async () => {
    const scenario: Scenario = {
      description: 'a home that received `cp -r old/* new/`: one workspace with one marker, no .resonix',
      home: 'home/alice',
      users: [{ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }],
      env: { HOME: '{root}/{home}', USER: 'alice', LOGNAME: 'alice' },
      defaults: { owner: 'alice' },
      entries: [
        { path: 'tmp/', mode: '1777', owner: 'root' },
        { path: '{home}/', mode: '0755' },
        { path: '{home}/work/' },
        { path: '{home}/work/agent-main/' },
        { path: '{home}/work/agent-main/AGENTS.md', content: '# AGENTS.md - Your Workspace\n' },
      ],
    };
    const { code, report } = await (await machineFrom(scenario)).json('verify');
    expect(code).toBe(1);
    const hidden = report.findings.find((finding) => finding.ruleId === 'copy/hidden-omitted')!;
    expect(hidden.evidence).toEqual([expect.stringMatching(/work\/agent-main \(AGENTS\.md\)$/)]);
  });

  it.skipIf(!canOverlayPasswd)('`sudo cp -r`, checked with sudo: root sees inside, so the insides are judged (owner only, no damaged-copy findings) and nothing is unseen', async () => {
    const machine = await machineFrom(SQLITE);
    const state = path.join(machine.home, '.resonix');
    fs.renameSync(state, `${state}.old`);
    execFileSync('cp', ['-r', `${state}.old`, state]);
    fs.rmSync(`${state}.old`, { recursive: true, force: true });
    const report = parse(runUnderSudo(machine, ['verify', '--format', 'json']));
    expect(report.sudoUser?.user).toBe('alice');
    expect(report.unseen).toBeUndefined();
    const ids = new Set(loud(report).map((finding) => finding.ruleId));
    expect(ids.has('perms/wrong-owner')).toBe(true);
    for (const id of ['copy/config-only', 'state/config-invalid', 'state/not-found', 'copy/hidden-omitted']) expect(ids.has(id), id).toBe(false);
    // the user by SUDO_USER's passwd entry; the group as this host's /etc/group names gid 1000
    expect(report.findings.find((finding) => finding.ruleId === 'perms/wrong-owner' && finding.path === state)!.fix!.commands[0]).toMatch(new RegExp(`^sudo chown -R alice:[\\w.-]+ ${state.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  });

  it.skipIf(!canChown || !hasTool('setpriv'))('the /srv/alice move, run as the gateway user: the same single foreign-home finding', async () => {
    const machine = await machineFrom(movedFrom(await liveScenario(FILE), '/srv/alice'));
    const report = parse(runAsAlice(machine, ['verify', '--home', machine.home, '--format', 'json']));
    expect(report.findings.filter((finding) => finding.ruleId === 'paths/foreign-home')).toHaveLength(1);
    for (const id of ['copy/truncated-transcript', 'copy/workspace-missing', 'state/not-found']) expect(report.findings.map((finding) => finding.ruleId)).not.toContain(id);
  });

  it.skipIf(!hasTool('tar'))('inspect of a tar.gz of the never-onboarded work profile: no config-only, no workspace-missing', async () => {
    const scenario = await liveScenario(FILE);
    scenario.entries.push({ path: '{home}/resonix-work.tgz', mode: '0600', archive: { format: 'tar.gz', cwd: '{home}', members: ['.resonix-work'] } });
    const machine = await machineFrom(scenario);
    const run = await machine.cli(['inspect', path.join(machine.home, 'resonix-work.tgz'), '--format', 'json']);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.findings.map((finding) => finding.ruleId)).not.toContain('copy/config-only');
    expect(report.findings.map((finding) => finding.ruleId)).not.toContain('copy/workspace-missing');
  });
});

afterAll(releaseStaged);
