// JUnit XML for CI test tabs (GitLab merge request test reports, Jenkins junit, GitHub test-report
// actions). Pure: Report → string.
//
// Shape: <testsuites> with one <testsuite name="resonix-migrate <phase>">; one <testcase
// classname="<family>" name="<rule id>"> per rule that ran, and one with <skipped> per rule that
// did not. A rule with unsuppressed error/warning findings fails with exactly ONE <failure> that
// lists every such finding: several <failure> elements in one testcase are legal in the Jenkins
// schema but most readers show only the first (Jenkins, action-junit-report), some mark the test
// passed (Allure) or reject the file (junitparser). type = the most severe severity, message = the
// first finding (plus "and N more"). Info and suppressed findings go to <system-out>.
// Counts follow the JUnit convention: tests = testcases (skipped included), failures = failed
// testcases, errors = 0 (a crashed rule is reported by the engine as an error finding).
//
// All text is XML-escaped; characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone
// surrogates, U+FFFE/U+FFFF) and terminal-active ones (ESC, C1, bidi overrides) are written as
// visible escapes (\e, \x07, \udc00, …) — never dropped silently, never raw.
import { consequencesByRoot, consequencesLine } from './diagnosis.js';
import type { Finding, Report, Rule, Severity } from '../model.js';
import { SEVERITY_RANK } from '../model.js';
import { printable } from '../knowledge/text.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NON_CHARACTER = /[\ufffe\uffff]/g;

/** One line of untrusted text, safe for XML 1.0 and for a terminal: no newline survives. */
export function xmlSafeLine(text: string): string {
  return printable(text)
    .replace(LONE_SURROGATE, (char) => `\\u${char.charCodeAt(0).toString(16)}`)
    .replace(NON_CHARACTER, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** Escapes text built from xmlSafeLine lines (our own \n separators are kept). */
function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Attribute values: also tab/LF/CR as character references, or attribute normalisation eats them. */
function escapeAttribute(text: string): string {
  return escapeText(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([name, value]) => ` ${name}="${escapeAttribute(typeof value === 'number' ? String(value) : xmlSafeLine(value))}"`)
    .join('');
}

function familyOf(id: string): string {
  const slash = id.indexOf('/');
  return slash > 0 ? id.slice(0, slash) : id;
}

function findingBlock(finding: Finding, consequences: readonly Finding[] = []): string[] {
  const lines = [`[${finding.severity}] ${xmlSafeLine(finding.message)}`];
  if (consequences.length > 0) lines.push(`  ${xmlSafeLine(consequencesLine(consequences))}`);
  if (finding.path !== undefined) lines.push(`  path: ${xmlSafeLine(finding.path)}`);
  if (finding.install !== undefined && finding.install !== finding.path) lines.push(`  install: ${xmlSafeLine(finding.install)}`);
  for (const item of finding.evidence ?? []) lines.push(`  ${xmlSafeLine(item)}`);
  if (finding.fix) {
    lines.push(`  fix: ${xmlSafeLine(finding.fix.summary)}`);
    for (const command of finding.fix.commands) lines.push(`    $ ${xmlSafeLine(command)}`);
  }
  if (finding.suppressed) {
    lines.push(`  suppressed (${finding.suppressed.kind}): ${xmlSafeLine(finding.suppressed.reason)}${finding.suppressed.expires ? ` until ${xmlSafeLine(finding.suppressed.expires)}` : ''}`);
  }
  return lines;
}

interface Case {
  id: string;
  /** what follows from each failing root finding, by its fingerprint */
  consequences?: ReadonlyMap<string, Finding[]>;
  failures: Finding[];
  output: Finding[];
  skipped?: string;
}

function testcase(entry: Case, titles: ReadonlyMap<string, string>, causes: ReadonlyMap<string, string>, indent: string): string {
  const open = `${indent}<testcase${attributes({ classname: familyOf(entry.id), name: entry.id, time: 0 })}`;
  const body: string[] = [];
  if (entry.skipped !== undefined) body.push(`${indent}  <skipped${attributes({ message: entry.skipped })}/>`);
  if (entry.failures.length > 0) {
    const worst = entry.failures.reduce<Severity>((top, finding) => (SEVERITY_RANK[finding.severity] > SEVERITY_RANK[top] ? finding.severity : top), 'info');
    const first = entry.failures[0]!;
    const more = entry.failures.length - 1;
    const message = `${first.message}${more > 0 ? ` (and ${more} more)` : ''}`;
    const title = titles.get(entry.id);
    const lines = [
      ...(title !== undefined ? [`${xmlSafeLine(entry.id)}: ${xmlSafeLine(title)}`, ''] : []),
      ...entry.failures.flatMap((finding, index) => [...(index > 0 ? [''] : []), ...findingBlock(finding, (finding.fingerprint && entry.consequences?.get(finding.fingerprint)) || [])]),
    ];
    body.push(`${indent}  <failure${attributes({ message, type: worst })}>${escapeText(lines.join('\n'))}</failure>`);
  }
  if (entry.output.length > 0) {
    const lines = entry.output.flatMap((finding, index) => [...(index > 0 ? [''] : []), ...(finding.causedBy ? [`follows from ${xmlSafeLine(causes.get(finding.causedBy) ?? finding.causedBy)}:`] : []), ...findingBlock(finding)]);
    body.push(`${indent}  <system-out>${escapeText(lines.join('\n'))}</system-out>`);
  }
  return body.length === 0 ? `${open}/>` : `${open}>\n${body.join('\n')}\n${indent}</testcase>`;
}

export function formatJunit(report: Report, rules: readonly Rule[]): string {
  const titles = new Map(rules.map((rule) => [rule.meta.id, rule.meta.title] as const));
  // a testcase fails for its root findings only: a finding that follows from another rule's root (causedBy) is
  // output, not a failure, so one cause fails one testcase, as it fails the run once (gating counts roots)
  const consequences = consequencesByRoot(report.findings);
  const causes = new Map(report.findings.filter((finding) => finding.fingerprint).map((finding) => [finding.fingerprint!, finding.ruleId] as const));
  const cases = new Map<string, Case>();
  for (const id of report.rules.run) cases.set(id, { id, failures: [], output: [] });
  for (const skipped of report.rules.skipped) if (!cases.has(skipped.id)) cases.set(skipped.id, { id: skipped.id, failures: [], output: [], skipped: skipped.reason });
  for (const finding of report.findings) {
    let entry = cases.get(finding.ruleId);
    if (!entry || entry.skipped !== undefined) {
      // a finding of a rule the report does not list as run: never drop it
      entry = cases.get(`${finding.ruleId}\u0000found`) ?? { id: finding.ruleId, failures: [], output: [] };
      cases.set(`${finding.ruleId}\u0000found`, entry);
    }
    entry.consequences = consequences;
    if (!finding.suppressed && !finding.causedBy && (finding.severity === 'error' || finding.severity === 'warning')) entry.failures.push(finding);
    else entry.output.push(finding);
  }
  const list = [...cases.values()];
  const tests = list.length;
  const failures = list.filter((entry) => entry.failures.length > 0).length;
  const skipped = list.filter((entry) => entry.skipped !== undefined).length;
  const name = `resonix-migrate ${report.phase}`;
  const counts = { tests, failures, errors: 0, skipped, time: 0 };
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'resonix-migrate', ...counts })}>`,
    `  <testsuite${attributes({ name, ...counts })}>`,
    `    <properties>`,
    `      <property${attributes({ name: 'tool', value: `${report.tool.name} ${report.tool.version}` })}/>`,
    `      <property${attributes({ name: 'phase', value: report.phase })}/>`,
    `    </properties>`,
    ...list.map((entry) => testcase(entry, titles, causes, '    ')),
  ];
  const problems = report.problems.map((problem) => `${xmlSafeLine(problem.path)}: ${xmlSafeLine(problem.code)} ${xmlSafeLine(problem.message)}`);
  if (problems.length > 0) lines.push(`    <system-err>${escapeText(['paths that could not be read:', ...problems].join('\n'))}</system-err>`);
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}
