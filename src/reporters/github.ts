// GitHub Actions: workflow commands that become annotations, and a Markdown step summary.
// Pure: Report → { stdout, summary }; the CLI prints stdout and appends summary to $GITHUB_STEP_SUMMARY.
//
// GitHub keeps at most 10 error, 10 warning and 10 notice annotations per step (50 per job), so
// the most severe unsuppressed findings are annotated (report order within a severity), and a
// final `::notice::` says how many were left out (a notice slot is kept free for it). Every line
// of stdout is one command that we start: untrusted text is first made printable (no raw newline,
// CR, ESC or bidi character), then escaped as @actions/core does: data %→%25 \r→%0D \n→%0A,
// properties additionally :→%3A ,→%2C. A file name containing "\n::error::" stays inside its line.
import type { Finding, Report, Severity } from '../model.js';
import { SEVERITY_RANK } from '../model.js';
import { consequencesByRoot, consequencesLine } from './diagnosis.js';
import { printable } from '../knowledge/text.js';
import { formatMarkdown } from './markdown.js';

export interface GithubOutput {
  /** workflow commands, one per line */
  stdout: string;
  /** Markdown for $GITHUB_STEP_SUMMARY */
  summary: string;
}

/** GitHub's per-step limit for each annotation type */
export const ANNOTATIONS_PER_TYPE = 10;
/** $GITHUB_STEP_SUMMARY may hold at most 1 MiB per step; keep a margin */
const SUMMARY_MAX_BYTES = 1024 * 1024 - 16 * 1024;

const COMMAND: Record<Severity, 'error' | 'warning' | 'notice'> = { error: 'error', warning: 'warning', info: 'notice' };

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function line(value: string): string {
  return printable(value).replace(LONE_SURROGATE, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** toolkit escapeData */
export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** toolkit escapeProperty */
export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(name: string, properties: Record<string, string | undefined>, message: string): string {
  const props = Object.entries(properties)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${escapeProperty(value)}`)
    .join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

function annotation(finding: Finding, consequences: readonly Finding[]): string {
  // our own \n separators become %0A (a multi-line annotation); untrusted text has none left
  const lines = [line(finding.message)];
  if (consequences.length > 0) lines.push(line(consequencesLine(consequences)));
  if (finding.fix) {
    lines.push(`fix: ${line(finding.fix.summary)}`);
    for (const item of finding.fix.commands) lines.push(`$ ${line(item)}`);
  }
  return command(
    COMMAND[finding.severity],
    { file: finding.path !== undefined ? line(finding.path) : undefined, title: `resonix-migrate ${line(finding.ruleId)}` },
    lines.join('\n'),
  );
}

export function formatGithub(report: Report): GithubOutput {
  const live = report.findings
    .map((finding, index) => ({ finding, index }))
    // one annotation per root cause: what follows from it is named in its annotation, not annotated again
    .filter(({ finding }) => !finding.suppressed && !finding.causedBy)
    .sort((a, b) => SEVERITY_RANK[b.finding.severity] - SEVERITY_RANK[a.finding.severity] || a.index - b.index)
    .map(({ finding }) => finding);
  const bySeverity = (severity: Severity): Finding[] => live.filter((finding) => finding.severity === severity);
  const errors = bySeverity('error');
  const warnings = bySeverity('warning');
  const infos = bySeverity('info');
  const overflow = errors.length > ANNOTATIONS_PER_TYPE || warnings.length > ANNOTATIONS_PER_TYPE || infos.length > ANNOTATIONS_PER_TYPE;
  // the closing notice needs a notice slot of its own
  const noticeCap = overflow ? ANNOTATIONS_PER_TYPE - 1 : ANNOTATIONS_PER_TYPE;
  const shown = [...errors.slice(0, ANNOTATIONS_PER_TYPE), ...warnings.slice(0, ANNOTATIONS_PER_TYPE), ...infos.slice(0, noticeCap)];
  const consequences = consequencesByRoot(report.findings);
  const lines = shown.map((finding) => annotation(finding, (finding.fingerprint && consequences.get(finding.fingerprint)) || []));
  const left = live.length - shown.length;
  if (left > 0) {
    lines.push(
      command(
        'notice',
        {},
        `${left} more finding${left === 1 ? '' : 's'} not annotated (GitHub shows at most ${ANNOTATIONS_PER_TYPE} annotations of each type per step): see the job summary or --format json`,
      ),
    );
  }
  return {
    stdout: lines.length > 0 ? `${lines.join('\n')}\n` : '',
    summary: formatMarkdown(report, { maxBytes: SUMMARY_MAX_BYTES }),
  };
}
