// `--format doctor-lint`: the JSON `resonix doctor --lint --json` prints (Resonix 2026.9.6, reference §13), so a
// script that reads doctor's lint output reads ours unchanged:
//   { schemaVersion: 1, ok, checksRun, checksSkipped, findings: [{ checkId, severity, message, path?, fixHint? }] }
// findings sorted by severity (highest first), then checkId, then path (a finding without a path first).
// Each finding reads as doctorFindingOf makes it (src/doctor-lint-shape.ts: checkId `resonix-migrate/<rule id>`,
// path, line/column, fixHint), as resonix-migrate/health's do. Suppressed findings (config or baseline) are left out: doctor's shape has
// no place for them and they do not fail the run; `--format json` keeps them. `ok` is whether the run passes
// the gate (the caller decides that: exit 0 ⇔ ok). Pure: Report → text; parseDoctorLintOutput
// (src/doctor-lint-shape.ts) reads either program's output.
import type { Report, Rule } from '../model.js';
import { SEVERITY_RANK } from '../model.js';
import { CHECK_ID_PREFIX, doctorFindingOf, type DoctorLintFinding, type DoctorLintReport } from '../doctor-lint-shape.js';

export type { DoctorLintFinding, DoctorLintReport };
export { CHECK_ID_PREFIX };

function compare(a: DoctorLintFinding, b: DoctorLintFinding): number {
  const bySeverity = SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
  if (bySeverity !== 0) return bySeverity;
  if (a.checkId !== b.checkId) return a.checkId < b.checkId ? -1 : 1;
  if (a.path === b.path) return 0;
  if (a.path === undefined) return -1;
  if (b.path === undefined) return 1;
  return a.path < b.path ? -1 : 1;
}

export function toDoctorLint(report: Report, rules: readonly Rule[], options: { ok: boolean }): DoctorLintReport {
  const byId = new Map(rules.map((rule) => [rule.meta.id, rule]));
  const findings = report.findings
    .filter((finding) => !finding.suppressed)
    .map((finding) => doctorFindingOf(finding, byId.get(finding.ruleId)))
    // Array.prototype.sort is stable: equal keys keep the report's order
    .sort(compare);
  return { schemaVersion: 1, ok: options.ok, checksRun: report.rules.run.length, checksSkipped: report.rules.skipped.length, findings };
}

/** doctor prints one line of JSON; so do we, with a final newline. */
export function formatDoctorLint(report: Report, rules: readonly Rule[], options: { ok: boolean }): string {
  return `${JSON.stringify(toDoctorLint(report, rules, options))}\n`;
}

/** Whether findings come in doctor's order (severity highest first, then checkId, then path). */
export function inDoctorOrder(findings: readonly DoctorLintFinding[]): boolean {
  return findings.every((finding, index) => index === 0 || compare(findings[index - 1]!, finding) <= 0);
}
