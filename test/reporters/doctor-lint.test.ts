// --format doctor-lint against what Resonix 2026.9.6's `doctor --lint --json` really printed
// (../shared/reference/doctor-lint/, copied into test/fixtures/doctor-lint/ so a fresh clone has them):
// one parser (src/doctor-lint-shape.ts, the one --with-doctor uses) reads both, and our output carries the same
// top-level fields and finding fields, in doctor's order.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDoctorLintOutput, type DoctorLintReport } from '../../src/doctor-lint-shape.js';
import { formatDoctorLint, inDoctorOrder, toDoctorLint } from '../../src/reporters/doctor-lint.js';
import { failThreshold } from '../../src/cli.js';
import { REPO_ROOT, runCli } from '../helpers/scenario.js';
import { CHMOD, RULES, STATEDIR, cleanReport, fullReport, hostileReport, report } from './fixture.js';

const SAMPLES = path.join(REPO_ROOT, 'test', 'fixtures', 'doctor-lint');
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name), 'utf8');
const EXAMPLE_HOME = path.join(REPO_ROOT, 'examples', 'broken-migration', 'home', 'alice');

/** The one parser, read strictly: what it refuses fails the test with its reason. */
function parseDoctorLint(text: string): DoctorLintReport {
  const parsed = parseDoctorLintOutput(text);
  if (!parsed.ok) throw new Error(`not doctor-lint output: ${parsed.reason}`);
  return parsed.lint;
}

describe('the real doctor samples', () => {
  it('are the ones in ../shared when that is here (the copies are not edited)', () => {
    const shared = path.join(REPO_ROOT, '..', 'shared', 'reference', 'doctor-lint');
    if (!fs.existsSync(shared)) {
      console.warn(`doctor-lint: ${shared} is not here (a clone outside the team's tree); the committed copies are used as they are`);
      return;
    }
    for (const name of fs.readdirSync(SAMPLES)) expect(sample(name)).toBe(fs.readFileSync(path.join(shared, name), 'utf8'));
  });

  it.each(fs.readdirSync(SAMPLES))('%s parses, and its findings are in the order this reporter sorts by', (name) => {
    const lint = parseDoctorLint(sample(name));
    expect(lint.schemaVersion).toBe(1);
    expect(lint.findings.length).toBeGreaterThan(0);
    // the 2026.9.6 sample of 33 findings has ties on checkId broken by path ('-' before '.') and a finding without a path
    expect(inDoctorOrder(lint.findings)).toBe(true);
    // a shuffled copy is not in order: the check can fail
    expect(inDoctorOrder([...lint.findings].reverse())).toBe(false);
  });
});

/** The plugin SDK's HealthFinding (reference §13): what doctor's `findings` hold, whether a sample shows it or not. */
const HEALTH_FINDING_FIELDS = ['checkId', 'severity', 'message', 'source', 'errorCode', 'path', 'line', 'column', 'ocPath', 'target', 'requirement', 'fixHint'];

/** A config-key finding: the config file, and where the key is in it. */
const KEYED = { ruleId: 'gateway/port-conflict', severity: 'warning' as const, message: 'gateway.port is taken', path: `${STATEDIR}/resonix.json`, install: STATEDIR, line: 4, column: 5, endLine: 4, endColumn: 9 };

describe('toDoctorLint', () => {
  it('has exactly the top-level fields doctor prints, and finding fields of doctor\'s finding shape', () => {
    const ours = parseDoctorLint(formatDoctorLint(report([...fullReport().findings, KEYED]), RULES, { ok: false }));
    const theirs = parseDoctorLint(sample('doctor-lint-all-2026.9.6.json'));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    // the samples use a part of the shape; line and column are in it though no check of theirs set them
    for (const finding of theirs.findings) for (const key of Object.keys(finding)) expect(HEALTH_FINDING_FIELDS, key).toContain(key);
    for (const finding of ours.findings) {
      for (const key of Object.keys(finding)) expect(HEALTH_FINDING_FIELDS, key).toContain(key);
      expect(Object.keys(finding).slice(0, 3)).toEqual(['checkId', 'severity', 'message']);
    }
  });

  it('a config-key finding keeps its line and column; path is always a machine path, else the state dir', () => {
    const lint = toDoctorLint(report([KEYED, { ruleId: 'state/multiple-dirs', severity: 'info', message: 'no path, no install' }]), RULES, { ok: false });
    expect(lint.findings[0]).toEqual({
      checkId: 'resonix-migrate/gateway/port-conflict',
      severity: 'warning',
      message: 'gateway.port is taken',
      path: `${STATEDIR}/resonix.json`,
      line: 4,
      column: 5,
      fixHint: 'How to fix gateway/port-conflict.\nMore: resonix-migrate explain gateway/port-conflict',
    });
    expect(lint.findings[1]).not.toHaveProperty('path');
    expect(lint.findings[1]).not.toHaveProperty('line');
  });

  it('checkId is resonix-migrate/<rule>, suppressed findings are left out, order is severity, checkId, path', () => {
    const lint = toDoctorLint(fullReport(), RULES, { ok: false });
    expect(lint.findings.map((f) => [f.checkId, f.severity, f.path ?? null])).toEqual([
      ['resonix-migrate/perms/secrets-exposed', 'error', '/home/alice/.resonix/credentials/creds.json'],
      ['resonix-migrate/gateway/port-conflict', 'warning', '/mnt/image/etc/systemd/system/resonix-gateway.service'],
      ['resonix-migrate/secrets/unencrypted-backup', 'warning', '/opt/backups/ñandú/alice backup #1?.tar.gz'],
      // a finding with no path of its own names its state dir
      ['resonix-migrate/state/multiple-dirs', 'info', STATEDIR],
      ['resonix-migrate/state/multiple-dirs', 'info', '/home/alice/.resonix-work'],
    ]);
    expect(inDoctorOrder(lint.findings)).toBe(true);
    expect(lint).toMatchObject({ schemaVersion: 1, ok: false, checksRun: 4, checksSkipped: 2 });
  });

  it('fixHint carries the fix summary and every command; without a fix, the rule advice and explain', () => {
    const lint = toDoctorLint(fullReport(), RULES, { ok: false });
    expect(lint.findings[0]!.fixHint).toBe(`${CHMOD.fix!.summary}\nFix:\n- ${CHMOD.fix!.commands[0]}`);
    expect(lint.findings[1]!.fixHint).toBe('How to fix gateway/port-conflict.\nMore: resonix-migrate explain gateway/port-conflict');
  });

  it('ok is what the caller decided; a clean report has no findings', () => {
    expect(toDoctorLint(cleanReport(), RULES, { ok: true })).toEqual({ schemaVersion: 1, ok: true, checksRun: 4, checksSkipped: 2, findings: [] });
  });

  it('hostile strings stay inside their JSON strings: one line of output, parsed back unchanged', () => {
    const text = formatDoctorLint(hostileReport(), RULES, { ok: false });
    expect(text.split('\n')).toHaveLength(2);
    expect(parseDoctorLint(text).findings[0]!.message).toBe(hostileReport().findings[0]!.message);
  });

  it('a finding whose rule is unknown (a plugin gone) gets no fixHint rather than a made-up one', () => {
    const lint = toDoctorLint(report([{ ruleId: 'acme/x', severity: 'warning', message: 'm' }]), RULES, { ok: false });
    expect(lint.findings[0]).toEqual({ checkId: 'resonix-migrate/acme/x', severity: 'warning', message: 'm' });
  });
});

describe('the parser refuses what is not doctor-lint output', () => {
  it.each([
    ['not JSON', 'Gateway not reachable'],
    ['schemaVersion 2', '{"schemaVersion":2,"ok":true,"checksRun":1,"checksSkipped":0,"findings":[]}'],
    ['a missing ok', '{"schemaVersion":1,"checksRun":1,"checksSkipped":0,"findings":[]}'],
    ['a bad severity', '{"schemaVersion":1,"ok":false,"checksRun":1,"checksSkipped":0,"findings":[{"checkId":"a","severity":"fatal","message":"m"}]}'],
    ['a numeric path', '{"schemaVersion":1,"ok":false,"checksRun":1,"checksSkipped":0,"findings":[{"checkId":"a","severity":"info","message":"m","path":3}]}'],
    ['a negative count', '{"schemaVersion":1,"ok":true,"checksRun":-1,"checksSkipped":0,"findings":[]}'],
  ])('%s', (_name, text) => {
    expect(parseDoctorLintOutput(text)).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});

describe('--fail-on and --severity-min', () => {
  it('one threshold: either flag, both only when they agree; doctor-lint defaults to doctor’s warning', () => {
    expect(failThreshold({ format: 'pretty' })).toBe('error');
    expect(failThreshold({ format: 'doctor-lint' })).toBe('warning');
    expect(failThreshold({ format: 'doctor-lint', failOn: 'error' })).toBe('error');
    expect(failThreshold({ format: 'json', severityMin: 'info' })).toBe('info');
    expect(failThreshold({ format: 'json', severityMin: 'warning', failOn: 'warning' })).toBe('warning');
    expect(() => failThreshold({ format: 'json', severityMin: 'warning', failOn: 'error' })).toThrow(/disagree/);
  });
});

describe('verify --format doctor-lint on the shipped example', () => {
  const verify = (...args: string[]) => runCli(['verify', '--home', EXAMPLE_HOME, '--format', 'doctor-lint', ...args]);

  it('prints what the doctor parser reads: the same fields as the real sample, exit 1 and ok false', async () => {
    const result = await verify();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const ours = parseDoctorLint(result.stdout);
    const theirs = parseDoctorLint(sample('doctor-lint-2026.9.6.json'));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect(ours.ok).toBe(false);
    expect(ours.checksRun).toBeGreaterThan(0);
    expect(ours.findings.map((f) => f.checkId)).toContain('resonix-migrate/copy/config-only');
    expect(ours.findings.every((f) => f.checkId.startsWith('resonix-migrate/') && typeof f.fixHint === 'string')).toBe(true);
    expect(inDoctorOrder(ours.findings)).toBe(true);
  });

  it('exit codes follow doctor: 0 when nothing is at or above --severity-min, 2 before any finding', async () => {
    // only an info finding is left: fails at doctor's default (warning)? no; at info, yes
    const onlyInfo = ['--only', 'gateway/service-missing'];
    const atDefault = await verify(...onlyInfo);
    expect(parseDoctorLint(atDefault.stdout).findings.map((f) => f.severity)).toEqual(['info']);
    expect([atDefault.code, parseDoctorLint(atDefault.stdout).ok]).toEqual([0, true]);
    const atInfo = await verify(...onlyInfo, '--severity-min', 'info');
    expect([atInfo.code, parseDoctorLint(atInfo.stdout).ok]).toEqual([1, false]);
    const bad = await verify('--severity-min', 'info', '--fail-on', 'error');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/disagree/);
    expect((await verify('--severity-min', 'fatal')).code).toBe(2);
  });
});
