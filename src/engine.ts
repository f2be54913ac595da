// Runs the enabled rules for a phase, applies severity overrides, masks secrets once for every
// finding, and returns a sorted, de-duplicated Report.
import { foldDoctorFindings } from './doctor-merge.js';
import { checkedAreas, count, diagnose, liveRoots, metaById, validateCauses, verdicts } from './diagnose.js';
import type { DoctorRun, Finding, FixAction, Machine, MoveItem, Phase, PlanStep, Report, Rule, RuleMeta, RuleReport, Severity, SeveritySetting, StepKind } from './model.js';
import { SEVERITY_RANK } from './model.js';
import { fingerprintOf, rootsOf, type Roots } from './knowledge/fingerprint.js';
import { arrivals, movePlan, planFromFindings, stepOf, whatMustTravel, type Words } from './plan.js';
import { builtinRules } from './rules/index.js';
import { unseenTrees } from './rules/lib.js';
import { maskSecrets } from './knowledge/mask.js';
import { TOOL } from './version.js';

export interface EngineOptions {
  phase: Phase;
  machine: Machine;
  baseline?: Machine;
  rules?: readonly Rule[];
  /** rule id → severity or 'off' */
  severities?: Record<string, SeveritySetting>;
  /** secret values seen by the scan: masked wherever they appear */
  secrets?: Iterable<string>;
  /** --only: run just these rules */
  only?: string[];
  /** --skip: never run these */
  skip?: string[];
  /** --with-doctor: what ran, and doctor's findings (doctor-merge.ts), masked and folded here like ours */
  doctor?: { run: DoctorRun; findings: Finding[] };
}

/**
 * The unmasked fix actions of each finding of a report that has any, keyed by the report's own finding
 * objects (gating keeps those of every finding it does not suppress): for `--fix` only, beside the report and
 * never in it, so they cannot reach JSON or a reporter, while the visible `fix.actions` are masked like every
 * other string.
 */
export type RawActions = ReadonlyMap<Finding, readonly FixAction[]>;

/** What the engine returns: the report, the raw fix actions, and what a recount after gating needs. */
export interface RuleRun {
  report: Report;
  rawActions: RawActions;
  context: ReportContext;
}

function maskFinding(finding: Finding, secrets: string[]): Finding {
  const mask = (text: string): string => maskSecrets(text, secrets);
  return {
    ruleId: finding.ruleId,
    severity: finding.severity,
    message: mask(finding.message),
    ...(finding.path !== undefined ? { path: mask(finding.path) } : {}),
    ...(finding.install !== undefined ? { install: mask(finding.install) } : {}),
    ...positionOf(finding),
    ...(finding.target ? { target: finding.target } : {}),
    ...(finding.evidence ? { evidence: finding.evidence.map(mask) } : {}),
    ...(finding.oldHomes ? { oldHomes: finding.oldHomes.map(mask) } : {}),
    ...(finding.fix
      ? {
          fix: {
            summary: mask(finding.fix.summary),
            commands: finding.fix.commands.map(mask),
            ...(finding.fix.actions ? { actions: finding.fix.actions.map((action) => ({ ...action, path: mask(action.path) })) } : {}),
            ...(finding.fix.step ? { step: finding.fix.step } : {}),
            ...(finding.fix.alternatives ? { alternatives: true } : {}),
          },
        }
      : {}),
  };
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
    a.ruleId.localeCompare(b.ruleId) ||
    (a.path ?? '').localeCompare(b.path ?? '') ||
    a.message.localeCompare(b.message)
  );
}

function toFinding(rule: Rule, report: RuleReport, override: Severity | undefined): Finding {
  return {
    ruleId: rule.meta.id,
    severity: override ?? report.severity ?? rule.meta.severity,
    message: report.message,
    ...(report.path !== undefined ? { path: report.path } : {}),
    ...(report.install !== undefined ? { install: report.install } : {}),
    ...positionOf(report),
    ...(report.evidence && report.evidence.length > 0 ? { evidence: report.evidence } : {}),
    ...(report.oldHomes && report.oldHomes.length > 0 ? { oldHomes: report.oldHomes } : {}),
    ...(report.fix ? { fix: { ...report.fix, ...(!report.fix.step && rule.meta.fixStep ? { step: rule.meta.fixStep } : {}) } } : {}),
  };
}

const POSITION_KEYS = ['line', 'column', 'endLine', 'endColumn'] as const;
const isPosition = (value: unknown): boolean => value === undefined || (Number.isSafeInteger(value) && (value as number) >= 1);

/** A report's place in its file, kept only when it is whole: a start line, and an end not before the start. */
function positionOf(report: Pick<RuleReport, (typeof POSITION_KEYS)[number]>): Pick<Finding, (typeof POSITION_KEYS)[number]> {
  const { line, column, endLine, endColumn } = report;
  if (line === undefined || !POSITION_KEYS.every((key) => isPosition(report[key]))) return {};
  if (endLine !== undefined && (endLine < line || (endLine === line && endColumn !== undefined && column !== undefined && endColumn < column))) return { line, ...(column !== undefined ? { column } : {}) };
  return { line, ...(column !== undefined ? { column } : {}), ...(endLine !== undefined ? { endLine } : {}), ...(endLine !== undefined && endColumn !== undefined ? { endColumn } : {}) };
}

type Target = NonNullable<Finding['target']>;

/**
 * What each of `wanted` (finding paths) is on the scanned machine, from what the scan saw
 * (inventories, configs, archives, service units): a SARIF location needs to tell a file (its
 * whole-file region) from a directory. One pass over each inventory, however many findings. A path
 * the scan did not see (a missing file, a path outside every tree) has no entry.
 */
export function targetsOf(machine: Machine, wanted: ReadonlySet<string>): Map<string, Target> {
  const found = new Map<string, Target>();
  const put = (where: string, target: Target): void => {
    if (wanted.has(where) && !found.has(where)) found.set(where, target);
  };
  for (const home of machine.homes) {
    for (const install of home.installs) {
      if (install.config.exists) put(install.config.path, { type: 'file', ...(install.config.size !== undefined ? { size: install.config.size } : {}) });
      for (const inventory of [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]) {
        if (!inventory.exists) continue;
        const inside = wantedIn(inventory.root, wanted, found);
        if (inside === undefined) continue;
        if (inside.byPath.size > 0) {
          // the first entry of each path wins, as it would going through them all: a few wanted paths against a
          // million entries, told apart by length before a lookup, with nothing built per entry
          let left = inside.byPath.size;
          const entries = inventory.entries;
          for (let index = 0; index < entries.length && left > 0; index++) {
            const entry = entries[index]!;
            const length = entry.path.length;
            if (length >= inside.lengths.length || inside.lengths[length] === 0) continue;
            const where = inside.byPath.get(entry.path);
            if (where === undefined || found.has(where)) continue;
            found.set(where, entry.type === 'file' ? { type: 'file', size: entry.size } : { type: entry.type });
            left -= 1;
          }
        }
        put(inventory.root, { type: 'dir' });
      }
    }
    if (home.exists) put(home.path, { type: 'dir' });
    for (const unit of home.services) put(unit.path, { type: 'file', ...(unit.size !== undefined ? { size: unit.size } : {}) });
    for (const workspace of home.workspaceDirs) put(workspace.path, { type: 'dir' });
  }
  for (const archive of machine.archives) put(archive.path, { type: 'file', size: archive.size });
  const runtime = machine.runtime;
  if (runtime?.nodePath !== undefined) put(runtime.nodePath, { type: 'file', ...(runtime.nodeSize !== undefined ? { size: runtime.nodeSize } : {}) });
  return found;
}

/**
 * The wanted paths not yet found that an entry of the inventory at `root` would name (`root` itself for its
 * '' entry, `root/<path>` for the others), by the entry path that names them, with the lengths of those paths
 * marked; undefined when no wanted path is `root` or under it.
 */
function wantedIn(root: string, wanted: ReadonlySet<string>, found: ReadonlyMap<string, Target>): { byPath: Map<string, string>; lengths: Uint8Array } | undefined {
  const prefix = `${root}/`;
  const byPath = new Map<string, string>();
  let any = false;
  for (const where of wanted) {
    const relative = where === root ? '' : where.startsWith(prefix) ? where.slice(prefix.length) : undefined;
    if (relative === undefined) continue;
    any = true;
    // `root/` itself: no entry names it ('' names the root)
    if (found.has(where) || (relative === '' && where !== root)) continue;
    byPath.set(relative, where);
  }
  if (!any) return undefined;
  let longest = -1;
  for (const relative of byPath.keys()) longest = Math.max(longest, relative.length);
  const lengths = new Uint8Array(longest + 1);
  for (const relative of byPath.keys()) lengths[relative.length] = 1;
  return { byPath, lengths };
}

function validReport(report: RuleReport): boolean {
  const strings = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');
  return (
    typeof report === 'object' &&
    report !== null &&
    typeof report.message === 'string' &&
    (report.severity === undefined || report.severity in SEVERITY_RANK) &&
    (report.path === undefined || typeof report.path === 'string') &&
    (report.install === undefined || typeof report.install === 'string') &&
    POSITION_KEYS.every((key) => report[key] === undefined || typeof report[key] === 'number') &&
    (report.evidence === undefined || strings(report.evidence)) &&
    (report.oldHomes === undefined || strings(report.oldHomes)) &&
    (report.fix === undefined || (typeof report.fix.summary === 'string' && strings(report.fix.commands)))
  );
}

function crashFinding(rule: Rule, error: unknown): Finding {
  const reason = error instanceof Error ? error.message : String(error);
  return { ruleId: rule.meta.id, severity: 'error', message: `The rule crashed and checked nothing: ${reason.split('\n')[0]}` };
}

/** The report alone (runRulesWithActions also gives the raw fix actions and the recount context). */
export function runRules(options: EngineOptions): Report {
  return runRulesWithActions(options).report;
}

export function runRulesWithActions(options: EngineOptions): RuleRun {
  const rules = options.rules ?? builtinRules;
  validateCauses(rules);
  const severities = options.severities ?? {};
  const secrets = [...(options.secrets ?? [])].filter((value) => value.length >= 6).sort((a, b) => b.length - a.length);
  const run: string[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const findings: Finding[] = [];
  for (const rule of rules) {
    const setting = severities[rule.meta.id];
    if (options.only && options.only.length > 0 && !options.only.includes(rule.meta.id)) {
      skipped.push({ id: rule.meta.id, reason: 'not selected by --only' });
      continue;
    }
    if (options.skip?.includes(rule.meta.id)) {
      skipped.push({ id: rule.meta.id, reason: 'skipped by --skip' });
      continue;
    }
    if (setting === 'off') {
      skipped.push({ id: rule.meta.id, reason: 'turned off' });
      continue;
    }
    if (!rule.meta.phases.includes(options.phase)) {
      skipped.push({ id: rule.meta.id, reason: `not a ${options.phase} rule` });
      continue;
    }
    if (rule.meta.needsBaseline && !options.baseline) {
      skipped.push({ id: rule.meta.id, reason: 'needs a baseline (--against a manifest or archive)' });
      continue;
    }
    let cannotKnow: string | undefined;
    try {
      const context = {
        phase: options.phase,
        machine: options.machine,
        ...(options.baseline ? { baseline: options.baseline } : {}),
        skip: (reason: string) => {
          cannotKnow = reason;
        },
      };
      const reports = rule.check(context);
      if (reports.length === 0 && cannotKnow !== undefined) {
        skipped.push({ id: rule.meta.id, reason: cannotKnow });
        continue;
      }
      run.push(rule.meta.id);
      // a plugin's report is outside data too: a malformed one is the rule's failure, not ours
      for (const report of reports) findings.push(validReport(report) ? toFinding(rule, report, setting) : crashFinding(rule, new Error('it returned a malformed finding')));
    } catch (error) {
      // a rule that crashes becomes a finding; the run goes on (flutter doctor style)
      run.push(rule.meta.id);
      findings.push(crashFinding(rule, error));
    }
  }
  // doctor's findings go through the same masker, de-duplication and fingerprints as ours (a doctor check
  // named like one of our rules is left out: it would pass for ours)
  const doctorIds = new Set((options.doctor?.findings ?? []).map((finding) => finding.ruleId).filter((id) => !rules.some((rule) => rule.meta.id === id)));
  findings.push(...(options.doctor?.findings ?? []).filter((finding) => doctorIds.has(finding.ruleId)));
  // each masked finding with its own raw actions, kept side by side through the sort (the steps after keep the order)
  const unique = new Map<string, { finding: Finding; raw: readonly FixAction[] | undefined }>();
  const targets = targetsOf(options.machine, new Set(findings.flatMap((finding) => finding.path ?? finding.install ?? [])));
  const withTargets = findings.map((finding): Finding => {
    const target = targets.get(finding.path ?? finding.install ?? '');
    return target ? { ...finding, target } : finding;
  });
  for (const item of withTargets) {
    const finding = maskFinding(item, secrets);
    const key = `${finding.ruleId}\u0000${finding.path ?? ''}\u0000${finding.message}`;
    if (!unique.has(key)) unique.set(key, { finding, raw: item.fix?.actions });
  }
  // masked like the paths they shorten (a home or state dir may be named after a secret)
  const roots = Object.fromEntries(Object.entries(rootsOf(options.machine)).map(([name, root]) => [name, maskSecrets(root, secrets)])) as Roots;
  const entries = [...unique.values()].sort((a, b) => compareFindings(a.finding, b.finding));
  const fingerprinted = entries.map(({ finding }) => ({ ...finding, fingerprint: fingerprintOf(finding, roots) }));
  // doctor's findings that say what ours say fold under ours first; the diagnosis then relates ours
  const sorted = doctorIds.size > 0 ? foldDoctorFindings(fingerprinted, (finding) => doctorIds.has(finding.ruleId)) : fingerprinted;
  // the install summaries, skip reasons and problems leave the process too: the same masker as the findings
  const mask = (text: string): string => maskSecrets(text, secrets);
  // diagnosis: a finding that follows from another is folded under its root cause (the order stays)
  const folded = diagnose(sorted, rules);
  const rawActions = new Map<Finding, readonly FixAction[]>();
  folded.forEach((finding, index) => {
    const raw = entries[index]!.raw;
    if (raw) rawActions.set(finding, raw);
  });
  const report: Report = {
    tool: { ...TOOL },
    phase: options.phase,
    installs: options.machine.homes.flatMap((home) =>
      home.installs.map((install) => ({
        stateDir: mask(install.stateDir),
        ...(install.profile ? { profile: mask(install.profile) } : {}),
        active: install.active,
        generation: install.generation,
        files: install.inventory.entries.length,
        ...(install.config.gatewayMode ? { gatewayMode: mask(install.config.gatewayMode) } : {}),
        ...(install.config.lastTouchedVersion ? { lastTouchedVersion: mask(install.config.lastTouchedVersion) } : {}),
        servedBy: install.servedBy.map(mask),
        ...(install.inventory.exists ? {} : { missing: true as const }),
      })),
    ),
    findings: folded,
    summary: { error: 0, warning: 0, info: 0 },
    rules: { run, skipped: skipped.map((item) => ({ id: item.id, reason: mask(item.reason) })) },
    problems: options.machine.problems.map((problem) => ({ ...problem, path: mask(problem.path), message: mask(problem.message) })),
    ...scopeOf(options.machine, secrets),
    roots,
    ...(options.doctor ? { doctor: { ...options.doctor.run, command: maskSecrets(options.doctor.run.command, secrets) } } : {}),
  };
  // audit: what must travel; verify --against: which of what the old machine had to carry arrived
  const travel = options.phase === 'audit' ? whatMustTravel(options.machine) : options.phase === 'verify' && options.baseline ? arrivals(options.baseline, options.machine) : undefined;
  const move = travel?.map((item) => ({ ...item, path: mask(item.path) }));
  const context: ReportContext = { meta: metaById(rules), words: wordsOf(options.machine), ...(move ? { move, mask } : {}), ...(options.phase === 'audit' ? { machine: options.machine } : {}) };
  return { report: summariseReport(report, context), rawActions, context };
}

/** Whose home was checked under sudo, and what this process could not read (so the report can say so). */
function scopeOf(machine: Machine, secrets: string[]): Pick<Report, 'sudoUser' | 'unseen'> {
  const home = machine.homes.find((candidate) => candidate.sudoUser);
  const unseen = unseenTrees(machine).map((tree) => ({ ...tree, path: maskSecrets(tree.path, secrets) }));
  return { ...(home ? { sudoUser: { user: home.sudoUser!, home: home.path } } : {}), ...(unseen.length > 0 ? { unseen } : {}) };
}

/**
 * What the summary, verdicts, "what was checked" and the plan are computed from, beside the report (never in
 * it): the engine uses it, and gating again (gate.ts) after suppressions and the baseline.
 */
export interface ReportContext {
  meta: ReadonlyMap<string, RuleMeta>;
  words: Words;
  machine?: Machine;
  move?: MoveItem[];
  mask?: (text: string) => string;
}

/** `~` only for a home that is the runner's own (a live scan), user and group names from the scanned machine. */
function wordsOf(machine: Machine): Words {
  const home = machine.homes[0];
  const own = machine.mode === 'live' && home !== undefined && home.ownerUid !== undefined && home.ownerUid === machine.currentUid && machine.currentUid !== 0;
  return {
    ...(own ? { home: home.path } : {}),
    users: Object.fromEntries(machine.users.map((user) => [user.uid, user.name])),
    groups: Object.fromEntries(machine.groups.map((group) => [group.gid, group.name])),
    dataProfiles: [...new Set(machine.homes.flatMap((item) => item.installs).filter((install) => install.inventory.exists && install.hasData).map((install) => install.profile ?? 'default'))],
  };
}

/**
 * Recounts a report from its findings: the summary of live root findings, the two verdicts, what was checked,
 * and the one ordered plan. The engine calls it, and gating again after suppressions and the baseline. Without
 * the engine's context only what the findings themselves say is recounted (no rule metadata, no move plan).
 */
export function summariseReport(report: Report, context?: ReportContext): Report {
  const meta = context?.meta ?? new Map<string, RuleMeta>();
  const words = context?.words ?? { users: {}, groups: {} };
  const fixStepOf = (ruleId: string): StepKind | undefined => meta.get(ruleId)?.fixStep;
  let plan: PlanStep[];
  if (report.phase === 'audit' && context?.machine && context.move) {
    const steps = planFromFindings(report.findings, words, { phase: 'audit', fixStepOf });
    const roots = liveRoots(report.findings).filter((finding) => finding.fix);
    const fingerprintsOf = (kind: StepKind): string[] =>
      roots.filter((finding) => finding.fix!.commands.some((command) => stepOf(command, finding.fix!.step ?? fixStepOf(finding.ruleId)) === kind)).map((finding) => finding.fingerprint ?? finding.ruleId);
    const stop = steps.find((step) => step.step === 'Stop the gateway');
    const move = movePlan(context.machine, context.move, words, { stop: stop?.commands ?? [], stopFindings: fingerprintsOf('stop'), copyFindings: fingerprintsOf('copy') }).map((step) => ({
      ...step,
      why: context.mask!(step.why),
      commands: step.commands.map(context.mask!),
    }));
    if (move.length === 0) plan = steps;
    else {
      const before = new Set(['Give the files to the gateway user', 'Set the modes', 'Rewrite the config and its paths', 'Install the runtime']);
      const rest = steps.filter((step) => step.step !== 'Stop the gateway' && step.step !== 'Copy or restore what is missing');
      plan = [move[0]!, ...rest.filter((step) => before.has(step.step)), ...move.slice(1), ...rest.filter((step) => !before.has(step.step))];
    }
  } else plan = planFromFindings(report.findings, words, { phase: report.phase, fixStepOf });
  return {
    ...report,
    summary: count(liveRoots(report.findings)),
    verdicts: verdicts(report.findings, meta),
    ...(meta.size > 0 ? { checked: checkedAreas(report, meta) } : {}),
    plan,
    ...(context?.move ? { move: context.move } : {}),
  };
}
