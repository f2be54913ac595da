import path from 'node:path';
import { matchInstalls, matchWorkspaces, type InstallMatch } from '../../knowledge/baseline-match.js';
import type { FileEntry, FileInventory, Machine, Rule, RuleReport } from '../../model.js';
import { mayHoldData, noteCutTrees, plural, sample, sh, cutShort } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/hidden-omitted',
    title: 'Dot-dirs were left out of the copy',
    severity: 'error',
    phases: ['verify', 'image', 'inspect'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'perms/unreadable', relation: 'holds-state-dir' }],
    description:
      'Agent workspaces arrived but no .resonix/ state dir did: the copy used `cp ~/*`, `tar czf x.tgz *` or similar, which skip dot-entries. With a baseline: dot-entries at the top of a state dir or workspace there (.env, workspace .git/ and .resonix/) that are missing here although the dir arrived.',
    why: 'Shell globs skip names that start with a dot, so the state dir (config, credentials, sessions), its .env (API keys) and the workspaces\' git history and state silently stay behind.',
    fix: 'Copy with `rsync -a` or name the dot-dirs explicitly: `tar -C ~ -czf resonix.tgz .resonix`.',
  },
  check({ machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      if (home.installs.some(mayHoldData) || home.workspaceDirs.length === 0) continue;
      reports.push({
        message: `Workspace dirs arrived in ${home.path}, but no .resonix state dir did: the copy skipped dot-dirs.`,
        path: home.path,
        evidence: home.workspaceDirs.map((workspace) => `${workspace.path} (${workspace.markers.join(', ')})`),
        fix: {
          summary: 'Copy the state dir itself; shell globs like * skip it.',
          commands: [`rsync -a <old-host>:${sh(home.path)}/.resonix/ ${sh(home.path)}/.resonix/`, `tar -C ${sh(home.path)} -czf resonix.tgz .resonix   # on the old machine`],
          alternatives: true,
        },
      });
    }
    if (baseline) reports.push(...baselineReports(machine, baseline));
    return reports;
  },
};
export default rule;

/** Dot-entries nobody misses: Finder metadata, editor swap files, temp and lock files. */
const UNIMPORTANT = /^(\.DS_Store|\.localized|\._.*|\.Trash(es)?|\.Spotlight-V100|\.fseventsd|.*\.(swp|swo|tmp|lock))$/;

/** Top-level dot-entries of an inventory (.env, .git, .resonix, …): what `cp dir/*` and `tar … *` skip. */
function topLevelDotEntries(inventory: FileInventory): FileEntry[] {
  if (!inventory.exists) return [];
  return inventory.entries.filter((entry) => entry.path.charCodeAt(0) === 0x2e && !entry.path.includes('/') && !UNIMPORTANT.test(entry.path));
}

interface Omission {
  from: string;
  to: string;
  type: FileEntry['type'];
}

function omissions(baseline: FileInventory, current: FileInventory | undefined): Omission[] {
  if (!current?.exists) return [];
  const here = new Set(topLevelDotEntries(current).map((entry) => entry.path));
  return topLevelDotEntries(baseline)
    .filter((entry) => !here.has(entry.path))
    .map((entry) => ({ from: path.posix.join(baseline.root, entry.path), to: path.posix.join(current.root, entry.path), type: entry.type }));
}

function shown(item: Omission): string {
  return item.type === 'dir' ? `${item.to}/` : item.to;
}

function copyCommand(item: Omission): string {
  return item.type === 'dir' ? `rsync -a <old-host>:${sh(`${item.from}/`)} ${sh(`${item.to}/`)}` : `rsync -a <old-host>:${sh(item.from)} ${sh(item.to)}`;
}

/** Baseline part: dot-entries at the top of a state dir or workspace that arrived without them. */
function baselineReports(machine: Machine, baseline: Machine): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists) continue;
    const missing = [...(cutShort(current.inventory) ? [] : omissions(match.baseline.inventory, current.inventory)), ...workspaceOmissions(match)];
    if (missing.length === 0) continue;
    reports.push({
      message: `${plural(missing.length, 'dot-entry', 'dot-entries')} of the old machine did not arrive with ${current.stateDir} and its workspaces (${[...new Set(missing.map((item) => path.posix.basename(item.to)))].join(', ')}): the copy skipped names starting with a dot.`,
      path: missing[0]!.to,
      install: current.id,
      evidence: sample(missing.map(shown), 8),
      fix: {
        summary: 'Copy the dot-entries too; shell globs like * skip them (rsync -a does not).',
        commands: missing.slice(0, 6).map(copyCommand),
      },
    });
  }
  return reports;
}

function workspaceOmissions(match: InstallMatch): Omission[] {
  const found: Omission[] = [];
  for (const pair of matchWorkspaces(match.baseline, match.current, match.homeMap)) {
    if (!pair.current || cutShort(pair.current.inventory)) continue;
    found.push(...omissions(pair.baseline.inventory, pair.current.inventory));
  }
  return found;
}
