// The JSON contract of design.md: { tool, phase, installs, findings, summary, rules, problems }.
// Key order is fixed by construction here, so output is stable across runs.
import type { Finding, Report } from '../model.js';

function orderedFinding(finding: Finding): Finding {
  return {
    ruleId: finding.ruleId,
    severity: finding.severity,
    message: finding.message,
    ...(finding.path !== undefined ? { path: finding.path } : {}),
    ...(finding.install !== undefined ? { install: finding.install } : {}),
    ...(finding.line !== undefined ? { line: finding.line } : {}),
    ...(finding.column !== undefined ? { column: finding.column } : {}),
    ...(finding.endLine !== undefined ? { endLine: finding.endLine } : {}),
    ...(finding.endColumn !== undefined ? { endColumn: finding.endColumn } : {}),
    ...(finding.evidence ? { evidence: finding.evidence } : {}),
    ...(finding.fix ? { fix: { summary: finding.fix.summary, commands: finding.fix.commands, ...(finding.fix.actions ? { actions: finding.fix.actions } : {}) } } : {}),
    ...(finding.fingerprint ? { fingerprint: finding.fingerprint } : {}),
    ...(finding.suppressed ? { suppressed: finding.suppressed } : {}),
  };
}

export function formatJson(report: Report): string {
  const ordered = {
    tool: report.tool,
    phase: report.phase,
    installs: report.installs,
    findings: report.findings.map(orderedFinding),
    summary: { error: report.summary.error, warning: report.summary.warning, info: report.summary.info },
    rules: report.rules,
    problems: report.problems,
    ...(report.sudoUser ? { sudoUser: report.sudoUser } : {}),
    ...(report.unseen ? { unseen: report.unseen } : {}),
    ...(report.roots ? { roots: report.roots } : {}),
    ...(report.archive ? { archive: report.archive } : {}),
    ...(report.stale ? { stale: report.stale } : {}),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
