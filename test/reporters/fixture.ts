// The Report every reporter test renders: every severity, a suppressed finding, a fix with actions,
// paths under each root and under none, and hostile strings.
import type { Finding, Report, Rule, RuleMeta, Severity } from '../../src/model.js';

export const HOME = '/home/alice';
export const STATEDIR = '/home/alice/.resonix';
export const ROOTFS = '/mnt/image';
export const HOSTILE = 'evil\u001b[2J\n::error::pwned</testcase><x>]]>| pipe ```tick`<script>alert(1)</script>\ud800';

export function rule(id: string, severity: Severity, extra: Partial<RuleMeta> = {}): Rule {
  return {
    meta: { id, title: `Title of ${id}`, severity, phases: ['verify'], description: `What ${id} checks.`, why: `Why ${id} matters.`, fix: `How to fix ${id}.`, ...extra },
    check: () => [],
  };
}

export const RULES: Rule[] = [
  rule('perms/secrets-exposed', 'error', { tags: ['security'], autofix: true }),
  rule('gateway/port-conflict', 'warning'),
  rule('secrets/unencrypted-backup', 'warning', { tags: ['security'] }),
  rule('state/multiple-dirs', 'info'),
  rule('copy/sqlite-torn', 'error', { needsBaseline: true }),
  rule('remote/mode-unset', 'info'),
];

export function report(findings: Finding[], extra: Partial<Report> = {}): Report {
  const summary = { error: 0, warning: 0, info: 0 };
  for (const finding of findings) if (!finding.suppressed) summary[finding.severity] += 1;
  return {
    tool: { name: 'resonix-migrate', version: '0.1.0' },
    phase: 'verify',
    installs: [{ stateDir: STATEDIR, active: true, generation: 'file', files: 12, servedBy: ['resonix-gateway.service'], lastTouchedVersion: '2026.5.1' }],
    findings,
    summary,
    rules: {
      run: ['perms/secrets-exposed', 'gateway/port-conflict', 'secrets/unencrypted-backup', 'state/multiple-dirs'],
      skipped: [
        { id: 'copy/sqlite-torn', reason: 'needs a baseline (--against a manifest or archive)' },
        { id: 'remote/mode-unset', reason: 'turned off' },
      ],
    },
    problems: [],
    roots: { HOME, STATEDIR, ROOTFS },
    ...extra,
  };
}

export const CHMOD: Finding = {
  ruleId: 'perms/secrets-exposed',
  severity: 'error',
  message: 'creds.json is readable by group staff',
  path: `${STATEDIR}/credentials/creds.json`,
  install: STATEDIR,
  evidence: ['mode 0640, group staff (gid 20)'],
  fix: {
    summary: 'Make it readable by alice only',
    commands: [`chmod 600 ${STATEDIR}/credentials/creds.json`],
    actions: [{ kind: 'chmod', path: `${STATEDIR}/credentials/creds.json`, mode: 0o600 }],
  },
  fingerprint: 'a'.repeat(32),
};

export function fullReport(): Report {
  return report(
    [
      CHMOD,
      { ruleId: 'gateway/port-conflict', severity: 'warning', message: 'Port 18789 is taken', path: `${ROOTFS}/etc/systemd/system/resonix-gateway.service`, fingerprint: 'b'.repeat(32) },
      {
        ruleId: 'secrets/unencrypted-backup',
        severity: 'warning',
        message: 'Backup is not encrypted',
        path: '/opt/backups/ñandú/alice backup #1?.tar.gz',
        fix: { summary: 'Encrypt it', commands: ["age -p -o 'x.age' 'x'"] },
        fingerprint: 'c'.repeat(32),
      },
      { ruleId: 'state/multiple-dirs', severity: 'info', message: 'Two state dirs', path: `${HOME}/.resonix-work`, fingerprint: 'd'.repeat(32) },
      { ruleId: 'state/multiple-dirs', severity: 'info', message: 'A finding with no path', install: STATEDIR, fingerprint: 'e'.repeat(32) },
      {
        ruleId: 'perms/secrets-exposed',
        severity: 'error',
        message: '.env is readable by others',
        path: `${STATEDIR}/.env`,
        fingerprint: 'f'.repeat(32),
        suppressed: { kind: 'config', reason: 'shared lab box, accepted', expires: '2099-01-01' },
      },
      { ruleId: 'gateway/port-conflict', severity: 'warning', message: 'Known port clash', path: STATEDIR, fingerprint: '0'.repeat(32), suppressed: { kind: 'baseline', reason: 'known in baseline .resonix-migrate-baseline.json' } },
    ],
    {
      problems: [{ path: `${HOME}/private`, code: 'EACCES', message: 'permission denied' }],
      stale: { baseline: ['1'.repeat(32)], suppressions: [{ rule: 'gateway/port-conflict', path: '/x', expired: '2020-01-01' }] },
    },
  );
}

export function hostileReport(): Report {
  const hostilePath = `${STATEDIR}/${HOSTILE}.json`;
  return report(
    [
      {
        ruleId: 'perms/secrets-exposed',
        severity: 'error',
        message: `bad ${HOSTILE}`,
        path: hostilePath,
        install: STATEDIR,
        evidence: [HOSTILE],
        fix: { summary: `fix ${HOSTILE}`, commands: [`chmod 600 '${hostilePath}'`], actions: [{ kind: 'chmod', path: hostilePath, mode: 0o600 }] },
        fingerprint: '9'.repeat(32),
      },
      { ruleId: 'gateway/port-conflict', severity: 'warning', message: HOSTILE, path: `/srv/${HOSTILE}` },
      { ruleId: 'state/multiple-dirs', severity: 'info', message: HOSTILE, path: `${HOME}/${HOSTILE}`, suppressed: { kind: 'config', reason: HOSTILE } },
    ],
    { problems: [{ path: `/srv/${HOSTILE}`, code: 'EACCES', message: HOSTILE }] },
  );
}

export function cleanReport(): Report {
  return report([]);
}
