// `--format doctor-lint`: the JSON `resonix doctor --lint --json` prints (Resonix 2026.9.6, reference §13), so a
// script that reads doctor's lint output reads ours unchanged:
//   { schemaVersion: 1, ok, checksRun, checksSkipped, findings: [{ checkId, severity, message, path?, fixHint? }] }
// findings sorted by severity (highest first), then checkId, then path (a finding without a path first).
// Each finding reads as doctorFindingOf makes it (src/doctor-lint-shape.ts: checkId `resonix-migrate/<rule id>`,
// path, line/column, fixHint), as resonix-migrate/health's do. Suppressed findings (config or baseline) are left out: doctor's shape has
// no place for them and they do not fail the run; `--format json` keeps them. `ok` is whether the run passes
// the gate (the caller decides that: exit 0 ⇔ ok). Pure: Report → text; parseDoctorLint reads either program's output.
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

export class DoctorLintParseError extends Error {}

const OPTIONAL_STRINGS = ['path', 'fixHint', 'source', 'errorCode', 'ocPath', 'target', 'requirement'] as const;
const OPTIONAL_NUMBERS = ['line', 'column'] as const;
const SEVERITIES: ReadonlySet<string> = new Set(['error', 'warning', 'info']);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function checkFinding(value: unknown, index: number): DoctorLintFinding {
  const where = `findings[${index}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DoctorLintParseError(`${where} is not an object`);
  const record = value as Record<string, unknown>;
  if (typeof record.checkId !== 'string' || record.checkId === '') throw new DoctorLintParseError(`${where}.checkId is not a string`);
  if (typeof record.severity !== 'string' || !SEVERITIES.has(record.severity)) throw new DoctorLintParseError(`${where}.severity is not info, warning or error`);
  if (typeof record.message !== 'string') throw new DoctorLintParseError(`${where}.message is not a string`);
  for (const key of OPTIONAL_STRINGS) if (record[key] !== undefined && typeof record[key] !== 'string') throw new DoctorLintParseError(`${where}.${key} is not a string`);
  for (const key of OPTIONAL_NUMBERS) if (record[key] !== undefined && !isCount(record[key])) throw new DoctorLintParseError(`${where}.${key} is not a whole number`);
  return record as unknown as DoctorLintFinding;
}

/**
 * Reads `resonix doctor --lint --json` output (doctor's or ours): schemaVersion 1 and the fields above, checked.
 * Unknown extra fields are kept (a newer doctor may add some); anything else is a DoctorLintParseError.
 */
export function parseDoctorLint(text: string): DoctorLintReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DoctorLintParseError('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DoctorLintParseError('not a JSON object');
  const record = parsed as Record<string, unknown>;
  if (record.schemaVersion !== 1) throw new DoctorLintParseError(`schemaVersion is ${JSON.stringify(record.schemaVersion) ?? 'missing'}, not 1`);
  if (typeof record.ok !== 'boolean') throw new DoctorLintParseError('ok is not a boolean');
  if (!isCount(record.checksRun)) throw new DoctorLintParseError('checksRun is not a whole number');
  if (!isCount(record.checksSkipped)) throw new DoctorLintParseError('checksSkipped is not a whole number');
  if (!Array.isArray(record.findings)) throw new DoctorLintParseError('findings is not a list');
  const findings = record.findings.map(checkFinding);
  return { ...record, findings } as DoctorLintReport;
}

/** Whether findings come in doctor's order (severity highest first, then checkId, then path). */
export function inDoctorOrder(findings: readonly DoctorLintFinding[]): boolean {
  return findings.every((finding, index) => index === 0 || compare(findings[index - 1]!, finding) <= 0);
}
