// The shape `resonix doctor --lint --json` prints (Resonix 2026.9.6, reference §13), checked:
//   { schemaVersion: 1, ok, checksRun, checksSkipped, findings: [{ checkId, severity, message, path?, fixHint?, … }] }
// The one reader of that output, doctor's and ours alike (`--with-doctor` and the tests). Pure, and it never
// throws: the text comes from a program of the scanned machine, so anything else is a reason (one line), not
// an exception. The fields the plugin SDK's HealthFinding defines are checked; fields it does not know are kept
// as they are (a newer doctor may add some; a round trip loses nothing), and nothing downstream reads them
// (src/doctor-merge.ts takes only the known ones). The number of findings is capped (MAX_DOCTOR_FINDINGS).
// Also how one of our findings reads in that shape (doctorFindingOf), for `--format doctor-lint` and
// `resonix-migrate/health` alike.
import type { Finding, Rule, Severity } from './model.js';

export interface DoctorLintFinding {
  checkId: string;
  severity: Severity;
  message: string;
  /** doctor's checks: a config key (`gateway.bind`) or an absolute file path; ours: always a machine path */
  path?: string;
  fixHint?: string;
  source?: string;
  errorCode?: string;
  line?: number;
  column?: number;
  ocPath?: string;
  target?: string;
  requirement?: string;
}

/** Fields outside the shape, when a parsed report had them, are kept on the objects beside these. */
export interface DoctorLintReport {
  schemaVersion: 1;
  ok: boolean;
  checksRun: number;
  checksSkipped: number;
  findings: DoctorLintFinding[];
}

export type DoctorLintParse = { ok: true; lint: DoctorLintReport } | { ok: false; reason: string };

const OPTIONAL_STRINGS = ['path', 'fixHint', 'source', 'errorCode', 'ocPath', 'target', 'requirement'] as const;
const OPTIONAL_NUMBERS = ['line', 'column'] as const;
const SEVERITIES: ReadonlySet<string> = new Set(['error', 'warning', 'info']);
/** more than any real doctor prints (2026.9.6 runs 65 checks); a budget on what the scanned machine controls */
export const MAX_DOCTOR_FINDINGS = 2000;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFinding(value: unknown, index: number): DoctorLintFinding | string {
  const where = `findings[${index}]`;
  if (!isRecord(value)) return `${where} is not an object`;
  if (typeof value.checkId !== 'string' || value.checkId.trim() === '') return `${where}.checkId is not a string`;
  if (typeof value.severity !== 'string' || !SEVERITIES.has(value.severity)) return `${where}.severity is not info, warning or error`;
  if (typeof value.message !== 'string') return `${where}.message is not a string`;
  for (const key of OPTIONAL_STRINGS) {
    const item = value[key];
    if (item !== undefined && typeof item !== 'string') return `${where}.${key} is not a string`;
  }
  for (const key of OPTIONAL_NUMBERS) {
    const item = value[key];
    if (item !== undefined && !isCount(item)) return `${where}.${key} is not a whole number`;
  }
  // a copy, unknown fields and all (JSON.parse makes a `__proto__` key an own data property, and so does spread)
  return { ...value } as unknown as DoctorLintFinding;
}

/** Checks a parsed value against doctor's lint shape. */
export function validateDoctorLint(value: unknown): DoctorLintParse {
  if (!isRecord(value)) return { ok: false, reason: 'not a JSON object' };
  if (value.schemaVersion !== 1) return { ok: false, reason: `schemaVersion is ${JSON.stringify(value.schemaVersion) ?? 'missing'}, not 1` };
  if (typeof value.ok !== 'boolean') return { ok: false, reason: 'ok is not a boolean' };
  if (!isCount(value.checksRun)) return { ok: false, reason: 'checksRun is not a whole number' };
  if (!isCount(value.checksSkipped)) return { ok: false, reason: 'checksSkipped is not a whole number' };
  if (!Array.isArray(value.findings)) return { ok: false, reason: 'findings is not a list' };
  if (value.findings.length > MAX_DOCTOR_FINDINGS) return { ok: false, reason: `${value.findings.length} findings, more than the ${MAX_DOCTOR_FINDINGS} accepted` };
  const findings: DoctorLintFinding[] = [];
  for (const [index, item] of value.findings.entries()) {
    const checked = checkFinding(item, index);
    if (typeof checked === 'string') return { ok: false, reason: checked };
    findings.push(checked);
  }
  return { ok: true, lint: { ...value, schemaVersion: 1, ok: value.ok, checksRun: value.checksRun, checksSkipped: value.checksSkipped, findings } };
}

/**
 * Reads `resonix doctor --lint --json` output, doctor's or ours: one JSON document (both print it on one
 * line). When the whole text is not JSON, the last line that is (a banner or a warning printed before it is
 * tolerated).
 */
export function parseDoctorLintOutput(text: string): DoctorLintParse {
  const attempt = (candidate: string): unknown => {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      return undefined;
    }
  };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, reason: 'it printed nothing' };
  let parsed = attempt(trimmed);
  if (parsed === undefined) {
    const lines = trimmed.split(/\r?\n/).filter((line) => line.trimStart().startsWith('{'));
    const last = lines.at(-1);
    parsed = last !== undefined ? attempt(last) : undefined;
    if (parsed === undefined) return { ok: false, reason: 'its output is not JSON' };
  }
  return validateDoctorLint(parsed);
}

/** Our check ids, in doctor's output and as health checks: `resonix-migrate/<rule id>`. */
export const CHECK_ID_PREFIX = 'resonix-migrate/';

/**
 * A finding's fix as a `fixHint`, read the same in `--format doctor-lint` and `resonix-migrate/health`: the
 * fix summary, then `Fix:` and one `- command` a line (as doctor's own hints list their steps); a finding
 * without a fix gets its rule's advice and where to read more; a finding of an unknown rule, nothing.
 */
export function fixHintOf(finding: Finding, rule: Rule | undefined): string | undefined {
  if (finding.fix) {
    const lines = [finding.fix.summary];
    if (finding.fix.commands.length > 0) lines.push('Fix:', ...finding.fix.commands.map((command) => `- ${command}`));
    return lines.join('\n');
  }
  return rule ? `${rule.meta.fix}\nMore: resonix-migrate explain ${rule.meta.id}` : undefined;
}

/**
 * One of our findings as a doctor finding. `path` is always a path on the scanned machine: the file or dir
 * the finding is about, else the state dir it belongs to; a config-key finding names the config file, with
 * the key's `line`/`column` (1-based, columns in UTF-16 code units). Our findings do not carry the key's
 * name, so doctor's use of `path` for a key (`gateway.bind`) is never ours.
 */
export function doctorFindingOf(finding: Finding, rule: Rule | undefined): DoctorLintFinding {
  const hint = fixHintOf(finding, rule);
  const path = finding.path ?? finding.install;
  return {
    checkId: `${CHECK_ID_PREFIX}${finding.ruleId}`,
    severity: finding.severity,
    message: finding.message,
    ...(path !== undefined ? { path } : {}),
    ...(finding.line !== undefined ? { line: finding.line } : {}),
    ...(finding.column !== undefined ? { column: finding.column } : {}),
    ...(hint !== undefined ? { fixHint: hint } : {}),
  };
}
