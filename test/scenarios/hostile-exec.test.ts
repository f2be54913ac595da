// A home that someone else controls, scanned by root: the programs it names (a unit's ExecStart, a
// plist's ProgramArguments, the PATH) and its workspaces' git repositories. Each fake program records
// `id -u`: nothing may ever have run as root — a program either did not run, or ran as its owner.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canChown, loadScenario, type Scenario } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';
import { cleanupMachines, liveScenario, machineFrom } from './run.js';

const TIMEOUT = 60_000;
const ALICE = '1000';

let marks: string;
beforeAll(() => {
  marks = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-exec-marks-'));
  // whoever a fake runs as must be able to say so
  fs.chmodSync(marks, 0o1777);
});
afterAll(async () => {
  await cleanupMachines();
  fs.rmSync(marks, { recursive: true, force: true });
});

/** A stand-in for node or resonix that writes who ran it to marks/<name>, then prints a version. */
const fake = (name: string, output: string): string => `#!/bin/sh\nid -u >> ${marks}/${name}\necho '${output}'\n`;

/** Every mark written so far: name → the uids that ran it. */
function whoRan(): Record<string, string[]> {
  return Object.fromEntries(fs.readdirSync(marks).map((name) => [name, fs.readFileSync(path.join(marks, name), 'utf8').trim().split('\n')]));
}

function clearMarks(): void {
  for (const name of fs.readdirSync(marks)) fs.rmSync(path.join(marks, name));
}

function unit(execStart: string): string {
  return `[Unit]\nDescription=Resonix Gateway\n\n[Service]\nExecStart=${execStart}\nEnvironment=HOME={homeAbs}\nEnvironment=RESONIX_SERVICE_VERSION=2026.5.28\n\n[Install]\nWantedBy=default.target\n`;
}

function plist(programArguments: string[]): string {
  const args = programArguments.map((word) => `    <string>${word}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n  <key>Label</key>\n  <string>ai.resonix.gateway</string>\n  <key>ProgramArguments</key>\n  <array>\n${args}\n  </array>\n  <key>EnvironmentVariables</key>\n  <dict>\n    <key>HOME</key>\n    <string>{homeAbs}</string>\n  </dict>\n</dict>\n</plist>\n`;
}

/**
 * The healthy home plus: alice's own node named by the unit and by a plist, alice's node and resonix
 * first on PATH, root's node in a dir alice owns (named by a second unit), and root's node in a dir
 * anyone may write (a third unit, `{OPEN}/opt/shared/node`: the caller says where the machine's
 * paths start). `entry` is the Resonix entry script as the scan will see it.
 */
function hostileEntries(scenario: Scenario, entry: string): void {
  scenario.entries.push(
    { path: '{home}/bin/', mode: '0755' },
    { path: '{home}/bin/node', mode: '0755', content: fake('unit-node', 'v22.19.0') },
    { path: '{home}/plist-bin/', mode: '0755' },
    { path: '{home}/plist-bin/node', mode: '0755', content: fake('plist-node', 'v22.19.0') },
    { path: '{home}/path-bin/', mode: '0755' },
    { path: '{home}/path-bin/node', mode: '0755', content: fake('path-node', 'v22.19.0') },
    { path: '{home}/path-bin/resonix', mode: '0755', content: fake('path-resonix', 'resonix 2026.5.28') },
    // root's file, alice's dir: alice can replace it, so it is alice's
    { path: '{home}/rootbin/', mode: '0755' },
    { path: '{home}/rootbin/node', mode: '0755', owner: 'root', content: fake('root-node-in-alice-dir', 'v22.19.0') },
    // root's file in a dir anyone may write: anyone's
    { path: 'opt/shared/', mode: '0777', owner: 'root' },
    { path: 'opt/shared/node', mode: '0755', owner: 'root', content: fake('root-node-in-open-dir', 'v22.19.0') },
    { path: '{home}/.config/systemd/user/resonix-gateway-work.service', content: unit(`{homeAbs}/rootbin/node ${entry} gateway --port 18790`) },
    { path: '{home}/.config/systemd/user/resonix-gateway-shared.service', content: unit(`{OPEN}/opt/shared/node ${entry} gateway --port 18791`) },
    { path: '{home}/Library/' },
    { path: '{home}/Library/LaunchAgents/' },
    { path: '{home}/Library/LaunchAgents/ai.resonix.gateway.plist', content: plist(['{homeAbs}/plist-bin/node', entry, 'gateway', '--port', '18789']) },
  );
  const main = scenario.entries.find((item) => item.path === '{home}/.config/systemd/user/resonix-gateway.service')!;
  main.content = unit(`{homeAbs}/bin/node ${entry} gateway --port 18789`);
}

describe.skipIf(!canChown)('programs a scanned home names never run as root (needs root; skipped when not root)', () => {
  it(
    'audit and verify: alice\'s node (unit, plist, PATH) and resonix (PATH) run as alice; root\'s node in an open dir does not run',
    async () => {
      clearMarks();
      const scenario = await liveScenario('healthy-file-2026.5');
      hostileEntries(scenario, '{root}/usr/lib/node_modules/resonix/dist/index.js');
      for (const item of scenario.entries) if (typeof item.content === 'string') item.content = item.content.replaceAll('{OPEN}', '{root}');
      const machine = await machineFrom(scenario);
      expect(fs.statSync(machine.path('~/bin/node')).uid).toBe(1000);
      expect(fs.statSync(machine.path('~/rootbin/node')).uid).toBe(0);
      const PATH = `${machine.path('~/path-bin')}:${process.env.PATH}`;
      for (const command of ['audit', 'verify']) {
        const result = await machine.cli([command, '--home', machine.home, '--format', 'json'], { PATH });
        expect(result.code, result.stderr).toBeLessThan(2);
      }
      const ran = whoRan();
      // each ran (so this test can fail), and only ever as alice
      expect(Object.keys(ran).sort()).toEqual(['path-node', 'path-resonix', 'plist-node', 'root-node-in-alice-dir', 'unit-node']);
      for (const [name, uids] of Object.entries(ran)) expect([name, [...new Set(uids)]]).toEqual([name, [ALICE]]);
    },
    TIMEOUT,
  );

  it(
    'a root-owned resonix on PATH whose #! names alice\'s binary runs as alice, never as root',
    async () => {
      clearMarks();
      const machine = await machineFrom('healthy-file-2026.5');
      // alice's copy of the real sh: an interpreter she controls, and not a script itself
      const aliceBin = machine.path('~/interp-bin');
      fs.mkdirSync(aliceBin, { mode: 0o755 });
      fs.chownSync(aliceBin, 1000, 1000);
      const aliceSh = path.join(aliceBin, 'sh');
      fs.copyFileSync(fs.realpathSync('/bin/sh'), aliceSh);
      fs.chmodSync(aliceSh, 0o755);
      fs.chownSync(aliceSh, 1000, 1000);
      // root's launcher in root's dir, no package.json above it: the scan asks it `--version`
      const rootBin = machine.path('opt/root-launcher');
      fs.mkdirSync(rootBin, { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(rootBin, 'resonix'), `#!${aliceSh}\nid -u >> ${marks}/root-resonix-alice-interp\necho 'resonix 2026.5.28'\n`, { mode: 0o755 });
      expect(fs.statSync(path.join(rootBin, 'resonix')).uid).toBe(0);
      const result = await machine.cli(['audit', '--home', machine.home, '--format', 'json'], { PATH: `${rootBin}:${process.env.PATH}` });
      expect(result.code, result.stderr).toBeLessThan(2);
      // it ran (so this test can fail), and as alice, whose interpreter it is
      expect(whoRan()).toEqual({ 'root-resonix-alice-interp': [ALICE] });
    },
    TIMEOUT,
  );

  it(
    'image mode runs nothing, from the units, the plist or the PATH',
    async () => {
      clearMarks();
      const scenario = await loadScenario('healthy-file-2026.5');
      hostileEntries(scenario, '/usr/lib/node_modules/resonix/dist/index.js');
      for (const item of scenario.entries) if (typeof item.content === 'string') item.content = item.content.replaceAll('{OPEN}', '');
      const machine = await machineFrom(scenario, { live: false });
      const { report } = await machine.image(['--verbose']);
      expect(report.installs.length).toBeGreaterThan(0);
      // a live audit from the same shell would have run them: the PATH is there, and still nothing runs
      await machine.cli(['image', machine.root, '--format', 'json'], { PATH: `${machine.path('/home/alice/path-bin')}:${process.env.PATH}` });
      expect(whoRan()).toEqual({});
    },
    TIMEOUT,
  );
});

describe.skipIf(!hasTool('git'))('a workspace whose .git/index is a FIFO or corrupt', () => {
  const GIT_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
  const git = (dir: string, ...args: string[]): void => {
    execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: GIT_ENV, stdio: 'pipe' });
  };
  const makeRepo = (dir: string): void => {
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'workspace');
    if (canChown) execFileSync('chown', ['-R', '1000:1000', path.join(dir, '.git')]);
  };

  // the fixture's owners need root to apply
  it.skipIf(!canChown)(
    'a reason in the report, the rule skipped with it, and no stall (needs root; skipped when not root)',
    async () => {
      const machine = await machineFrom('healthy-file-2026.5');
      const main = machine.path('~/.resonix/workspace');
      const research = machine.path('~/work/agent-research');
      makeRepo(main);
      makeRepo(research);
      fs.rmSync(path.join(main, '.git', 'index'));
      execFileSync('mkfifo', ['-m', '0600', path.join(main, '.git', 'index')]);
      if (canChown) fs.chownSync(path.join(main, '.git', 'index'), 1000, 1000);
      fs.writeFileSync(path.join(research, '.git', 'index'), Buffer.alloc(2048, 0x5a));
      const started = Date.now();
      const { report } = await machine.json('audit', ['--verbose']);
      // one git timeout alone would be 10 s
      expect(Date.now() - started).toBeLessThan(9000);
      const problems = report.problems.filter((problem) => problem.code === 'EGIT');
      expect(problems.map((problem) => [problem.path, problem.message])).toEqual(
        expect.arrayContaining([
          [main, `${main}: git check not done: .git/index is a FIFO, not a regular file: git was not run on it`],
          [research, expect.stringContaining('.git/index is corrupt')],
        ]),
      );
      expect(report.rules.skipped).toContainEqual({ id: 'secrets/in-workspace-git', reason: expect.stringMatching(/^git could not check 2 workspaces /) });
      expect(report.rules.run).not.toContain('secrets/in-workspace-git');
      const pretty = await machine.cli(['audit', '--home', machine.home, '--verbose']);
      expect(pretty.stdout).toContain('secrets/in-workspace-git skipped: git could not check 2 workspaces');
    },
    TIMEOUT,
  );

  it.skipIf(!canChown)(
    'a healthy workspace repository is checked by git running as its owner (needs root; skipped when not root)',
    async () => {
      const machine = await machineFrom('healthy-file-2026.5');
      const main = machine.path('~/.resonix/workspace');
      fs.writeFileSync(path.join(main, '.env'), 'ANTHROPIC_API_KEY=placeholder\n');
      makeRepo(main);
      // git found first on the tool's PATH: root's, recording who runs it
      const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-exec-git-'));
      try {
        fs.chmodSync(tools, 0o755);
        const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
        fs.writeFileSync(path.join(tools, 'git'), `#!/bin/sh\nid -u >> ${marks}/git\nexec ${real} "$@"\n`, { mode: 0o755 });
        clearMarks();
        const result = await machine.cli(['audit', '--home', machine.home, '--format', 'json'], { PATH: `${tools}:${machine.path('usr/bin')}:${process.env.PATH}` });
        const parsed = JSON.parse(result.stdout) as { findings: { ruleId: string; path?: string }[] };
        expect(parsed.findings.filter((finding) => finding.ruleId === 'secrets/in-workspace-git').map((finding) => finding.path)).toEqual([main]);
        expect([...new Set(whoRan().git)]).toEqual([ALICE]);
      } finally {
        fs.rmSync(tools, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
});
