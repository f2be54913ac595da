// --with-doctor's pure half: doctor's findings under their own ids, masked, fingerprinted and gated like
// ours, and the ones that say what ours says folded under it (causedBy), counted and gating through it only.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDoctorLintOutput, type DoctorLintReport } from '../src/doctor-lint-shape.js';
import { doctorFindings, foldDoctorFindings, FOLDS } from '../src/doctor-merge.js';
import { runRules } from '../src/engine.js';
import { applySuppressions, failsGate } from '../src/gate.js';
import type { Finding } from '../src/model.js';
import { builtinRules } from '../src/rules/index.js';
import { entries, HEALTHY_FILES, home, install, machine } from './helpers/machine.js';

const STATE = '/home/alice/.resonix';
const run = { command: '/usr/bin/resonix doctor --lint --json', uid: 1000, checksRun: 35, checksSkipped: 30 };
const lint = (findings: DoctorLintReport['findings']): DoctorLintReport => ({ schemaVersion: 1, ok: findings.length === 0, checksRun: 3, checksSkipped: 0, findings });
const real = (): DoctorLintReport => {
  const parsed = parseDoctorLintOutput(fs.readFileSync(path.join(import.meta.dirname, 'fixtures', 'doctor-lint', 'doctor-lint-2026.9.6.json'), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.lint;
};
/** a state dir of `mode` (ours: perms/secrets-exposed, a warning at 0750, an error at 0755) */
const openMachine = (mode: number) => machine([home([install(STATE, [], { inventory: { root: STATE, exists: true, entries: entries([['', mode], ...HEALTHY_FILES]) } })])]);
const tooOpen = { checkId: 'core/doctor/state-integrity', severity: 'error' as const, message: 'State directory permissions are too open. Recommend chmod 700.', path: STATE, fixHint: 'Run `resonix doctor --fix` to tighten state directory permissions.' };

describe('doctor findings as ours', () => {
  it('keep their ids and severities; a config key is evidence, the fix hint the fix', () => {
    const findings = doctorFindings(real(), STATE);
    expect(findings.map((item) => [item.ruleId, item.severity])).toEqual([
      ['core/doctor/node-hosting-preconditions', 'warning'],
      ['core/doctor/security', 'warning'],
    ]);
    expect(findings[0]).toMatchObject({ install: STATE, evidence: expect.arrayContaining(['config key: gateway.bind', 'requirement: node-onboarding-url']) });
    expect(findings[0]!.path).toBeUndefined();
    expect(findings[1]!.fix).toEqual({ summary: 'Migrate them to SecretRefs with resonix secrets configure or resonix secrets apply, then verify with resonix secrets audit --check.', commands: [] });
    expect(findings[1]!.evidence).toContain('Paths: gateway.auth.token');
    expect(doctorFindings(lint([tooOpen]), STATE)[0]!.path).toBe(STATE);
  });

  it('are masked, fingerprinted and counted like ours, and their warnings gate at --fail-on warning', () => {
    const secret = 'deadbeefcafebabedeadbeefcafebabe';
    const findings = doctorFindings(lint([{ checkId: 'core/doctor/security', severity: 'warning', message: `gateway.auth.token is ${secret}`, fixHint: `rotate ${secret}` }]), STATE);
    const report = runRules({ phase: 'verify', machine: machine(), doctor: { run, findings }, secrets: [secret] });
    const doctor = report.findings.find((item) => item.ruleId === 'core/doctor/security')!;
    expect(JSON.stringify(report)).not.toContain(secret);
    expect(doctor.message).not.toContain(secret);
    expect(doctor.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(report.doctor).toEqual(run);
    const without = runRules({ phase: 'verify', machine: machine() });
    expect(report.summary.warning).toBe(without.summary.warning + 1);
    expect(failsGate(report, { failOn: 'warning' })).toBe(true);
    expect(failsGate(without, { failOn: 'warning' })).toBe(false);
  });

  it('a doctor check named like one of our rules is left out (it would pass for ours)', () => {
    const findings: Finding[] = [{ ruleId: 'perms/secrets-exposed', severity: 'error', message: 'fake', install: STATE }];
    expect(runRules({ phase: 'verify', machine: machine(), doctor: { run, findings } }).findings.map((item) => item.message)).not.toContain('fake');
  });
});

describe('folding', () => {
  it("doctor's state-dir modes finding folds under our perms/secrets-exposed: shown, not counted, not gating", () => {
    const findings = doctorFindings(lint([tooOpen]), STATE);
    const report = runRules({ phase: 'verify', machine: openMachine(0o750), doctor: { run, findings } });
    const ours = report.findings.find((item) => item.ruleId === 'perms/secrets-exposed')!;
    const doctor = report.findings.find((item) => item.ruleId === 'core/doctor/state-integrity')!;
    expect(ours.severity).toBe('warning');
    expect(doctor.causedBy).toBe(ours.fingerprint);
    expect(report.findings.filter((item) => item.severity === 'error').map((item) => item.ruleId)).toEqual(['core/doctor/state-integrity']);
    // doctor says error, ours warning: the folded error neither counts nor fails the run
    expect(report.summary.error).toBe(0);
    expect(failsGate(report)).toBe(false);
    // recounted after suppressions too
    expect(applySuppressions(report, [], '2026-01-01').summary.error).toBe(0);
  });

  it('without our finding it stands on its own and gates', () => {
    const report = runRules({ phase: 'verify', machine: machine(), doctor: { run, findings: doctorFindings(lint([tooOpen]), STATE) } });
    const doctor = report.findings.find((item) => item.ruleId === 'core/doctor/state-integrity')!;
    expect(doctor.causedBy).toBeUndefined();
    expect(report.summary.error).toBe(1);
    expect(failsGate(report)).toBe(true);
  });

  it('a doctor finding about another state dir, or about something else, does not fold', () => {
    const other = { ...tooOpen, path: '/home/alice/.resonix-work' };
    const unrelated = { checkId: 'core/doctor/security', severity: 'warning' as const, message: 'WARNING: resonix.json contains plaintext secret-bearing config fields.' };
    const report = runRules({ phase: 'verify', machine: openMachine(0o750), doctor: { run, findings: doctorFindings(lint([other, unrelated]), STATE) } });
    expect(report.findings.filter((item) => item.ruleId.startsWith('core/')).map((item) => item.causedBy)).toEqual([undefined, undefined]);
  });

  it('multiple state dirs and missing transcripts fold under state/multiple-dirs and copy/truncated-transcript', () => {
    const ours: Finding[] = [
      { ruleId: 'state/multiple-dirs', severity: 'warning', message: '2 state dirs hold data in /home/alice', path: '/home/alice', fingerprint: 'a'.repeat(32) },
      { ruleId: 'copy/truncated-transcript', severity: 'warning', message: 'missing', path: STATE, install: STATE, fingerprint: 'b'.repeat(32) },
    ];
    const doctor = doctorFindings(
      lint([
        { checkId: 'core/doctor/state-integrity', severity: 'warning', message: 'Multiple state directories detected: ~/.resonix, ~/.resonix-work.' },
        { checkId: 'core/doctor/session-transcripts', severity: 'warning', message: '3 sessions are missing transcripts.', path: `${STATE}/agents/main/sessions` },
      ]),
      STATE,
    ).map((item, index) => ({ ...item, fingerprint: `${index}`.repeat(32) }));
    const folded = foldDoctorFindings([...ours, ...doctor], (item) => item.ruleId.startsWith('core/'));
    expect(folded.slice(2).map((item) => item.causedBy)).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
  });

  it.each([
    ['State directory permissions are too open. Recommend chmod 700.', 'perms/secrets-exposed'],
    ['Config file is group/world readable. Recommend chmod 600.', 'perms/secrets-exposed'],
    ['State dir is world-writable', 'perms/secrets-exposed'],
    ['Multiple state directories detected', 'state/multiple-dirs'],
    ['sessions.json references 2 missing transcripts', 'copy/truncated-transcript'],
    ['State directory is not writable.', undefined],
    ['Gateway is only bound to loopback.', undefined],
  ])('%s → %s', (message, ours) => {
    expect(FOLDS.find((fold) => fold.says(message))?.ours).toBe(ours);
    if (ours) expect(builtinRules.map((rule) => rule.meta.id)).toContain(ours);
  });
});
