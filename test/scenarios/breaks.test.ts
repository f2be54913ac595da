// The real layouts (real-file-2026.5.28, healthy-sqlite-2026.9) broken the way people break them — `tar czf x *`
// in the home, a move to another home path, a truncated database, a copy taken while the gateway ran — and each
// checked the three ways people run the tool: as root, as the gateway user (uid 1000) and under sudo (SUDO_USER,
// no --home). For each: the exact root findings, what is folded under which root, the plan's steps in their
// order, and no command twice in the plan.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding, Report } from '../../src/model.js';
import { canChown, entry, type Scenario } from '../helpers/scenario.js';
import { releaseStaged } from '../helpers/unprivileged.js';
import { cleanupMachines, liveScenario, machineFrom, type Machine } from './run.js';
import { canOverlayPasswd, canRunAsAlice, machinePath, movedFrom, parse, runAsAlice, runUnderSudo } from './runners.js';

afterAll(cleanupMachines);
afterAll(releaseStaged);

const FILE = 'real-file-2026.5.28';
const SQLITE = 'healthy-sqlite-2026.9';

type Runner = 'root' | 'the gateway user' | 'sudo';
const RUNNERS: { runner: Runner; skip: boolean }[] = [
  { runner: 'root', skip: false },
  { runner: 'the gateway user', skip: !canRunAsAlice },
  { runner: 'sudo', skip: !canOverlayPasswd },
];

async function run(machine: Machine, command: 'verify' | 'audit', runner: Runner, env: Record<string, string>): Promise<Report> {
  if (runner === 'root') return parse(await machine.cli([command, '--home', machine.home, '--format', 'json'], env));
  if (runner === 'the gateway user') return parse(runAsAlice(machine, [command, '--home', machine.home, '--format', 'json'], env));
  const report = parse(runUnderSudo(machine, [command, '--format', 'json'], env));
  expect(report.sudoUser).toEqual({ user: 'alice', home: machine.home });
  return report;
}

const isRoot = (finding: Finding): boolean => !finding.causedBy && finding.severity !== 'info';
/** The root findings (info aside), one rule id per finding. */
const roots = (report: Report): string[] => report.findings.filter(isRoot).map((finding) => finding.ruleId).sort();
/** Each folded finding as `rule < the rule of its root`. */
function folds(report: Report): string[] {
  const byFingerprint = new Map(report.findings.map((finding) => [finding.fingerprint, finding]));
  return report.findings.filter((finding) => finding.causedBy).map((finding) => `${finding.ruleId} < ${byFingerprint.get(finding.causedBy)?.ruleId ?? '(not in the report)'}`).sort();
}
const steps = (report: Report): string[] => (report.plan ?? []).map((step) => step.step);

/** A folded finding points at a root of the report; the summary counts roots; no command twice in the plan. */
function expectWellFormed(report: Report): void {
  const byFingerprint = new Map(report.findings.map((finding) => [finding.fingerprint, finding]));
  for (const finding of report.findings.filter((item) => item.causedBy)) expect(byFingerprint.get(finding.causedBy)?.causedBy, finding.ruleId).toBeUndefined();
  const live = report.findings.filter((finding) => !finding.suppressed && !finding.causedBy);
  expect(report.summary).toEqual({
    error: live.filter((finding) => finding.severity === 'error').length,
    warning: live.filter((finding) => finding.severity === 'warning').length,
    info: live.filter((finding) => finding.severity === 'info').length,
  });
  const commands = (report.plan ?? []).flatMap((step) => [...step.commands, ...(step.alternatives ?? []).flat()]);
  expect(new Set(commands).size, `a command repeats in the plan: ${commands.join(' | ')}`).toBe(commands.length);
  // a folded finding's fix is its root's business: only roots are named by the plan's steps
  const planned = new Set((report.plan ?? []).flatMap((step) => step.findings));
  for (const finding of report.findings.filter((item) => item.causedBy)) expect(planned.has(finding.fingerprint!), `${finding.ruleId} is folded but planned`).toBe(false);
}

function emptyHome(): Scenario {
  return {
    description: 'a new machine: an empty home for alice',
    home: 'home/alice',
    users: [{ name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }],
    env: { HOME: '{root}/{home}', USER: 'alice', LOGNAME: 'alice' },
    entries: [
      { path: 'tmp/', mode: '1777', owner: 'root' },
      { path: '{home}/', mode: '0755', ...(canChown ? { owner: 'alice' } : {}) },
    ],
  };
}

interface Staged {
  machine: Machine;
  /** env for the run (PATH as the user's shell has it) */
  env?: Record<string, string>;
  done?: () => void;
}

interface Break {
  what: string;
  fixture: typeof FILE | typeof SQLITE;
  command: 'verify' | 'audit';
  make(): Promise<Staged>;
  roots: string[];
  folds: string[];
  steps: string[];
  /** what some steps say */
  plan?: (report: Report) => void;
}

const commandsOf = (report: Report, step: string): string[] => report.plan!.find((item) => item.step === step)?.commands ?? [];

/** Copy again from the old machine, with its gateway stopped first. */
function copyAgain(report: Report): void {
  expect(commandsOf(report, 'Stop the gateway')).toEqual(['resonix gateway stop   # on the old machine']);
  expect(commandsOf(report, 'Copy or restore what is missing')).toEqual([expect.stringMatching(/^rsync -a <old-host>:\S+\/\.resonix\/ \S+\/\.resonix\/$/)]);
}

/** the one true finding of a 2026.5.28 install: the program re-created its state dir 0755 (§11) */
const OWN_0755 = (fixture: string): string[] => (fixture === FILE ? ['perms/secrets-exposed'] : []);
/** 2026.9 has no unit (gateway/service-missing, info): its plan installs the service */
const SERVICE = (fixture: string): string[] => (fixture === SQLITE ? ['Install the service for the profile that holds the data'] : []);
const CHECKS = ['Check with resonix doctor', 'Restart the gateway', 'Check that it runs'];
const MOVE = ['Write a snapshot to check against', 'Archive each profile, dot-dirs included', 'Check each archive against the snapshot', 'Encrypt each archive', 'Transfer to the new machine', 'On the new machine: extract as the gateway user', 'On the new machine: install the service for each profile', 'On the new machine: verify against the snapshot'];

/**
 * A home copied with the shell's `*`, which skips dot-dirs: `cd ~ && tar czf home.tgz *` on the old machine and
 * `tar xzf` into the new home, or `cp -rp ~/* new-home/`.
 */
async function starCopy(fixture: string, how: 'tar' | 'cp'): Promise<Staged> {
  const old = await machineFrom(fixture);
  const fresh = await machineFrom(emptyHome());
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
  if (how === 'cp') execFileSync('bash', ['-c', 'cp -rp "$1"/* "$2"/', 'cp', old.home, fresh.home], { env });
  else {
    const archive = path.join(fresh.path('tmp'), 'home.tgz');
    execFileSync('bash', ['-c', 'cd "$1" && tar czf "$2" *', 'tar', old.home, archive], { env });
    execFileSync('tar', ['xzf', archive, '-C', fresh.home]);
    fs.rmSync(archive);
  }
  // the new machine has the same node and Resonix as the old one (2026.5.28 keeps them in dot-dirs of the home)
  if (fs.existsSync(old.path('usr'))) fs.cpSync(old.path('usr'), fresh.path('usr'), { recursive: true, verbatimSymlinks: true });
  if (fs.existsSync(old.path('opt'))) fs.cpSync(old.path('opt'), fresh.path('opt'), { recursive: true, verbatimSymlinks: true });
  // extracted as the user
  if (canChown) execFileSync('chown', ['-R', '1000:1000', fresh.home]);
  return { machine: fresh };
}

/** The user's shell PATH: 2026.5.28's ~/.bashrc puts its node (~/.local/node22/bin) first. */
const shellPath = (machine: Machine, fixture: string): Record<string, string> => ({ PATH: `${fixture === FILE ? `${machine.path('~/.local/node22/bin')}:` : ''}${machinePath(machine)}` });

async function moved(fixture: string): Promise<Staged> {
  const machine = await machineFrom(movedFrom(await liveScenario(fixture), '/srv/alice'));
  return { machine, env: shellPath(machine, fixture) };
}

async function truncated(fixture: string): Promise<Staged> {
  const scenario = await liveScenario(fixture);
  entry(scenario, fixture === FILE ? '{home}/.resonix/plugin-state/state.sqlite' : '{home}/.resonix/state/resonix.sqlite').sqlite!.truncateTo = 8192 + 1000;
  const machine = await machineFrom(scenario);
  return { machine, env: shellPath(machine, fixture) };
}

/**
 * What a copy taken while the gateway ran brings: a -wal torn by its bytes (2026.5.28: the copy ended inside a
 * frame; 2026.9: its header and its frames from two moments) and, for the SQLite generation, the lock the live gateway
 * held (its lock lives in the state dir, so it travels).
 */
async function liveCopy(fixture: string): Promise<Staged> {
  const scenario = await liveScenario(fixture);
  if (fixture === FILE) entry(scenario, '{home}/.resonix/tasks/runs.sqlite-wal').wal!.truncateTo = 78312 - 2000;
  else {
    const wal = entry(scenario, '{home}/.resonix/agents/main/agent/resonix-agent.sqlite-wal');
    delete wal.content;
    // the header copied after a checkpoint restarted the -wal, its frames from before: none carries its salts
    // (frames of other salts after valid ones are what a restarted -wal holds: not torn)
    wal.wal = { pageSize: 4096, frames: 6, otherSaltsFrom: 0 };
    entry(scenario, '{home}/.resonix/tmp/resonix-1000/gateway.d97bed0c.lock.sqlite').content = 'held';
  }
  const machine = await machineFrom(scenario);
  return { machine, env: shellPath(machine, fixture) };
}

/**
 * The old machine while its gateway runs (audit, as the copy would be taken): 2026.5.28's lock in
 * $TMPDIR/resonix-1000 with a live pid, 2026.9's gateway port answering. A -wal the gateway is writing is torn
 * by its bytes right now: not judged while it runs.
 */
async function liveGateway(fixture: string): Promise<Staged> {
  const scenario = await liveScenario(fixture);
  const processes: (ChildProcess | net.Server)[] = [];
  if (fixture === FILE) {
    entry(scenario, '{home}/.resonix/tasks/runs.sqlite-wal').wal!.truncateTo = 78312 - 2000;
    const machine = await machineFrom(scenario);
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    processes.push(sleeper);
    const lockDir = path.join(machine.path('tmp'), 'resonix-1000');
    fs.mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(lockDir, 'gateway.1a2b3c4d.lock'), JSON.stringify({ pid: sleeper.pid, createdAt: new Date().toISOString(), configPath: path.join(machine.home, '.resonix/resonix.json'), startTime: 1 }), { mode: 0o644 });
    if (canChown) fs.chownSync(lockDir, 1000, 1000);
    return { machine, env: shellPath(machine, fixture), done: () => sleeper.kill() };
  }
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  ((entry(scenario, '{home}/.resonix/resonix.json').json as { gateway: Record<string, unknown> }).gateway).port = port;
  const machine = await machineFrom(scenario);
  return { machine, env: shellPath(machine, fixture), done: () => server.close() };
}

/** `scp old:.resonix/resonix.json ~/.resonix/`: the config arrived, nothing else of the state dir did. */
async function configOnly(fixture: string): Promise<Staged> {
  const scenario = await liveScenario(fixture);
  scenario.entries = scenario.entries.filter((item) => !item.path.startsWith('{home}/.resonix/') || item.path === '{home}/.resonix/' || item.path === '{home}/.resonix/resonix.json');
  const machine = await machineFrom(scenario);
  return { machine, env: shellPath(machine, fixture) };
}

const BREAKS: Break[] = ([FILE, SQLITE] as const).flatMap((fixture): Break[] => [
  {
    what: 'a config-only copy (`scp resonix.json`)',
    fixture,
    command: 'verify',
    make: () => configOnly(fixture),
    roots: ['copy/config-only', ...OWN_0755(fixture)].sort(),
    // the config's paths into the state dir that did not arrive are the same one problem
    folds: ['paths/foreign-home < copy/config-only'],
    steps: ['Copy or restore what is missing', ...(fixture === FILE ? ['Set the modes'] : []), ...SERVICE(fixture), ...CHECKS],
  },
  {
    what: '`tar czf x *` in the home, extracted on the new machine',
    fixture,
    command: 'verify',
    make: () => starCopy(fixture, 'tar'),
    roots: ['copy/hidden-omitted'],
    folds: ['state/not-found < copy/hidden-omitted'],
    steps: ['Copy or restore what is missing', ...CHECKS],
    plan: (report) => {
      // copy the state dir itself, or archive it by name: two ways, one step
      const copy = report.plan![0]!;
      expect(copy.commands).toHaveLength(1);
      expect(copy.alternatives).toHaveLength(1);
    },
  },
  {
    what: '`cp -rp ~/* new-home/`: the dot-dirs were skipped',
    fixture,
    command: 'verify',
    make: () => starCopy(fixture, 'cp'),
    roots: ['copy/hidden-omitted'],
    folds: ['state/not-found < copy/hidden-omitted'],
    steps: ['Copy or restore what is missing', ...CHECKS],
    plan: (report) => {
      // copy the state dir itself, or archive it by name: two ways, one step
      const copy = report.plan![0]!;
      expect(copy.commands).toHaveLength(1);
      expect(copy.alternatives).toHaveLength(1);
    },
  },
  {
    what: 'a move to another home path (/srv/alice → /home/alice)',
    fixture,
    command: 'verify',
    make: () => moved(fixture),
    roots: ['paths/foreign-home', ...OWN_0755(fixture)].sort(),
    // 2026.5.28's units still start node and Resonix from /srv/alice: the same one problem
    folds: fixture === FILE ? ['gateway/stale-service < paths/foreign-home', 'gateway/stale-service < paths/foreign-home', 'version/node-unsupported < paths/foreign-home', 'version/node-unsupported < paths/foreign-home'] : [],
    steps: fixture === FILE ? ['Stop the gateway', 'Set the modes', 'Rewrite the config and its paths', 'Install the service for the profile that holds the data', ...CHECKS] : ['Rewrite the config and its paths', ...SERVICE(fixture), ...CHECKS],
    plan: (report) => {
      expect(commandsOf(report, 'Rewrite the config and its paths')).toEqual(expect.arrayContaining(["resonix config set 'agents.list[1].workspace' '~/work/agent-research'"].filter(() => fixture === FILE)));
      // the service and the check for the profile that holds the data, not the work profile a failed install left
      expect(commandsOf(report, 'Install the service for the profile that holds the data')[0]).toBe(fixture === FILE ? 'resonix gateway install --force' : 'resonix gateway install');
      expect(commandsOf(report, 'Check with resonix doctor')).toEqual(['resonix doctor']);
    },
  },
  {
    what: 'a truncated database',
    fixture,
    command: 'verify',
    make: () => truncated(fixture),
    roots: ['copy/sqlite-torn', ...OWN_0755(fixture)].sort(),
    folds: [],
    steps: ['Stop the gateway', 'Copy or restore what is missing', ...(fixture === FILE ? ['Set the modes'] : []), ...SERVICE(fixture), ...CHECKS],
    plan: copyAgain,
  },
  {
    what: 'a copy taken while the gateway ran, on the new machine',
    fixture,
    command: 'verify',
    make: () => liveCopy(fixture),
    roots: ['copy/sqlite-torn', ...OWN_0755(fixture)].sort(),
    folds: [],
    steps: ['Stop the gateway', 'Copy or restore what is missing', ...(fixture === FILE ? ['Set the modes'] : []), ...SERVICE(fixture), ...CHECKS],
    plan: copyAgain,
  },
  {
    what: 'the old machine while its gateway runs (audit before the copy)',
    fixture,
    command: 'audit',
    make: () => liveGateway(fixture),
    // 2026.9 also holds the thin-client profile: it must travel too, which the move's plan says (state/multiple-dirs
    // names it as info: a layout the program writes, not a hazard)
    roots: ['gateway/running', ...OWN_0755(fixture)].sort(),
    folds: [],
    steps: ['Stop the gateway', ...(fixture === FILE ? ['Set the modes'] : []), ...MOVE],
    plan: (report) => expect(commandsOf(report, 'Stop the gateway')[0]).toBe('resonix gateway stop'),
  },
]);

for (const item of BREAKS) {
  describe(`${item.fixture}: ${item.what}`, () => {
    for (const { runner, skip } of RUNNERS) {
      it.skipIf(skip)(`run as ${runner}: roots ${item.roots.join(', ')}; the rest folded; the plan in its order, no command twice`, async () => {
        const staged = await item.make();
        try {
          const report = await run(staged.machine, item.command, runner, staged.env ?? {});
          expectWellFormed(report);
          expect(roots(report)).toEqual(item.roots);
          expect(folds(report)).toEqual(item.folds);
          expect(steps(report)).toEqual(item.steps);
          item.plan?.(report);
        } finally {
          staged.done?.();
        }
      });
    }
  });
}

describe(`${FILE}: the moved home, from a shell whose node is too old`, () => {
  // The units' node and entry under /srv/alice fold under paths/foreign-home: they name nothing but the old
  // home. The `node` on PATH does not: it is the one `gateway install --force` (the rewrite's service step)
  // writes into the new unit, so a too-old one is a problem of this machine, a root of its own, and the plan
  // installs the runtime before the service.
  it.skipIf(!canChown)('version/node-unsupported for the shell\'s node stays a root beside paths/foreign-home; the runtime comes before the service', async () => {
    const { machine } = await moved(FILE);
    const bin = machine.path('opt/node-v20.11.1-linux-x64/bin');
    fs.mkdirSync(bin, { recursive: true });
    // its version is in its path (a nodejs.org tarball): read, never run
    fs.writeFileSync(path.join(bin, 'node'), '#!/bin/sh\nexit 99\n', { mode: 0o755 });
    const report = await run(machine, 'verify', 'root', { PATH: `${bin}:${machinePath(machine)}` });
    expectWellFormed(report);
    expect(roots(report)).toEqual(['paths/foreign-home', 'perms/secrets-exposed', 'version/node-unsupported']);
    expect(report.findings.find((finding) => isRoot(finding) && finding.ruleId === 'version/node-unsupported')!.evidence![0]).toBe(`${bin}/node: 20.11.1`);
    expect(folds(report)).toEqual(['gateway/stale-service < paths/foreign-home', 'gateway/stale-service < paths/foreign-home', 'version/node-unsupported < paths/foreign-home', 'version/node-unsupported < paths/foreign-home']);
    const names = steps(report);
    expect(names.indexOf('Install the runtime')).toBeGreaterThan(names.indexOf('Rewrite the config and its paths'));
    expect(names.indexOf('Install the runtime')).toBeLessThan(names.indexOf('Install the service for the profile that holds the data'));
  });
});
