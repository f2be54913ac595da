// The one reader of `resonix doctor --lint --json` output (doctor's and ours): the two real 2026.9.6 samples
// pass whole, unknown fields are kept, the findings are capped, and anything else gives a one-line reason
// instead of an exception.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_DOCTOR_FINDINGS, parseDoctorLintOutput, validateDoctorLint } from '../src/doctor-lint-shape.js';

const sample = (name: string): string => fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'doctor-lint', name), 'utf8');

describe('doctor lint shape', () => {
  it('reads both real samples, every field doctor printed', () => {
    const small = parseDoctorLintOutput(sample('doctor-lint-2026.9.6.json'));
    expect(small.ok).toBe(true);
    if (!small.ok) return;
    expect(small.lint).toMatchObject({ schemaVersion: 1, ok: false, checksRun: 35, checksSkipped: 30 });
    expect(small.lint.findings.map((item) => item.checkId)).toEqual(['core/doctor/node-hosting-preconditions', 'core/doctor/security']);
    expect(small.lint.findings[0]).toMatchObject({ severity: 'warning', path: 'gateway.bind', requirement: 'node-onboarding-url' });
    expect(small.lint.findings[1]!.fixHint).toContain('resonix secrets audit --check');
    const all = parseDoctorLintOutput(sample('doctor-lint-all-2026.9.6.json'));
    expect(all.ok && all.lint.findings.length).toBe(JSON.parse(sample('doctor-lint-all-2026.9.6.json')).findings.length);
    expect(all.ok && all.lint.findings[0]!.target).toBe('ws://127.0.0.1:18789');
  });

  it('tolerates a line printed before the JSON, and keeps fields it does not know (a newer doctor\'s)', () => {
    const report = { schemaVersion: 1, ok: true, checksRun: 1, checksSkipped: 0, durationMs: 12, findings: [{ checkId: 'core/doctor/x', severity: 'info', message: 'm', extra: { deep: true } }] };
    const text = `(node:12) ExperimentalWarning: SQLite is experimental\n${JSON.stringify(report)}\n`;
    expect(parseDoctorLintOutput(text)).toEqual({ ok: true, lint: report });
  });

  it('a `__proto__` key stays a plain field, never a prototype', () => {
    const parsed = parseDoctorLintOutput('{"schemaVersion":1,"ok":true,"checksRun":1,"checksSkipped":0,"__proto__":{"polluted":1},"findings":[{"checkId":"a","severity":"info","message":"m","__proto__":{"polluted":2}}]}');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.getPrototypeOf(parsed.lint)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(parsed.lint.findings[0])).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('our own --format doctor-lint output reads back whole', () => {
    const ours = { schemaVersion: 1, ok: false, checksRun: 2, checksSkipped: 0, findings: [{ checkId: 'resonix-migrate/perms/secrets-exposed', severity: 'error', message: 'm', path: '/home/alice/.resonix/resonix.json', line: 3, column: 5, fixHint: 'Tighten it\nFix:\n- chmod 600 /home/alice/.resonix/resonix.json' }] };
    expect(parseDoctorLintOutput(`${JSON.stringify(ours)}\n`)).toEqual({ ok: true, lint: ours });
  });

  it.each([
    ['', 'it printed nothing'],
    ['hello, world', 'its output is not JSON'],
    ['[1,2]', 'not a JSON object'],
    ['{"schemaVersion":2,"ok":true,"checksRun":0,"checksSkipped":0,"findings":[]}', 'schemaVersion is 2, not 1'],
    ['{"schemaVersion":1,"ok":"no","checksRun":0,"checksSkipped":0,"findings":[]}', 'ok is not a boolean'],
    ['{"schemaVersion":1,"ok":true,"checksRun":-1,"checksSkipped":0,"findings":[]}', 'checksRun is not a whole number'],
    ['{"schemaVersion":1,"ok":true,"checksRun":0,"checksSkipped":0,"findings":{}}', 'findings is not a list'],
    ['{"schemaVersion":1,"ok":true,"checksRun":0,"checksSkipped":0,"findings":[{"checkId":"a","severity":"fatal","message":"m"}]}', 'findings[0].severity is not info, warning or error'],
    ['{"schemaVersion":1,"ok":true,"checksRun":0,"checksSkipped":0,"findings":[{"checkId":"a","severity":"info","message":"m","path":3}]}', 'findings[0].path is not a string'],
    ['{"schemaVersion":1,"ok":true,"checksRun":0,"checksSkipped":0,"findings":[{"checkId":"","severity":"info","message":"m"}]}', 'findings[0].checkId is not a string'],
    ['{"schemaVersion":1,"ok":true,"checksRun":0,"checksSkipped":0,"findings":[{"checkId":"a","severity":"info","message":"m","line":1.5}]}', 'findings[0].line is not a whole number'],
  ])('%s → %s', (text, reason) => {
    expect(parseDoctorLintOutput(text)).toEqual({ ok: false, reason });
  });

  it('refuses more findings than its budget', () => {
    const findings = Array.from({ length: MAX_DOCTOR_FINDINGS + 1 }, () => ({ checkId: 'a', severity: 'info', message: 'm' }));
    expect(validateDoctorLint({ schemaVersion: 1, ok: true, checksRun: 1, checksSkipped: 0, findings })).toEqual({ ok: false, reason: `${MAX_DOCTOR_FINDINGS + 1} findings, more than the ${MAX_DOCTOR_FINDINGS} accepted` });
  });
});
