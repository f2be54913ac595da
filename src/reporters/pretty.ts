// A doctor-style report: one block per install, ✓ / ! / ✗ marks, root causes with their consequences
// indented under them (the consequences' fixes hidden), what was checked, the one ordered plan, and the two
// verdicts (migration, hygiene) at the end.
import { consequencesByRoot } from './diagnosis.js';
import pc from 'picocolors';
import { BUDGET_CODE, DOCTOR_PROBLEM_CODE, ENTRY_LIMIT_CODE, type CheckedArea, type Counts, type Finding, type InstallSummary, type MoveItem, type PlanStep, type Report, type Severity } from '../model.js';
import { plural, printable } from '../knowledge/text.js';

export interface PrettyOptions {
  color: boolean;
  /** show only errors (--quiet) */
  quiet?: boolean;
  verbose?: boolean;
}

type Colors = ReturnType<typeof pc.createColors>;

const MARK: Record<Severity, string> = { error: '✗', warning: '!', info: 'i' };

function paint(colors: Colors, severity: Severity, text: string): string {
  return severity === 'error' ? colors.red(text) : severity === 'warning' ? colors.yellow(text) : colors.blue(text);
}

function formatFinding(finding: Finding, colors: Colors, consequences: Finding[] = []): string[] {
  const lines = [`  ${paint(colors, finding.severity, MARK[finding.severity])} ${colors.bold(printable(finding.ruleId))}  ${printable(finding.message)}`];
  for (const item of finding.evidence ?? []) lines.push(colors.dim(`      ${printable(item)}`));
  if (finding.fix) {
    lines.push(`    ${colors.green('fix:')} ${printable(finding.fix.summary)}`);
    finding.fix.commands.forEach((command, index) => lines.push(`      ${finding.fix!.alternatives && index > 0 ? 'or ' : ''}${colors.cyan('$')} ${printable(command)}`));
  }
  if (consequences.length > 0) {
    lines.push(`    ${colors.bold('because of this:')}`);
    for (const item of consequences) lines.push(colors.dim(`      - ${item.ruleId}  ${printable(item.message)}`));
  }
  return lines;
}

const CHECK_MARK: Record<CheckedArea['status'], string> = { ok: '✓', warning: '!', error: '✗', 'not-checked': '-' };

function formatChecked(checked: CheckedArea[], colors: Colors): string[] {
  if (checked.length === 0) return [];
  const lines = [colors.bold('What was checked')];
  for (const line of checked) {
    const mark = CHECK_MARK[line.status];
    const painted = line.status === 'ok' ? colors.green(mark) : line.status === 'error' ? colors.red(mark) : line.status === 'warning' ? colors.yellow(mark) : colors.dim(mark);
    lines.push(`  ${painted} ${printable(line.text)}`);
  }
  return [...lines, ''];
}

const KIND_TEXT: Record<MoveItem['kind'], string> = { 'state-dir': 'state dir', workspace: 'workspace', unit: 'service unit', 'env-file': 'env file' };

/** verify --against: what the old machine had to carry, and which step of the move was skipped. */
function formatArrivals(items: MoveItem[], colors: Colors): string[] {
  const lines = [colors.bold('What the move had to carry (from the old machine)')];
  for (const item of items) {
    const what = `${KIND_TEXT[item.kind]} ${printable(item.path)}${item.profile ? ` (profile ${printable(item.profile)})` : ''}`;
    if (item.arrived === true) lines.push(`  ${colors.green('✓')} ${what}`);
    else if (item.arrived === false) lines.push(`  ${colors.red('✗')} ${what} did not arrive${item.skippedStep ? `: skipped step "${printable(item.skippedStep)}"` : ''}`);
    else lines.push(`  ${colors.dim('-')} ${what}: cannot be told from here`);
  }
  return [...lines, ''];
}

function formatPlanSteps(plan: PlanStep[], colors: Colors): string[] {
  if (plan.length === 0) return [];
  const lines = [colors.bold('Plan (in this order)')];
  plan.forEach((step, index) => {
    lines.push(`  ${index + 1}. ${printable(step.step)}${colors.dim(`: ${printable(step.why)}`)}`);
    for (const command of step.commands) lines.push(`       ${colors.cyan('$')} ${printable(command)}`);
    for (const alternative of step.alternatives ?? []) {
      lines.push(`     ${colors.dim('or instead:')}`);
      for (const command of alternative) lines.push(`       ${colors.cyan('$')} ${printable(command)}`);
    }
  });
  return [...lines, ''];
}

/** The guide's verification checklist, for a move that the tool finds sound. */
const NEXT_STEPS = [
  '`resonix status`: the gateway runs, with the state dir you moved',
  'channels still connected, without pairing again',
  'the dashboard shows the old sessions',
  "each agent's workspace files are present",
];

function verdictLine(name: string, counts: Counts, colors: Colors, suppressed: number): string {
  const { error, warning, info } = counts;
  const text = `${plural(error, 'error')}, ${plural(warning, 'warning')}, ${info} info${suppressed > 0 ? ` (${suppressed} suppressed)` : ''}`;
  const clean = name === 'migration' ? 'ready' : 'clean';
  const dirty = name === 'migration' ? 'not ready' : 'needs cleaning up';
  const label = `${name}:`.padEnd(11);
  return error > 0 ? colors.red(`${label}✗ ${text}: ${dirty}`) : warning > 0 ? colors.yellow(`${label}! ${text}: ${clean}, with warnings to review`) : colors.green(`${label}✓ ${text}: ${clean}`);
}

function installTitle(install: InstallSummary): string {
  const facts = [
    install.active ? 'used by the CLI' : undefined,
    install.servedBy.length > 0 ? 'used by a service' : undefined,
    install.profile ? `profile ${printable(install.profile)}` : undefined,
    install.generation === 'empty' ? undefined : `${install.generation === 'sqlite' ? 'SQLite' : install.generation === 'file' ? 'file-based' : 'mixed'} layout`,
    install.lastTouchedVersion ? `written by ${printable(install.lastTouchedVersion)}` : undefined,
    install.missing ? 'not on this machine' : plural(install.files, 'entry').replace(/entrys$/, 'entries'),
  ].filter(Boolean);
  return `${printable(install.stateDir)} (${facts.join(', ')})`;
}

function missingWhy(install: InstallSummary): string {
  const units = install.servedBy.map((unit) => printable(unit.slice(unit.lastIndexOf('/') + 1)));
  return units.length > 0 ? `only ${units.join(', ')} ${units.length === 1 ? 'names' : 'name'} it` : 'only a config names it';
}

const FORMAT_NAMES: Partial<Record<string, string>> = { openpgp: 'OpenPGP', 'openssl-enc': 'openssl enc', '7z': '7z AES' };

function archiveLine(archive: NonNullable<Report['archive']>, colors: Colors): string {
  const name = FORMAT_NAMES[archive.format] ?? archive.format;
  if (archive.encrypted) return `${colors.green('✓')} encrypted (${name}): its contents cannot be read here; only where and how it is kept was checked`;
  if (archive.partlyEncrypted) return `${colors.yellow('!')} partly encrypted (${name}): some entries are stored in the clear`;
  return `${colors.yellow('!')} not encrypted (${name}): anyone who can read the file can read what is inside`;
}

export function formatPretty(report: Report, options: PrettyOptions): string {
  const colors = pc.createColors(options.color);
  const live = report.findings.filter((finding) => !finding.suppressed);
  const suppressed = report.findings.length - live.length;
  // root causes are listed; what follows from them is shown under them
  const shown = (options.quiet ? live.filter((finding) => finding.severity === 'error') : live).filter((finding) => !finding.causedBy);
  const consequences = consequencesByRoot(live);
  const under = (finding: Finding): Finding[] => (finding.fingerprint ? (consequences.get(finding.fingerprint) ?? []) : []);
  const lines: string[] = [colors.bold(`resonix-migrate ${report.phase}`) + colors.dim(` (${printable(`${report.tool.name} ${report.tool.version}`)}, ${plural(report.rules.run.length, 'rule')})`)];
  if (report.sudoUser) lines.push(colors.dim(`running as root under sudo: checking ${printable(report.sudoUser.user)}'s home ${printable(report.sudoUser.home)} (SUDO_USER); --home picks another`));
  lines.push('');
  // whether a backup is encrypted is what its owner most wants to know: always said, not only with --verbose
  if (report.archive) lines.push(`${colors.bold('Archive')} ${printable(report.archive.path)}`, `  ${archiveLine(report.archive, colors)}`, '');
  const byInstall = new Map<string, Finding[]>();
  for (const install of report.installs) byInstall.set(install.stateDir, []);
  const machineWide: Finding[] = [];
  for (const finding of shown) {
    const group = finding.install === undefined ? undefined : byInstall.get(finding.install);
    if (group) {
      group.push(finding);
    } else {
      machineWide.push(finding);
    }
  }
  for (const install of report.installs) {
    lines.push(colors.bold(installTitle(install)));
    const findings = byInstall.get(install.stateDir) ?? [];
    // a dir that is not here was not checked: "no problems" would claim what nobody looked at
    if (findings.length === 0 && install.missing) lines.push(colors.dim(`  - nothing here to check: ${missingWhy(install)}`));
    else if (findings.length === 0) lines.push(`  ${colors.green('✓')} no problems found`);
    for (const finding of findings) lines.push(...formatFinding(finding, colors, under(finding)));
    lines.push('');
  }
  if (machineWide.length > 0 || report.installs.length === 0) {
    lines.push(colors.bold('This machine'));
    if (machineWide.length === 0) lines.push(`  ${colors.green('✓')} no problems found`);
    for (const finding of machineWide) lines.push(...formatFinding(finding, colors, under(finding)));
    lines.push('');
  }
  // a scan cut short at its entry limit changes what the verdict means: always said, not only with --verbose
  const cut = report.problems.filter((problem) => problem.code === ENTRY_LIMIT_CODE);
  // --with-doctor that gave nothing changes what the verdict covers: always said
  const doctorFailed = report.problems.filter((problem) => problem.code === DOCTOR_PROBLEM_CODE);
  for (const problem of doctorFailed) lines.push(colors.yellow(`  ! ${printable(problem.message)}`), '');
  if (report.doctor) lines.push(colors.dim(`  resonix doctor --lint ran ${plural(report.doctor.checksRun, 'check')} as uid ${report.doctor.uid}: its findings are above, under its own ids`), '');
  const budgets = report.problems.filter((problem) => problem.code === BUDGET_CODE);
  const unread = report.problems.filter((problem) => problem.code !== ENTRY_LIMIT_CODE && problem.code !== DOCTOR_PROBLEM_CODE && problem.code !== BUDGET_CODE);
  for (const problem of budgets) lines.push(colors.yellow(`  ! ${printable(problem.message)}`), '');
  if (cut.length > 0) {
    lines.push(colors.yellow(`  ! the scan stopped at its entry limit (--max-entries) in ${plural(cut.length, 'tree')}: what it did not list was not checked`));
    for (const problem of cut) lines.push(colors.yellow(`      ${printable(problem.path)}`));
    lines.push('');
  }
  // what could not be read was not judged: always said, with the rules that stayed silent about it
  if (report.unseen && report.unseen.length > 0) {
    const uid = report.unseen[0]!.uid;
    lines.push(colors.yellow(`  ! ${plural(report.unseen.length, 'tree')} could not be read as uid ${uid}: what is inside was not checked`));
    for (const tree of report.unseen) lines.push(colors.yellow(`      ${printable(tree.path)} (${tree.code})`));
    const silent = report.rules.skipped.filter((skipped) => skipped.reason.includes('could not be read as uid')).map((skipped) => skipped.id);
    if (silent.length > 0) lines.push(colors.yellow(`    not checked there: ${silent.join(', ')}`));
    lines.push(colors.yellow(`    run it with sudo to see more (sudo resonix-migrate ${report.phase} checks the home of the user who ran sudo)`), '');
  }
  if (options.verbose) {
    for (const skipped of report.rules.skipped) lines.push(colors.dim(`  - ${printable(skipped.id)} skipped: ${printable(skipped.reason)}`));
    for (const problem of unread) lines.push(colors.dim(`  ? ${printable(problem.message)}`));
    if (report.rules.skipped.length + unread.length > 0) lines.push('');
  } else if (unread.length > 0) {
    lines.push(colors.dim(`  ? ${plural(unread.length, 'path')} could not be read (--verbose lists them)`), '');
  }
  for (const entry of report.stale?.baseline ?? []) lines.push(colors.yellow(`  ! baseline entry no longer matches (remove it so the baseline shrinks): ${printable(entry)}`));
  for (const entry of report.stale?.suppressions ?? []) lines.push(colors.yellow(`  ! suppression of ${printable(entry.rule)} for ${printable(entry.path)} expired on ${printable(entry.expired)}: it no longer suppresses`));
  if ((report.stale?.baseline.length ?? 0) + (report.stale?.suppressions.length ?? 0) > 0) lines.push('');
  if (!options.quiet) lines.push(...formatChecked(report.checked ?? [], colors));
  if (!options.quiet && report.phase === 'verify' && report.move && report.move.length > 0) lines.push(...formatArrivals(report.move, colors));
  lines.push(...formatPlanSteps(report.plan ?? [], colors));
  const verdicts = report.verdicts ?? { migration: report.summary, hygiene: { error: 0, warning: 0, info: 0 } };
  if (report.phase === 'verify' && verdicts.migration.error === 0 && !options.quiet) {
    lines.push(colors.bold('Next: check it yourself'));
    for (const item of NEXT_STEPS) lines.push(`  - ${item}`);
    lines.push('');
  }
  lines.push(verdictLine('migration', verdicts.migration, colors, 0), verdictLine('hygiene', verdicts.hygiene, colors, 0));
  if (suppressed > 0) lines.push(colors.dim(`  (${suppressed} suppressed finding${suppressed === 1 ? '' : 's'} not counted)`));
  return `${lines.join('\n')}\n`;
}
