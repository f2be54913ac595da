import path from 'node:path';
import { NOT_COPIED, TRANSIENT } from '../../knowledge/layout.js';
import { filesOf, hashSkippedOf, inventoryPairs, MTIME_SLACK_MS, sha256Of, snapshotTime, writtenSince, type InventoryPair } from '../../knowledge/baseline.js';
import { matchInstalls, type InstallMatch } from '../../knowledge/baseline-match.js';
import type { FileEntry, Phase, Rule, RuleReport } from '../../model.js';
import { areaOf, noteCutTrees, octal, plural, sample, sh, type Area, cutShort } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/incomplete',
    title: 'Files of the baseline missing or different',
    severity: 'error',
    phases: ['verify', 'inspect'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'copy/config-only', relation: 'names-path-under' }, { rule: 'perms/unreadable', relation: 'names-path-under' }, { rule: 'copy/hidden-omitted', relation: 'inside' }, { rule: 'paths/foreign-home', relation: 'under-old-home' }],
    needsBaseline: true,
    description:
      'Compares every file of the baseline (a snapshot manifest or a backup) with the installs here, matched by their dir relative to the home: files missing here, or with another size, or another sha256 when both sides have one. One finding per install and area (config, credentials, agents/auth, sessions, channels, workspace, other; "other" is a warning). Rebuildable dirs (cache/, tmp/, plugin-skills/, npm/, tools/), logs/, media/, SQLite -wal/-shm and lock files are ignored. A file written here after the snapshot (newer mtime) is an update, not a copy problem, unless it is an append-only transcript that got shorter.',
    why: 'A copy that stopped half-way, a glob that skipped a dir or an old backup restored over new data loses logins, keys and sessions without any error at copy time.',
    fix: 'Re-copy the named areas with `rsync -a` from the old machine (gateway stopped), or make the backup again.',
  },
  check({ phase, machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    if (!baseline) return [];
    const takenAt = snapshotTime(baseline);
    return matchInstalls(baseline, machine).flatMap((match) => reportsFor(match, phase, takenAt));
  },
};
export default rule;

const AREAS: readonly Area[] = ['config', 'credentials', 'agents/auth', 'sessions', 'channels', 'workspace', 'other'];

interface Problem {
  /** absolute path on the baseline machine, and where it belongs here */
  from: string;
  to: string;
  /** path relative to its inventory root */
  relative: string;
  /** the inventory root (baseline, here) */
  rootFrom: string;
  rootTo: string;
  what: string;
  missing: boolean;
}

function describeDifference(old: FileEntry, here: FileEntry): string {
  const older = here.mtimeMs < old.mtimeMs - 1000 ? ', an older copy' : '';
  if (here.size < old.size) return `smaller: ${here.size} bytes, ${old.size} in the baseline${older}`;
  if (here.size > old.size) return `larger: ${here.size} bytes, ${old.size} in the baseline${older}`;
  if (hashSkippedOf(old) === 'secret') {
    const what = here.mode !== old.mode ? `mode ${octal(here.mode)}, ${octal(old.mode)} in the baseline${older}` : 'same size, an older copy';
    return `${what} (a secret file: compared by size, mode and mtime, no hash kept)`;
  }
  return `different content (sha256)${older}`;
}

/**
 * Whether a file here differs from its baseline entry: by sha256 when both have one; a secret-bearing file
 * (the manifest keeps no hash of it, src/manifest/README.md) by size, mode and mtime instead. Only an older
 * mtime counts: a copy that did not keep times is newer, and a file rewritten since is writtenSince's call.
 */
function differsFrom(old: FileEntry, now: FileEntry): boolean {
  if (now.size !== old.size) return true;
  const oldHash = sha256Of(old);
  const nowHash = sha256Of(now);
  if (oldHash !== undefined && nowHash !== undefined) return oldHash !== nowHash;
  if (hashSkippedOf(old) !== 'secret') return false;
  return now.mode !== old.mode || now.mtimeMs < old.mtimeMs - MTIME_SLACK_MS;
}

function areaIn(pair: InventoryPair, relative: string): Area {
  return pair.kind === 'workspace' ? 'workspace' : areaOf(relative);
}

function counted(pair: InventoryPair, entry: FileEntry): boolean {
  return entry.type === 'file' && !TRANSIENT.test(entry.path) && !(pair.kind === 'state' && NOT_COPIED.test(entry.path));
}

/** Baseline files of one inventory pair that are missing here or differ: one map lookup per file when all is well. */
function problemsOf(pair: InventoryPair, takenAt: number | undefined, mapRoot: (root: string) => string): (Problem & { area: Area })[] {
  const here = filesOf(pair.current);
  const rootFrom = pair.baseline.root;
  const rootTo = pair.current?.exists ? pair.current.root : mapRoot(pair.baseline.root);
  const found: (Problem & { area: Area })[] = [];
  for (const old of pair.baseline.entries) {
    if (old.type !== 'file') continue;
    const now = here.get(old.path);
    if (now && (!differsFrom(old, now) || writtenSince(old, now, takenAt))) continue;
    if (!counted(pair, old)) continue;
    const base = { area: areaIn(pair, old.path), from: path.posix.join(rootFrom, old.path), to: path.posix.join(rootTo, old.path), relative: old.path, rootFrom, rootTo };
    found.push(now ? { ...base, what: describeDifference(old, now), missing: false } : { ...base, what: 'missing', missing: true });
  }
  return found;
}

/** How many baseline files each area has (worked out only when something is wrong). */
function areaTotals(pairs: InventoryPair[]): Map<Area, number> {
  const totals = new Map<Area, number>();
  for (const pair of pairs) {
    for (const entry of pair.baseline.entries) {
      if (!counted(pair, entry)) continue;
      const area = areaIn(pair, entry.path);
      totals.set(area, (totals.get(area) ?? 0) + 1);
    }
  }
  return totals;
}

/** rsync commands for the affected top-level items, or the whole dir when they are many. */
function copyCommands(problems: Problem[], phase: Phase, homeFrom: string): string[] {
  const roots = [...new Map(problems.map((problem) => [`${problem.rootFrom}\0${problem.rootTo}`, problem])).values()];
  if (phase === 'inspect') {
    const names = [...new Set(roots.map((problem) => (path.posix.relative(homeFrom, problem.rootFrom).startsWith('..') ? problem.rootFrom : path.posix.relative(homeFrom, problem.rootFrom) || '.')))];
    return ['resonix gateway stop   # on the machine the backup was made on', `tar -C ${sh(homeFrom)} -czf resonix-backup.tgz ${names.map(sh).join(' ')}   # make the backup again, then encrypt it`];
  }
  const commands: string[] = [];
  for (const root of roots) {
    const tops = [...new Set(problems.filter((problem) => problem.rootFrom === root.rootFrom).map((problem) => problem.relative.split('/')[0]!))];
    if (tops.length > 4) {
      commands.push(`rsync -a <old-host>:${sh(`${root.rootFrom}/`)} ${sh(`${root.rootTo}/`)}`);
      continue;
    }
    for (const top of tops) {
      const isDir = problems.some((problem) => problem.rootFrom === root.rootFrom && problem.relative.startsWith(`${top}/`));
      const from = path.posix.join(root.rootFrom, top);
      const to = path.posix.join(root.rootTo, top);
      commands.push(isDir ? `rsync -a <old-host>:${sh(`${from}/`)} ${sh(`${to}/`)}` : `rsync -a <old-host>:${sh(from)} ${sh(to)}`);
    }
  }
  return commands;
}

function reportsFor(match: InstallMatch, phase: Phase, takenAt: number | undefined): RuleReport[] {
  const stateTo = match.current?.stateDir ?? path.posix.join(match.homeMap.to, path.posix.relative(match.homeMap.from, match.baseline.stateDir));
  const mapRoot = (root: string): string =>
    root === match.baseline.stateDir ? stateTo : root.startsWith(`${match.homeMap.from}/`) ? path.posix.join(match.homeMap.to, root.slice(match.homeMap.from.length + 1)) : root;
  // a truncated inventory here cannot show what is missing
  const pairs = inventoryPairs(match).filter((pair) => !cutShort(pair.current));
  const problems = pairs.flatMap((pair) => problemsOf(pair, takenAt, mapRoot));
  if (problems.length === 0) return [];
  const totals = areaTotals(pairs);
  const byArea = new Map<Area, { problems: Problem[]; total: number }>(AREAS.map((area) => [area, { problems: [], total: totals.get(area) ?? 0 }]));
  for (const problem of problems) byArea.get(problem.area)!.problems.push(problem);
  const reports: RuleReport[] = [];
  const arrivedNowhere = !match.current || !match.current.inventory.exists;
  for (const area of AREAS) {
    const bucket = byArea.get(area)!;
    if (bucket.problems.length === 0) continue;
    const missing = bucket.problems.filter((problem) => problem.missing).length;
    const differ = bucket.problems.length - missing;
    const counts = [missing > 0 ? `${missing} missing` : '', differ > 0 ? `${differ} ${differ === 1 ? 'differs' : 'differ'} in size or content` : ''].filter(Boolean).join(', ');
    const renamed = match.renamed ? ` (it arrived renamed, as ${stateTo})` : '';
    const where = arrivedNowhere ? `${match.baseline.stateDir} did not arrive at ${stateTo}` : `in ${stateTo}${renamed}`;
    const firstTop = bucket.problems[0]!;
    const sameTop = bucket.problems.every((problem) => problem.rootTo === firstTop.rootTo && problem.relative.split('/')[0] === firstTop.relative.split('/')[0]);
    const targetPath = sameTop && firstTop.relative.includes('/') ? path.posix.join(firstTop.rootTo, firstTop.relative.split('/')[0]!) : firstTop.rootTo;
    reports.push({
      ...(area === 'other' ? { severity: 'warning' as const } : {}),
      message: `${area}: ${bucket.problems.length} of the baseline's ${plural(bucket.total, 'file')} did not arrive intact (${counts}) ${where}.`,
      path: targetPath,
      install: match.current?.id ?? stateTo,
      evidence: sample(bucket.problems.map((problem) => `${problem.to}: ${problem.what}`), 6),
      fix: {
        summary:
          phase === 'inspect'
            ? `This backup lacks part of ${area}: make it again with the gateway stopped.`
            : `Copy ${area} again from the old machine with its gateway stopped (rsync -a keeps modes, owners and dot-files).`,
        commands: copyCommands(bucket.problems, phase, match.homeMap.from),
      },
    });
  }
  return reports;
}
