// --with-doctor end to end: a fake `resonix` (alice's, on PATH) or a fake node named by alice's unit stands in
// for the installed Resonix. It records who ran it, with what arguments and environment, then prints a real
// 2026.9.6 lint output (a copy of ../shared/reference/doctor-lint/ kept in test/fixtures), fails, hangs,
// prints garbage or far too much. Doctor's findings join the report under their own ids and gate like ours;
// a failure is one line of the report and never changes our exit code; root never runs it; image refuses.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { CANARY, FIXTURES_DIR, canChown, entry, type Scenario } from '../helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom, type Machine } from './run.js';

const TIMEOUT = 60_000;
const SAMPLE = fs.readFileSync(path.join(FIXTURES_DIR, 'doctor-lint', 'doctor-lint-2026.9.6.json'), 'utf8');
const SAMPLE_ALL = fs.readFileSync(path.join(FIXTURES_DIR, 'doctor-lint', 'doctor-lint-all-2026.9.6.json'), 'utf8');

let marks: string;
beforeAll(() => {
  marks = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-doctor-marks-'));
  // alice (the fake's user) must be able to say she ran it
  fs.chmodSync(marks, 0o1777);
});
afterAll(async () => {
  await cleanupMachines();
  fs.rmSync(marks, { recursive: true, force: true });
});

function clearMarks(): void {
  for (const name of fs.readdirSync(marks)) fs.rmSync(path.join(marks, name));
}

const mark = (name: string): string | undefined => (fs.existsSync(path.join(marks, name)) ? fs.readFileSync(path.join(marks, name), 'utf8') : undefined);

/** A shell script that records its uid, argv and environment, answers --version, then does `body`. */
const fake = (body: string): string =>
  `#!/bin/sh\nif [ "$1" = "--version" ]; then echo v22.19.0; exit 0; fi\nid -u >> ${marks}/uid\necho "$@" > ${marks}/args\nenv > ${marks}/env\n${body}\n`;

/** Prints a copy of a lint output the machine keeps (world-readable), exiting as doctor does with warnings. */
const prints = (file: string): string => `cat {root}/opt/doctor/${file}\nexit 1`;

type Mode = 'path' | 'unit';

/** The healthy 2026.5.28 home with the lint samples under /opt/doctor and a fake doctor (alice's resonix on PATH, or the unit's node). */
async function doctorMachine(body: string, options: { mode?: Mode; tweak?: (scenario: Scenario) => void } = {}): Promise<Machine> {
  clearMarks();
  const scenario = await liveScenario('healthy-file-2026.5');
  scenario.entries.push(
    { path: 'opt/doctor/', owner: 'root' },
    { path: 'opt/doctor/lint.json', owner: 'root', content: SAMPLE },
    { path: 'opt/doctor/lint-all.json', owner: 'root', content: SAMPLE_ALL },
  );
  if ((options.mode ?? 'path') === 'path') scenario.entries.push({ path: 'usr/local/bin/', owner: 'root' }, { path: 'usr/local/bin/resonix', mode: '0755', owner: 'alice', content: fake(body) });
  else entry(scenario, 'usr/bin/node').content = fake(body);
  options.tweak?.(scenario);
  return machineFrom(scenario);
}

async function verify(machine: Machine, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number; report: Report; stderr: string }> {
  const result = await machine.cli(['verify', '--home', machine.home, '--format', 'json', ...args], env);
  expect(result.code, result.stderr).toBeLessThan(2);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
}

const doctorIds = (report: Report): string[] => report.findings.filter((item) => item.ruleId.startsWith('core/doctor/')).map((item) => item.ruleId);
const ours = (report: Report): string[] => report.findings.filter((item) => !item.ruleId.startsWith('core/doctor/')).map((item) => `${item.ruleId} ${item.path ?? ''}`);

describe.skipIf(!canChown)('--with-doctor (needs root: the fake is alice\'s and must run as alice; skipped when not root)', () => {
  it(
    'off by default: audit and verify without it run no doctor',
    async () => {
      const machine = await doctorMachine(prints('lint.json'));
      for (const command of ['audit', 'verify']) {
        const result = await machine.cli([command, '--home', machine.home, '--format', 'json']);
        expect(result.code, result.stderr).toBeLessThan(2);
        expect((JSON.parse(result.stdout) as Report).doctor).toBeUndefined();
      }
      expect(mark('args')).toBeUndefined();
    },
    TIMEOUT,
  );

  it(
    "resonix on PATH: runs `resonix doctor --lint --json` as alice in her home with a fixed environment; doctor's findings join under their own ids and gate like ours",
    async () => {
      const machine = await doctorMachine(prints('lint.json'));
      const without = await verify(machine);
      const { code, report } = await verify(machine, ['--with-doctor'], { SOME_TOOL_SECRET: 'not-for-doctor-123456' });
      expect(mark('uid')?.trim()).toBe('1000');
      expect(mark('args')?.trim()).toBe('doctor --lint --json');
      const env = mark('env')!;
      expect(env).toContain(`HOME=${machine.home}\n`);
      expect(env).toContain('PATH=/usr/local/bin:/usr/bin:/bin\n');
      expect(env).not.toContain('SOME_TOOL_SECRET');
      // the default state dir: Resonix finds it from HOME, so nothing else is set
      expect(env).not.toMatch(/RESONIX_STATE_DIR|RESONIX_CONFIG_PATH/);
      expect(doctorIds(report)).toEqual(['core/doctor/node-hosting-preconditions', 'core/doctor/security']);
      expect(ours(report)).toEqual(ours(without.report));
      expect(report.doctor).toEqual({ command: `${machine.path('usr/local/bin/resonix')} doctor --lint --json`, uid: 1000, checksRun: 35, checksSkipped: 30 });
      expect(report.summary.warning).toBe(without.report.summary.warning + 2);
      expect(report.problems).toEqual(without.report.problems);
      // warnings: the default gate (error) is unchanged; --fail-on warning fails on doctor's
      expect(code).toBe(without.code);
      expect((await verify(machine, ['--fail-on', 'warning'])).code).toBe(0);
      expect((await verify(machine, ['--with-doctor', '--fail-on', 'warning'])).code).toBe(1);
    },
    TIMEOUT,
  );

  it(
    'every check on: all 35 findings of the real sample arrive, distinct fingerprints',
    async () => {
      const machine = await doctorMachine(prints('lint-all.json'));
      const { report } = await verify(machine, ['--with-doctor']);
      const doctor = report.findings.filter((item) => item.ruleId.startsWith('core/doctor/'));
      expect(doctor).toHaveLength((JSON.parse(SAMPLE_ALL) as { findings: unknown[] }).findings.length);
      expect(new Set(doctor.map((item) => item.fingerprint)).size).toBe(doctor.length);
      expect(report.doctor?.checksRun).toBe(65);
    },
    TIMEOUT,
  );

  it(
    "the unit's entry script when no resonix is on PATH: `<node> <entry> doctor --lint --json`, as alice",
    async () => {
      const machine = await doctorMachine(prints('lint.json'), { mode: 'unit' });
      const { report } = await verify(machine, ['--with-doctor']);
      expect(mark('uid')?.trim()).toBe('1000');
      expect(mark('args')?.trim()).toBe(`${machine.path('usr/lib/node_modules/resonix/dist/index.js')} doctor --lint --json`);
      expect(report.doctor?.command).toBe(`${machine.path('usr/bin/node')} ${machine.path('usr/lib/node_modules/resonix/dist/index.js')} doctor --lint --json`);
      expect(doctorIds(report)).toHaveLength(2);
    },
    TIMEOUT,
  );

  it.each([
    ['fails (exit 2, stderr)', `echo "doctor: config invalid near ${CANARY.gateway}" >&2\nexit 2`, /gave no findings: it exited with 2: doctor: config invalid near \S+$/],
    ['prints garbage', 'echo "Resonix 2026.9.6: all good"\nexit 0', /gave no findings: it printed no lint report \(its output is not JSON\)$/],
    ['prints the wrong shape', 'echo \'{"schemaVersion":1,"ok":true,"checksRun":1,"checksSkipped":0,"findings":[{"checkId":"x","severity":"fatal","message":"m"}]}\'', /\(findings\[0\]\.severity is not info, warning or error\)$/],
    ['prints far too much', "head -c 3000000 /dev/zero | tr '\\0' x\nexit 0", /gave no findings: it printed more than 1024 KiB and was stopped$/],
  ])(
    'doctor %s: one problem line with the reason, the rest of the report as without it, the same exit code',
    async (_name, body, reason) => {
      const machine = await doctorMachine(body);
      const without = await verify(machine);
      const { code, report } = await verify(machine, ['--with-doctor']);
      expect(mark('uid')?.trim()).toBe('1000');
      const problems = report.problems.filter((problem) => problem.code === 'EDOCTOR');
      expect(problems).toHaveLength(1);
      expect(problems[0]!.message).toMatch(reason);
      expect(problems[0]!.message).not.toContain('\n');
      expect(report.findings.map((item) => item.fingerprint)).toEqual(without.report.findings.map((item) => item.fingerprint));
      expect(code).toBe(without.code);
      expect(report.doctor).toBeUndefined();
      // pretty says it without --verbose
      const pretty = await machine.cli(['verify', '--home', machine.home, '--with-doctor', '--no-color']);
      expect(pretty.stdout).toMatch(/! resonix doctor --lint --json gave no findings: /);
    },
    TIMEOUT,
  );

  it(
    'doctor hangs: stopped at --doctor-timeout, one problem line, the report still comes out',
    async () => {
      const machine = await doctorMachine('sleep 30');
      const started = Date.now();
      const { report } = await verify(machine, ['--with-doctor', '--doctor-timeout', '1']);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(report.problems.filter((problem) => problem.code === 'EDOCTOR').map((problem) => problem.message)).toEqual([
        'resonix doctor --lint --json gave no findings: it did not finish within 1 s and was stopped (--doctor-timeout)',
      ]);
      expect(report.installs.length).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    "folding: doctor's state-dir modes finding beside our perms/secrets-exposed is kept under it (causedBy), not counted, not gating",
    async () => {
      const stateDirFinding = (severity: string): string =>
        `cat <<'EOF'\n${JSON.stringify({ schemaVersion: 1, ok: false, checksRun: 1, checksSkipped: 0, findings: [{ checkId: 'core/doctor/state-integrity', severity, message: 'State directory permissions are too open. Recommend chmod 700.', path: '{homeAbs}/.resonix', fixHint: 'Run `resonix doctor --fix` to tighten state directory permissions.' }] })}\nEOF\nexit 1`;
      // 0750: ours is a warning (group access); doctor calls it an error
      const machine = await doctorMachine(stateDirFinding('error'), { tweak: (scenario) => (entry(scenario, '{home}/.resonix/').mode = '0750') });
      const without = await verify(machine);
      const { code, report } = await verify(machine, ['--with-doctor']);
      const root = report.findings.find((item) => item.ruleId === 'perms/secrets-exposed')!;
      const doctor = report.findings.find((item) => item.ruleId === 'core/doctor/state-integrity')!;
      expect(root.severity).toBe('warning');
      expect(doctor).toMatchObject({ severity: 'error', path: machine.path('~/.resonix'), causedBy: root.fingerprint });
      expect(report.summary).toEqual(without.report.summary);
      expect(code).toBe(without.code);
      const pretty = await machine.cli(['verify', '--home', machine.home, '--with-doctor', '--no-color']);
      expect(pretty.stdout).toMatch(/perms\/secrets-exposed[^\n]*\n(?:[^\n]*\n)*? {4}because of this:\n {6}- core\/doctor\/state-integrity  State directory permissions are too open/);

      // with the state dir 0700 there is nothing of ours to fold under: doctor's error stands and fails the run
      const tidy = await doctorMachine(stateDirFinding('error'));
      const alone = await verify(tidy, ['--with-doctor']);
      expect(alone.report.findings.find((item) => item.ruleId === 'core/doctor/state-integrity')?.causedBy).toBeUndefined();
      expect(alone.code).toBe(1);
    },
    TIMEOUT,
  );

  it(
    "doctor's strings pass our masker: a secret the scan knows never leaves in any format",
    async () => {
      const leaky = JSON.stringify({ schemaVersion: 1, ok: false, checksRun: 1, checksSkipped: 0, findings: [{ checkId: 'core/doctor/security', severity: 'warning', message: `gateway.auth.token is ${CANARY.gateway}`, path: `{homeAbs}/.resonix/${CANARY.telegram}`, fixHint: `resonix secrets apply ${CANARY.gateway}\nthen rotate ${CANARY.telegram}` }] });
      const machine = await doctorMachine(`cat <<'EOF'\n${leaky}\nEOF\nexit 1`);
      // machine.cli fails the test on any canary in stdout or stderr
      for (const format of ['json', 'pretty', 'sarif', 'markdown', 'github', 'junit']) {
        const result = await machine.cli(['verify', '--home', machine.home, '--with-doctor', '--format', format]);
        expect(result.code, result.stderr).toBeLessThan(2);
      }
      const { report } = await verify(machine, ['--with-doctor']);
      expect(report.findings.find((item) => item.ruleId === 'core/doctor/security')?.message).toMatch(/^gateway\.auth\.token is /);
    },
    TIMEOUT,
  );

  it(
    'never as root: a gateway user that is root is a problem line, and nothing runs',
    async () => {
      const machine = await doctorMachine(prints('lint.json'));
      const { report } = await verify(machine, ['--with-doctor', '--user', 'root']);
      expect(mark('uid')).toBeUndefined();
      expect(report.problems.find((problem) => problem.code === 'EDOCTOR')?.message).toMatch(/the gateway user is root, and doctor never runs as root/);
    },
    TIMEOUT,
  );

  it(
    "a home root copied, root's resonix on PATH, --user 1000: doctor runs as alice, not as root (nor as nobody, as a program only root controls would)",
    async () => {
      const machine = await doctorMachine(prints('lint.json'), {
        tweak: (scenario) => {
          for (const item of ['usr/local/bin/resonix', '{home}/', '{home}/.resonix/']) entry(scenario, item).owner = 'root';
        },
      });
      expect([machine.path('usr/local/bin/resonix'), machine.home, machine.path('~/.resonix')].map((file) => fs.statSync(file).uid)).toEqual([0, 0, 0]);
      const { report } = await verify(machine, ['--with-doctor', '--user', '1000']);
      expect(mark('uid')?.trim()).toBe('1000');
      expect(report.doctor?.uid).toBe(1000);
    },
    TIMEOUT,
  );

  it(
    'a resonix on PATH owned by someone else than the gateway user does not run',
    async () => {
      const machine = await doctorMachine(prints('lint.json'), { tweak: (scenario) => (entry(scenario, 'usr/local/bin/resonix').owner = 1001) });
      const { report } = await verify(machine, ['--with-doctor']);
      expect(mark('uid')).toBeUndefined();
      expect(report.problems.find((problem) => problem.code === 'EDOCTOR')?.message).toMatch(/not run: .* owned by uid 1001, not by uid 1000/);
    },
    TIMEOUT,
  );

  it(
    'image refuses --with-doctor (exit 2, one line), runs nothing',
    async () => {
      const machine = await doctorMachine(prints('lint.json'));
      const result = await machine.cli(['image', machine.root, '--with-doctor']);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/image does not take --with-doctor: it runs nothing from the image/);
      expect(mark('uid')).toBeUndefined();
      // inspect reads an archive: the flag is not one of its options
      expect((await machine.cli(['inspect', machine.path('opt/doctor/lint.json'), '--with-doctor'])).code).toBe(2);
    },
    TIMEOUT,
  );

  it(
    '--help says what it runs and that it is not read-only',
    async () => {
      const machine = await doctorMachine(prints('lint.json'));
      const help = (await machine.cli(['verify', '--help'])).stdout;
      expect(help).toMatch(/--with-doctor/);
      expect(help.replace(/\s+/g, ' ')).toMatch(/as the gateway user \(never as root\).*NOT read-only: doctor's lint may write into the state dir/);
    },
    TIMEOUT,
  );
});
