// The diagnosis stage, between rules and reporters. Each rule reports what it sees; its metadata says which
// other rules' findings its findings may follow from (`causedBy`, a closed set of relations). Here a finding
// that follows from another is folded under it, chains resolve to the ultimate root cause, and the summary,
// the two verdicts and "what was checked" are counted from root findings only. Pure: no IO.
import { isInside } from './knowledge/paths.js';
import {
  AREAS,
  CAUSE_RELATIONS,
  SEVERITY_RANK,
  type Area,
  type CauseRelation,
  type CheckedArea,
  type Counts,
  type Finding,
  type Report,
  type Rule,
  type RuleMeta,
  type Verdict,
} from './model.js';

export class CauseDeclarationError extends Error {}

/**
 * Checks every rule's `causedBy`: known relations, known rules, never itself, and no cycle (a finding could
 * otherwise be its own root). Throws CauseDeclarationError naming the rules.
 */
export function validateCauses(rules: readonly Rule[]): void {
  const byId = new Map(rules.map((rule) => [rule.meta.id, rule.meta]));
  for (const { meta } of rules) {
    for (const cause of meta.causedBy ?? []) {
      if (!CAUSE_RELATIONS.includes(cause.relation)) throw new CauseDeclarationError(`${meta.id}: unknown cause relation "${String(cause.relation)}"`);
      if (cause.rule === meta.id) throw new CauseDeclarationError(`${meta.id}: a rule cannot be caused by itself`);
      if (!byId.has(cause.rule)) throw new CauseDeclarationError(`${meta.id}: caused by unknown rule "${cause.rule}"`);
    }
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new CauseDeclarationError(`cause declarations form a cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' → ')}`);
    state.set(id, 'visiting');
    for (const cause of byId.get(id)?.causedBy ?? []) visit(cause.rule, [...trail, id]);
    state.set(id, 'done');
  };
  for (const { meta } of rules) visit(meta.id, []);
}

/** `text` names exactly `target` (not a path below it, not a longer name). */
function namesPath(text: string, target: string): boolean {
  const trimmed = target.replace(/\/+$/, '');
  if (trimmed === '') return false;
  let from = text.indexOf(trimmed);
  while (from !== -1) {
    const before = from === 0 ? '' : text[from - 1]!;
    const after = text[from + trimmed.length] ?? '';
    if (!/[\w.\/-]/.test(before) && !/[\w\/-]/.test(after) && !(after === '.' && /[\w]/.test(text[from + trimmed.length + 1] ?? ''))) return true;
    from = text.indexOf(trimmed, from + 1);
  }
  return false;
}

// an absolute path in running text: not the tail of a longer word, a URL or a relative path
const ABSOLUTE_PATH = /(?<![\w.~:\/\\-])\/[^\s,;()'"`]+/g;

function absolutePathsIn(text: string): string[] {
  return [...text.matchAll(ABSOLUTE_PATH)].map((match) => match[0].replace(/[.:]+$/, '')).filter((item) => item !== '/');
}

/** The absolute paths a finding names: in its evidence, else in its message, else its own path. */
function pathsNamedBy(finding: Finding): string[] {
  const inEvidence = (finding.evidence ?? []).flatMap(absolutePathsIn);
  if (inEvidence.length > 0) return inEvidence;
  const inMessage = absolutePathsIn(finding.message);
  if (inMessage.length > 0) return inMessage;
  return finding.path !== undefined ? [finding.path] : [];
}

/** Every path the finding names lies under one of `prefixes` (and it names one). */
function namesOnlyPathsUnder(finding: Finding, prefixes: readonly string[]): boolean {
  const named = pathsNamedBy(finding);
  return prefixes.length > 0 && named.length > 0 && named.every((item) => prefixes.some((prefix) => prefix.replace(/\/+$/, '') !== '' && isInside(item, prefix.replace(/\/+$/, ''))));
}

/** Does `relation` hold between a finding and the finding that may cause it? */
export function relationHolds(relation: CauseRelation, finding: Finding, cause: Finding): boolean {
  switch (relation) {
    case 'inside':
      return finding.path !== undefined && cause.path !== undefined && isInside(finding.path, cause.path);
    case 'same-path':
      return finding.path !== undefined && finding.path === cause.path;
    case 'contains':
      return finding.path !== undefined && cause.path !== undefined && isInside(cause.path, finding.path);
    case 'same-install':
      return finding.install !== undefined && finding.install === cause.install;
    case 'holds-state-dir':
      return (
        finding.path !== undefined &&
        cause.path !== undefined &&
        cause.install !== undefined &&
        isInside(cause.path, cause.install) &&
        cause.install !== finding.path &&
        isInside(cause.install, finding.path)
      );
    case 'names-path-under':
      return cause.path !== undefined && namesOnlyPathsUnder(finding, [cause.path]);
    case 'under-old-home':
      return namesOnlyPathsUnder(finding, cause.oldHomes ?? []);
    case 'named-by':
      return finding.path !== undefined && cause.path !== finding.path && [cause.message, ...(cause.evidence ?? [])].some((text) => namesPath(text, finding.path!));
  }
}

const keyOf = (finding: Finding): string => finding.fingerprint ?? `${finding.ruleId}\0${finding.path ?? ''}\0${finding.message}`;

/**
 * Folds every finding that follows from another under its ultimate root cause: a folded finding gets
 * `causedBy` (the root's fingerprint). Findings keep their order; nothing is dropped. The first declared
 * cause that holds wins, and of its findings the first in report order.
 */
export function diagnose(findings: readonly Finding[], rules: readonly Rule[]): Finding[] {
  const meta = new Map(rules.map((rule) => [rule.meta.id, rule.meta]));
  const byRule = new Map<string, Finding[]>();
  const byKey = new Map<string, Finding>();
  for (const finding of findings) {
    const group = byRule.get(finding.ruleId);
    if (group) group.push(finding);
    else byRule.set(finding.ruleId, [finding]);
    byKey.set(keyOf(finding), finding);
  }
  const parent = new Map<Finding, Finding>();
  for (const finding of findings) {
    // folded before the diagnosis (doctor's findings that say what ours say): kept, then followed to the root
    const given = finding.causedBy === undefined ? undefined : byKey.get(finding.causedBy);
    if (given && given !== finding) {
      parent.set(finding, given);
      continue;
    }
    // a crashed rule judged nothing: it is its own finding
    if (finding.message.startsWith('The rule crashed')) continue;
    for (const declaration of meta.get(finding.ruleId)?.causedBy ?? []) {
      const cause = (byRule.get(declaration.rule) ?? []).find((candidate) => candidate !== finding && relationHolds(declaration.relation, finding, candidate));
      if (cause) {
        parent.set(finding, cause);
        break;
      }
    }
  }
  const rootOf = (finding: Finding): Finding => {
    let current = finding;
    // declarations are acyclic (validateCauses), so a chain ends; the bound guards a plugin's Rule set never validated
    for (let hops = 0; parent.has(current) && hops <= findings.length; hops++) current = parent.get(current)!;
    return current;
  };
  return findings.map((finding) => {
    const { causedBy: _ignored, ...rest } = finding;
    const root = rootOf(finding);
    return root === finding ? rest : { ...rest, causedBy: keyOf(root) };
  });
}

export const isRoot = (finding: Finding): boolean => finding.causedBy === undefined;

/** Unsuppressed root findings: what the summary, the verdicts, gating and the plan count. */
export function liveRoots(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => !finding.suppressed && isRoot(finding));
}

export function count(findings: readonly Finding[]): Counts {
  const counts = { error: 0, warning: 0, info: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

export function verdictOf(ruleId: string, meta: ReadonlyMap<string, RuleMeta>): Verdict {
  return meta.get(ruleId)?.verdict ?? 'migration';
}

export function verdicts(findings: readonly Finding[], meta: ReadonlyMap<string, RuleMeta>): Record<Verdict, Counts> {
  const roots = liveRoots(findings);
  return {
    migration: count(roots.filter((finding) => verdictOf(finding.ruleId, meta) === 'migration')),
    hygiene: count(roots.filter((finding) => verdictOf(finding.ruleId, meta) === 'hygiene')),
  };
}

/** What an area is, where something in it is wrong or was not checked. */
const AREA_LABEL: Record<Area, string> = {
  state: 'state dir',
  config: 'config',
  agents: 'agents and workspaces',
  channels: 'channel logins',
  sessions: 'sessions',
  service: 'service',
  versions: 'Node and Resonix versions',
  secrets: 'secrets, backups and old gateways',
};

const AREA_TEXT: Record<Area, string> = {
  state: 'state dir found, readable and owned by the gateway user',
  config: 'config valid, its paths and includes on this machine',
  agents: 'agents and workspaces present',
  channels: 'channel logins present',
  sessions: 'sessions intact',
  service: 'service matches the profile that holds the data',
  versions: 'Node and Resonix versions supported',
  secrets: 'no exposed secrets, plain backups or second live gateway',
};

/**
 * One line per area that some rule of it ran for: ok when it found nothing at warning or error level;
 * error/warning by the worst live root finding; not-checked when only folded findings are there (their cause
 * hid what would be judged) or every rule of the area was skipped.
 */
export function checkedAreas(report: Pick<Report, 'findings' | 'rules'>, meta: ReadonlyMap<string, RuleMeta>): CheckedArea[] {
  const run = new Set(report.rules.run);
  // a rule of another phase was not skipped: it does not apply here
  const skipped = new Set(report.rules.skipped.filter((item) => !/^not an? \w+ rule$/.test(item.reason)).map((item) => item.id));
  const lines: CheckedArea[] = [];
  for (const area of AREAS) {
    const ids = [...meta.values()].filter((item) => item.area === area).map((item) => item.id);
    const ran = ids.filter((id) => run.has(id));
    if (ran.length === 0) {
      if (ids.some((id) => skipped.has(id))) lines.push({ area, status: 'not-checked', text: `${AREA_LABEL[area]}: not checked (its rules were skipped)` });
      continue;
    }
    const live = report.findings.filter((finding) => !finding.suppressed && ran.includes(finding.ruleId) && finding.severity !== 'info');
    const roots = live.filter(isRoot);
    const worst = roots.reduce<Finding | undefined>((top, finding) => (!top || SEVERITY_RANK[finding.severity] > SEVERITY_RANK[top.severity] ? finding : top), undefined);
    if (worst) {
      const ruleIds = [...new Set(roots.map((finding) => finding.ruleId))];
      lines.push({ area, status: worst.severity === 'error' ? 'error' : 'warning', text: `${AREA_LABEL[area]}: ${ruleIds.join(', ')}` });
    } else if (live.length > 0) {
      lines.push({ area, status: 'not-checked', text: `${AREA_LABEL[area]}: not judged, because of a cause above` });
    } else {
      lines.push({ area, status: 'ok', text: AREA_TEXT[area] });
    }
  }
  return lines;
}

/** The rule metadata by id, for reports built outside the engine. */
export function metaById(rules: readonly Rule[]): Map<string, RuleMeta> {
  return new Map(rules.map((rule) => [rule.meta.id, rule.meta]));
}
