// What fails a run: suppressions from this tool's config, a baseline of known findings, --fail-on and
// --max-warnings. Pure functions of a Report; the CLI reads and writes the files.
import picomatch from 'picomatch';
import { isRoot } from './diagnose.js';
import { summariseReport, type ReportContext } from './engine.js';
import { normalisePath } from './knowledge/fingerprint.js';
import type { Finding, Report, Severity } from './model.js';
import { SEVERITY_RANK } from './model.js';
import { TOOL } from './version.js';

export interface Suppression {
  rule: string;
  /** a glob over the finding's path: absolute, `~/…`, or `$STATEDIR/…` / `$HOME/…` / `$ROOTFS/…` */
  path: string;
  reason: string;
  /** YYYY-MM-DD: from that day on it stops suppressing, and says so */
  expires?: string;
}

export interface BaselineFile {
  baseline: 1;
  tool: { name: string; version: string };
  createdAt: string;
  findings: { fingerprint: string; ruleId: string; path?: string }[];
}

function expandHome(glob: string, home: string | undefined): string {
  return home && glob.startsWith('~/') ? `${home}/${glob.slice(2)}` : glob;
}

type Matcher = (finding: Finding) => boolean;

/** Compiled once per suppression, not once per finding: a report can hold tens of thousands. */
function suppressionMatcher(suppression: Suppression, roots: NonNullable<Report['roots']>): Matcher {
  const isMatch = picomatch(expandHome(suppression.path, roots.HOME), { dot: true });
  return (finding) => {
    if (suppression.rule !== finding.ruleId && suppression.rule !== '*') return false;
    if (finding.path === undefined) return suppression.path === '**';
    return isMatch(finding.path) || isMatch(normalisePath(finding.path, roots));
  };
}


/**
 * Marks suppressed findings (they stay in the report) and lists expired suppressions. `context` (the engine's,
 * beside the report) lets the recount redo the verdicts, what was checked and the plan as the engine did.
 */
export function applySuppressions(report: Report, suppressions: Suppression[], today: string, context?: ReportContext): Report {
  const roots = report.roots ?? {};
  const expired = suppressions.filter((item) => item.expires !== undefined && item.expires <= today);
  const active = suppressions.filter((item) => !expired.includes(item)).map((item) => ({ item, matches: suppressionMatcher(item, roots) }));
  const findings = report.findings.map((finding) => {
    if (finding.suppressed) return finding;
    const match = active.find(({ matches }) => matches(finding))?.item;
    return match ? { ...finding, suppressed: { kind: 'config' as const, reason: match.reason, ...(match.expires ? { expires: match.expires } : {}) } } : finding;
  });
  const stale = report.stale ?? { baseline: [], suppressions: [] };
  const staleSuppressions = [...stale.suppressions, ...expired.map((item) => ({ rule: item.rule, path: item.path, expired: item.expires! }))];
  return summariseReport({
    ...report,
    findings,
    ...(staleSuppressions.length > 0 || report.stale ? { stale: { ...stale, suppressions: staleSuppressions } } : {}),
  }, context);
}

/** Known findings stop failing the run; baseline entries that match nothing are listed so it only shrinks. */
export function applyBaseline(report: Report, baseline: BaselineFile, source: string, context?: ReportContext): Report {
  const known = new Set(baseline.findings.map((entry) => entry.fingerprint));
  const seen = new Set<string>();
  const findings = report.findings.map((finding) => {
    if (!finding.fingerprint || !known.has(finding.fingerprint)) return finding;
    seen.add(finding.fingerprint);
    return finding.suppressed ? finding : { ...finding, suppressed: { kind: 'baseline' as const, reason: `known in baseline ${source}` } };
  });
  const unmatched = baseline.findings.filter((entry) => !seen.has(entry.fingerprint)).map((entry) => `${entry.ruleId} ${entry.path ?? ''} (${entry.fingerprint})`.replace('  ', ' '));
  const stale = report.stale ?? { baseline: [], suppressions: [] };
  return summariseReport({ ...report, findings, stale: { ...stale, baseline: unmatched } }, context);
}

export function makeBaseline(report: Report, now: Date): BaselineFile {
  return {
    baseline: 1,
    tool: { ...TOOL },
    createdAt: now.toISOString(),
    findings: report.findings
      .filter((finding) => finding.fingerprint && finding.suppressed?.kind !== 'config')
      .map((finding) => ({ fingerprint: finding.fingerprint!, ruleId: finding.ruleId, ...(finding.path ? { path: finding.path } : {}) })),
  };
}

export class BaselineError extends Error {}

export function parseBaseline(text: string, source: string): BaselineFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BaselineError(`${source} is not JSON`);
  }
  const record = parsed as Partial<BaselineFile>;
  if (typeof record !== 'object' || record === null || record.baseline !== 1 || !Array.isArray(record.findings)) {
    throw new BaselineError(`${source} is not a resonix-migrate baseline (written by --write-baseline)`);
  }
  for (const entry of record.findings) {
    if (typeof entry?.fingerprint !== 'string' || typeof entry.ruleId !== 'string') throw new BaselineError(`${source}: every finding needs a fingerprint and a ruleId`);
  }
  return record as BaselineFile;
}

export type FailOn = Severity;

/**
 * Exit code 1 when an unsuppressed root finding at or above `failOn`, or too many warnings. A folded finding
 * fails the run through its root cause, never twice. Both verdicts (migration, hygiene) gate alike.
 */
export function failsGate(report: Report, options: { failOn?: FailOn; maxWarnings?: number } = {}): boolean {
  const threshold = SEVERITY_RANK[options.failOn ?? 'error'];
  const live = report.findings.filter((finding) => !finding.suppressed && isRoot(finding));
  if (live.some((finding) => SEVERITY_RANK[finding.severity] >= threshold)) return true;
  const warnings = live.filter((finding) => finding.severity === 'warning').length;
  return options.maxWarnings !== undefined && options.maxWarnings >= 0 && warnings > options.maxWarnings;
}

/** @deprecated the same verdict as `failsGate(report, { maxWarnings })`, under its old name. */
export function failsRun(report: Report, options: { maxWarnings?: number } = {}): boolean {
  return failsGate(report, options.maxWarnings !== undefined ? { maxWarnings: options.maxWarnings } : {});
}
