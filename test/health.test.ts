// resonix-migrate/health: the rules as Resonix doctor health checks, called the way the plugin SDK's
// runDoctorLintChecks calls them (every check's detect(ctx) in turn, findings concatenated and sorted
// by severity, checkId, path), on fixture homes materialised for real.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createHealthChecks, healthChecks, registerHealthChecks, toHealthFinding, type HealthCheck, type HealthCheckContext, type HealthFinding } from '../src/health.js';
import type { Finding, Report } from '../src/model.js';
import { toDoctorLint } from '../src/reporters/doctor-lint.js';
import { builtinRules } from '../src/rules/index.js';
import { scanMachine, type ScanOptions } from '../src/scan/index.js';
import { canChown, entry, findCanaries, removeEntries as rmEntries } from './helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom, type Machine } from './scenarios/run.js';

afterAll(cleanupMachines);
afterEach(() => vi.unstubAllEnvs());

const RANK = { error: 3, warning: 2, info: 1 } as const;

/** What the SDK's runDoctorLintChecks does with plugin checks: run each, concatenate, sort. */
async function runDoctorLintChecks(checks: readonly HealthCheck[], ctx: HealthCheckContext): Promise<HealthFinding[]> {
  const findings: HealthFinding[] = [];
  for (const check of checks) findings.push(...(await check.detect(ctx)));
  return findings.sort((a, b) => RANK[b.severity] - RANK[a.severity] || a.checkId.localeCompare(b.checkId) || (a.path ?? '').localeCompare(b.path ?? ''));
}

/** The env a Resonix process on this machine has: the machine's env, its programs first on PATH, its /tmp. */
function envOf(machine: Machine): Record<string, string> {
  return { PATH: `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}:${process.env.PATH}`, ...machine.env, TMPDIR: machine.path('tmp') };
}

function countingScan() {
  const calls: ScanOptions[] = [];
  return { calls, scan: (options: ScanOptions) => (calls.push(options), scanMachine(options)) };
}

const key = (finding: { checkId?: string; ruleId?: string; severity: string; message: string }) => `${finding.severity} ${finding.checkId ?? `resonix-migrate/${finding.ruleId}`} ${finding.message}`;

describe('healthChecks: the SDK contract', () => {
  it('one plugin check per rule doctor can run (verify rules that need no baseline), ids under resonix-migrate/', () => {
    const expected = builtinRules.filter((rule) => rule.meta.phases.includes('verify') && !rule.meta.needsBaseline).map((rule) => `resonix-migrate/${rule.meta.id}`);
    expect(healthChecks.map((check) => check.id)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(20);
    for (const check of healthChecks) {
      expect(check.kind).toBe('plugin');
      expect(typeof check.description).toBe('string');
      expect(check.description.length).toBeGreaterThan(0);
      expect(typeof check.detect).toBe('function');
    }
  });

  it('a finding reads as `--format doctor-lint` prints it (one fixHint, path and line/column), with its source', () => {
    const rule = builtinRules.find((item) => item.meta.id === 'paths/foreign-home')!;
    const withFix: Finding = { ruleId: rule.meta.id, severity: 'warning', message: 'm', path: '/home/alice/.resonix/resonix.json', install: '/home/alice/.resonix', line: 4, column: 25, fix: { summary: 'Point it here', commands: ['resonix config set agents.defaults.workspace ~/agent', 'resonix doctor'] } };
    const withoutFix: Finding = { ruleId: rule.meta.id, severity: 'warning', message: 'n', install: '/home/alice/.resonix' };
    const lint = toDoctorLint({ findings: [withFix, withoutFix], rules: { run: [], skipped: [] } } as unknown as Report, [rule], { ok: false });
    const health = [withFix, withoutFix].map((finding) => toHealthFinding(finding, rule));
    // doctor-lint sorts (the state dir before the config file): compare each finding with its own
    const printed = new Map(lint.findings.map((finding) => [finding.message, finding]));
    expect(health).toEqual(health.map((finding) => ({ ...printed.get(finding.message), source: 'resonix-migrate' })));
    expect(health[0]!.fixHint).toBe('Point it here\nFix:\n- resonix config set agents.defaults.workspace ~/agent\n- resonix doctor');
    expect(health[1]).toMatchObject({ path: '/home/alice/.resonix', fixHint: `${rule.meta.fix}\nMore: resonix-migrate explain paths/foreign-home` });
  });

  it('registerHealthChecks hands every check to the host', () => {
    const registered: HealthCheck[] = [];
    registerHealthChecks((check) => registered.push(check));
    expect(registered).toEqual(healthChecks);
  });
});

describe('detect() on fixture homes', () => {
  it('a healthy home: no findings; a loose copy: the same findings as `verify --format json`; one scan per run', async () => {
    const healthy = await machineFrom('healthy-file-2026.5');
    expect(await runDoctorLintChecks(healthChecks, { mode: 'lint', env: envOf(healthy) })).toEqual([]);

    const scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/').mode = '0755';
    entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
    rmEntries(scenario, '{home}/.config');
    const loose = await machineFrom(scenario);
    const { calls, scan } = countingScan();
    const checks = createHealthChecks({ scan });
    const findings = await runDoctorLintChecks(checks, { mode: 'lint', env: envOf(loose) });
    expect(calls).toHaveLength(1);
    const report = JSON.parse((await loose.cli(['verify', '--format', 'json'])).stdout) as Report;
    expect(report.findings.length).toBeGreaterThan(1);
    expect(findings.map(key).sort()).toEqual(report.findings.map(key).sort());
    expect(findings.map((finding) => finding.checkId)).toEqual(expect.arrayContaining(['resonix-migrate/perms/secrets-exposed', 'resonix-migrate/gateway/service-missing']));
    // the next run scans again (the machine may have changed); its checks share that one scan
    await runDoctorLintChecks(checks, { mode: 'lint', env: envOf(loose) });
    expect(calls).toHaveLength(2);
  });

  it.skipIf(!canChown)(canChown ? 'a `sudo cp -r` home: perms/wrong-owner as an error with the chown in fixHint, sorted as doctor sorts, no secret' : 'a `sudo cp -r` home (skipped: needs root to copy as root)', async () => {
    const old = await machineFrom('healthy-file-2026.5');
    const fresh = await machineFrom('healthy-file-2026.5');
    fs.rmSync(path.join(fresh.home, '.resonix'), { recursive: true });
    execFileSync('cp', ['-r', path.join(old.home, '.resonix'), path.join(fresh.home, '.resonix')]);
    const findings = await runDoctorLintChecks(healthChecks, { mode: 'lint', env: envOf(fresh) });
    const owner = findings.find((finding) => finding.checkId === 'resonix-migrate/perms/wrong-owner');
    expect(owner).toMatchObject({ severity: 'error', path: path.join(fresh.home, '.resonix'), source: 'resonix-migrate' });
    expect(owner!.fixHint).toMatch(/chown -R/);
    const ranks = findings.map((finding) => RANK[finding.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(findCanaries(JSON.stringify(findings), fresh.canaries)).toEqual([]);
  });

  it('the state dir comes from ctx.env as Resonix resolves it (RESONIX_STATE_DIR; RESONIX_PROFILE alone moves nothing), else process.env', async () => {
    const machine = await machineFrom('healthy-sqlite-2026.9');
    const work = path.join(machine.home, '.resonix-work');
    const { calls, scan } = countingScan();
    const checks = createHealthChecks({ scan });
    // `resonix --profile work doctor --lint` sets both
    const profile = await runDoctorLintChecks(checks, { mode: 'lint', env: { ...envOf(machine), RESONIX_PROFILE: 'work', RESONIX_STATE_DIR: work } });
    expect(profile.map((finding) => finding.checkId)).toContain('resonix-migrate/remote/client-only');
    expect(calls.at(-1)!.env.RESONIX_STATE_DIR).toBe(work);
    // the default profile: no client-only finding
    const plain = await runDoctorLintChecks(checks, { mode: 'lint', env: { ...envOf(machine), RESONIX_PROFILE: 'work' } });
    expect(plain.map((finding) => finding.checkId)).not.toContain('resonix-migrate/remote/client-only');
    // ctx.env undefined: process.env is what Resonix runs with
    for (const [name, value] of Object.entries({ ...envOf(machine), RESONIX_STATE_DIR: work })) vi.stubEnv(name, value);
    const fromProcess = await runDoctorLintChecks(checks, { mode: 'lint' });
    expect(fromProcess.map(key).sort()).toEqual(profile.map(key).sort());
    expect(calls).toHaveLength(3);
  });

  it('ctx.configPath is the config Resonix loaded when the env names none; a config-key finding carries its line', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const elsewhere = path.join(machine.home, 'conf', 'resonix.json');
    fs.mkdirSync(path.dirname(elsewhere), { mode: 0o700 });
    fs.writeFileSync(elsewhere, '{\n  // moved from the Mac\n  gateway: { mode: "local" },\n  agents: { defaults: { workspace: "/Users/alice/agent" } },\n}\n', { mode: 0o600 });
    const findings = await runDoctorLintChecks(healthChecks, { mode: 'lint', configPath: elsewhere, env: envOf(machine) });
    const foreign = findings.find((finding) => finding.checkId === 'resonix-migrate/paths/foreign-home' && finding.path === elsewhere);
    expect(foreign).toMatchObject({ line: 4, column: 25 });
    expect(foreign!.fixHint).toContain('config set agents.defaults.workspace');
  });
});
