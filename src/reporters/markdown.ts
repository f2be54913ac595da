// A Markdown report to paste into a ticket or a pull request, and the GitHub step summary.
// Pure: Report → string.
//
// Untrusted text (paths, messages, evidence, commands, reasons) never gets to drive the markup:
// - control, bidi and lone-surrogate characters become visible escapes first (printable), so no
//   untrusted newline can start a heading, list, table row or HTML block;
// - in running text, & < > become entities (no HTML injection, no autolinks <…>), and the ASCII
//   characters that are active mid-line (\ ` * _ [ ] | ~, plus # @ $ for GitHub issue links,
//   mentions and math) are backslash-escaped; block syntax needs a line start, which untrusted
//   text never gets;
// - paths go in code spans whose backtick fence is longer than any backtick run inside, so the
//   content is literal (a code span renders < > & as text, never as HTML);
// - in table cells '|' is written '\|' even inside code spans (GFM splits cells before it parses
//   code spans);
// - fix commands go in a ```sh block whose fence is longer than any backtick run in them.
import { consequencesByRoot } from './diagnosis.js';
import { BUDGET_CODE, ENTRY_LIMIT_CODE, type Finding, type InstallSummary, type Report, type Severity } from '../model.js';
import { printable } from '../knowledge/text.js';

export interface MarkdownOptions {
  /** stop listing findings once the document would exceed this many UTF-8 bytes (GitHub: 1 MiB per step summary) */
  maxBytes?: number;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** One line of untrusted text with nothing invisible or terminal-active left in it. */
function line(value: string): string {
  return printable(value).replace(LONE_SURROGATE, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** Untrusted text for running Markdown text (paragraphs, list items, headings, table cells). */
export function mdText(value: string): string {
  return line(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~#@$]/g, (char) => `\\${char}`);
}

function longestRun(value: string, char: string): number {
  let longest = 0;
  let current = 0;
  for (const c of value) {
    current = c === char ? current + 1 : 0;
    if (current > longest) longest = current;
  }
  return longest;
}

/** Untrusted text as an inline code span; `inTable` also escapes '|' for GFM tables. */
export function mdCode(value: string, inTable = false): string {
  let content = line(value);
  if (inTable) content = content.replace(/\|/g, '\\|');
  const fence = '`'.repeat(longestRun(content, '`') + 1);
  // CommonMark strips one space each side when both are there: pad so a leading/trailing backtick or space survives
  const pad = content.startsWith('`') || content.endsWith('`') || (content.startsWith(' ') && content.endsWith(' ') && content.trim() !== '') ? ' ' : '';
  return content === '' ? '` `' : `${fence}${pad}${content}${pad}${fence}`;
}

/** Untrusted lines as a fenced code block with an info string. */
export function mdCodeBlock(lines: string[], info: string): string {
  const body = lines.map(line);
  const fence = '`'.repeat(body.reduce((longest, item) => Math.max(longest, longestRun(item, '`') + 1), 3));
  return [`${fence}${info}`, ...body, fence].join('\n');
}

/** A GFM table cell of running text. */
function cell(value: string): string {
  return mdText(value); // mdText already escapes '|'
}

const HEADING: Record<Severity, string> = { error: 'Errors', warning: 'Warnings', info: 'Info' };
const ICON: Record<Severity, string> = { error: '❌', warning: '⚠️', info: 'ℹ️' };

function verdict(report: Report): string {
  const { error, warning } = report.summary;
  return error > 0 ? '❌ not ready' : warning > 0 ? '⚠️ ready, with warnings to review' : '✅ ready';
}

function installRow(install: InstallSummary): string {
  const uses = [install.active ? 'CLI' : '', install.servedBy.length > 0 ? `service (${install.servedBy.length})` : ''].filter(Boolean).join(', ') || '—';
  return `| ${mdCode(install.stateDir, true)} | ${install.profile !== undefined ? cell(install.profile) : '—'} | ${uses} | ${install.missing ? 'not on this machine' : install.generation} | ${install.missing ? '—' : install.files} | ${install.lastTouchedVersion !== undefined ? cell(install.lastTouchedVersion) : '—'} |`;
}

function findingSection(finding: Finding, consequences: readonly Finding[] = []): string {
  const parts = [`#### ${mdCode(finding.ruleId)}: ${mdText(finding.message)}`, ''];
  const facts: string[] = [];
  if (finding.path !== undefined) facts.push(`- **Path:** ${mdCode(finding.path)}`);
  if (finding.install !== undefined && finding.install !== finding.path) facts.push(`- **Install:** ${mdCode(finding.install)}`);
  for (const item of finding.evidence ?? []) facts.push(`- ${mdText(item)}`);
  if (finding.suppressed) {
    facts.push(`- **Suppressed** (${finding.suppressed.kind}): ${mdText(finding.suppressed.reason)}${finding.suppressed.expires ? ` until ${mdText(finding.suppressed.expires)}` : ''}`);
  }
  if (facts.length > 0) parts.push(...facts, '');
  if (consequences.length > 0) {
    // what follows from this root: listed under it, without fixes of their own (this fix is the one to run)
    parts.push('**Because of this:**', '', ...consequences.map((item) => `- ${mdCode(item.ruleId)}: ${mdText(item.message)}`), '');
  }
  if (finding.fix) {
    parts.push(`**Fix:** ${mdText(finding.fix.summary)}`, '');
    if (finding.fix.commands.length > 0) parts.push(mdCodeBlock(finding.fix.commands, 'sh'), '');
  }
  return parts.join('\n');
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

export function formatMarkdown(report: Report, options: MarkdownOptions = {}): string {
  // root causes are listed; what follows from one is listed under it
  const live = report.findings.filter((finding) => !finding.suppressed && !finding.causedBy);
  const suppressed = report.findings.filter((finding) => finding.suppressed);
  const consequences = consequencesByRoot(report.findings);
  const under = (finding: Finding): Finding[] => (finding.fingerprint ? (consequences.get(finding.fingerprint) ?? []) : []);
  const head: string[] = [
    `## resonix-migrate ${report.phase}: ${verdict(report)}`,
    '',
    `${mdText(`${report.tool.name} ${report.tool.version}`)}, ${report.rules.run.length} rules run, ${report.rules.skipped.length} skipped`,
    '',
    '| severity | findings |',
    '| --- | ---: |',
    `| ${ICON.error} error | ${report.summary.error} |`,
    `| ${ICON.warning} warning | ${report.summary.warning} |`,
    `| ${ICON.info} info | ${report.summary.info} |`,
    ...(suppressed.length > 0 ? [`| suppressed | ${suppressed.length} |`] : []),
    '',
  ];
  if (report.installs.length > 0) {
    head.push('| state dir | profile | used by | layout | entries | written by |', '| --- | --- | --- | --- | ---: | --- |', ...report.installs.map(installRow), '');
  }

  // sections in order; stop (and say so) before the byte budget is spent
  const sections: string[] = [];
  for (const severity of ['error', 'warning', 'info'] as const) {
    const group = live.filter((finding) => finding.severity === severity);
    if (group.length === 0) continue;
    sections.push(`### ${ICON[severity]} ${HEADING[severity]} (${group.length})\n`);
    for (const finding of group) sections.push(findingSection(finding, under(finding)));
  }
  if (suppressed.length > 0) {
    sections.push(`### Suppressed (${suppressed.length})\n`);
    for (const finding of suppressed) sections.push(findingSection(finding));
  }
  if (live.length === 0 && suppressed.length === 0) sections.push('No problems found.\n');

  const tail: string[] = [];
  if (report.rules.skipped.length > 0) {
    tail.push('<details><summary>Rules not run</summary>', '', ...report.rules.skipped.map((skipped) => `- ${mdCode(skipped.id)}: ${mdText(skipped.reason)}`), '', '</details>', '');
  }
  const cut = report.problems.filter((problem) => problem.code === ENTRY_LIMIT_CODE);
  const budgets = report.problems.filter((problem) => problem.code === BUDGET_CODE);
  const unread = report.problems.filter((problem) => problem.code !== ENTRY_LIMIT_CODE && problem.code !== BUDGET_CODE);
  for (const problem of budgets) tail.push(`> [!WARNING]\n> ${mdText(problem.message)}`, '');
  if (cut.length > 0) {
    tail.push(`> [!WARNING]\n> The scan stopped at its entry limit (\`--max-entries\`) in ${cut.map((problem) => mdCode(problem.path)).join(', ')}: what it did not list was not checked.`, '');
  }
  if (unread.length > 0) {
    tail.push(
      `<details><summary>${unread.length === 1 ? '1 path' : `${unread.length} paths`} could not be read</summary>`,
      '',
      ...unread.map((problem) => `- ${mdCode(problem.path)}: ${mdText(`${problem.code} ${problem.message}`)}`),
      '',
      '</details>',
      '',
    );
  }
  const stale = [
    ...(report.stale?.baseline ?? []).map((entry) => `- baseline entry no longer matches (remove it so the baseline shrinks): ${mdCode(entry)}`),
    ...(report.stale?.suppressions ?? []).map((entry) => `- suppression of ${mdCode(entry.rule)} for ${mdCode(entry.path)} expired on ${mdText(entry.expired)}: it no longer suppresses`),
  ];
  if (stale.length > 0) tail.push('### Stale baseline and suppressions', '', ...stale, '');

  const budget = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const headText = head.join('\n');
  const tailText = tail.join('\n');
  let used = byteLength(headText) + byteLength(tailText) + 256;
  const body: string[] = [];
  for (let index = 0; index < sections.length; index += 1) {
    const section = sections[index]!;
    const size = byteLength(section) + 1;
    if (used + size > budget) {
      const left = sections.slice(index).filter((item) => item.startsWith('#### ')).length;
      body.push(`_${left} more findings not shown here (size limit): see the full report (--format json or sarif)._\n`);
      break;
    }
    used += size;
    body.push(section);
  }
  return `${[headText, ...body, tailText].filter((part) => part !== '').join('\n')}\n`;
}
