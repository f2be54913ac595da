// The validator of `resonix doctor --lint --json` output: the two real 2026.9.6 samples pass whole, and
// anything else gives a one-line reason instead of an exception.
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

  it('tolerates a line printed before the JSON, and keeps only the SDK fields', () => {
    const text = `(node:12) ExperimentalWarning: SQLite is experimental\n${JSON.stringify({ schemaVersion: 1, ok: true, checksRun: 1, checksSkipped: 0, findings: [{ checkId: 'core/doctor/x', severity: 'info', message: 'm', extra: { deep: true } }] })}\n`;
    const parsed = parseDoctorLintOutput(text);
    expect(parsed).toEqual({ ok: true, lint: { schemaVersion: 1, ok: true, checksRun: 1, checksSkipped: 0, findings: [{ checkId: 'core/doctor/x', severity: 'info', message: 'm' }] } });
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
  ])('%s → %s', (text, reason) => {
    expect(parseDoctorLintOutput(text)).toEqual({ ok: false, reason });
  });

  it('refuses more findings than its budget', () => {
    const findings = Array.from({ length: MAX_DOCTOR_FINDINGS + 1 }, () => ({ checkId: 'a', severity: 'info', message: 'm' }));
    expect(validateDoctorLint({ schemaVersion: 1, ok: true, checksRun: 1, checksSkipped: 0, findings })).toEqual({ ok: false, reason: `${MAX_DOCTOR_FINDINGS + 1} findings, more than the ${MAX_DOCTOR_FINDINGS} accepted` });
  });
});
