// The CLI run on a materialised machine the three ways people run it: as root (Machine.cli), as the gateway
// user (uid 1000, unprivileged, through setpriv) and as root under sudo (SUDO_USER, HOME=/root, no --home).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { Report } from '../../src/model.js';
import { CLI_PATH, canChown, type Scenario, type ScenarioEntry } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';
import { stageForOtherUsers } from '../helpers/unprivileged.js';
import { expectNoLeak, type Machine } from './run.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The machine's own programs (its node) first on PATH, the host's tools after, as Machine.cli does. */
export const machinePath = (machine: Machine): string => `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}:${process.env.PATH}`;

/** Whether this host can run the CLI as uid 1000 (root, with setpriv). */
export const canRunAsAlice = canChown && hasTool('setpriv');

/** Whether a private mount namespace can lay a passwd of the machine's users over /etc/passwd (root in CI). */
export const canOverlayPasswd = ((): boolean => {
  if (!canChown || !hasTool('unshare')) return false;
  return spawnSync('unshare', ['--mount', 'sh', '-c', 'mount --bind /etc/hostname /etc/hostname'], { stdio: 'ignore' }).status === 0;
})();

// the checkout may sit in a private (0700) dir: another user runs a world-readable staged copy of the CLI
function cliForTheUser(): string {
  const staged = stageForOtherUsers();
  if (typeof staged === 'string') throw new Error(`cannot stage the CLI for another user: ${staged}`);
  return staged.cli;
}

/** Runs the CLI as uid 1000 (alice, the gateway user), with only the given env. */
export function runAsAlice(machine: Machine, args: string[], env: Record<string, string> = {}): Run {
  const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cliForTheUser(), ...args], {
    env: { PATH: machinePath(machine), HOME: machine.home, USER: 'alice', TMPDIR: machine.path('tmp'), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expectNoLeak(run.stdout + run.stderr, machine);
  expect(run.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  return { code: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
}

/**
 * Runs the CLI as root with SUDO_USER=alice and HOME=/root, as `sudo resonix-migrate …` does, without --home.
 * sudo's users come from the host's /etc/passwd; a private mount namespace lays one that lists alice with this
 * machine's home over it, for this process only.
 */
export function runUnderSudo(machine: Machine, args: string[], env: Record<string, string> = {}): Run {
  const passwd = path.join(machine.root, 'etc/passwd.sudo');
  fs.writeFileSync(passwd, `root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000:Alice:${machine.home}:/bin/bash\n`);
  try {
    const script = 'mount --bind "$1" /etc/passwd && shift && exec "$@"';
    const run = spawnSync('unshare', ['--mount', 'sh', '-c', script, 'sh', passwd, process.execPath, CLI_PATH, ...args], {
      env: { PATH: machinePath(machine), HOME: '/root', USER: 'root', LOGNAME: 'root', SUDO_USER: 'alice', SUDO_UID: '1000', SUDO_GID: '1000', TMPDIR: machine.path('tmp'), ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expectNoLeak(run.stdout + run.stderr, machine);
    return { code: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
  } finally {
    fs.rmSync(passwd, { force: true });
  }
}

export const parse = (run: Run): Report => {
  expect(run.code, run.stderr).toBeLessThan(2);
  return JSON.parse(run.stdout) as Report;
};

/** The scenario as it would be after a move from `oldHome`: every absolute path into the home names the old one. */
export function movedFrom(scenario: Scenario, oldHome: string): Scenario {
  const rewrite = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replaceAll('{homeAbs}', oldHome);
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rewrite(item)]));
    return value;
  };
  return { ...scenario, entries: scenario.entries.map((item) => ({ ...item, ...(['content', 'json', 'jsonl', 'target'] as const).reduce((acc, key) => (item[key] !== undefined ? { ...acc, [key]: rewrite(item[key]) } : acc), {} as Partial<ScenarioEntry>) })) };
}
