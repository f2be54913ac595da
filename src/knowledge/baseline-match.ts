// Pairs the installs of a baseline Machine (a manifest or an archive, usually from the old machine) with
// the installs of the current one. Homes may move (/Users/alice → /home/alice): installs are matched by
// their dir relative to the home (.resonix, .resonix-work), and a profile dir that was renamed on the way
// (.resonix-work → .resonix-job) is recognised by the shape of its config and inventory. Pure: no IO.
import path from 'node:path';
import { isStrictlyInside } from './paths.js';
import { NOT_COPIED } from './layout.js';
import type { FileInventory, Home, Install, Machine, Workspace } from '../model.js';

export interface HomeMap {
  /** the home on the baseline machine */
  from: string;
  /** the home on this machine */
  to: string;
}

export interface InstallMatch {
  baseline: Install;
  /** the install here; undefined when none arrived */
  current?: Install;
  homeMap: HomeMap;
  /** the dir arrived under another name: its old name is absent here and this one has the same shape */
  renamed?: boolean;
}

export interface WorkspaceMatch {
  baseline: Workspace;
  current?: Workspace;
}

/** The old absolute path moved into the new home; paths outside the old home are returned as they are. */
export function mapPath(oldAbsolutePath: string, homeMap: HomeMap): string {
  const from = homeMap.from.replace(/\/+$/, '') || '/';
  if (from === '/') return oldAbsolutePath;
  if (oldAbsolutePath === from) return homeMap.to;
  if (oldAbsolutePath.startsWith(`${from}/`)) return path.posix.join(homeMap.to, oldAbsolutePath.slice(from.length + 1));
  return oldAbsolutePath;
}

function fileSet(inventory: FileInventory): Set<string> {
  return new Set(inventory.entries.filter((entry) => entry.type === 'file' && !NOT_COPIED.test(entry.path)).map((entry) => entry.path));
}

function holdsFiles(install: Install): boolean {
  return install.inventory.exists && install.inventory.entries.some((entry) => entry.type === 'file');
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared += 1;
  return shared / (a.size + b.size - shared);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  const left = [...new Set(a)].sort();
  const right = [...new Set(b)].sort();
  return left.length === right.length && left.every((item, index) => item === right[index]);
}

/** Same gateway mode, agent ids and channels. */
function sameConfigShape(a: Install, b: Install): boolean {
  return (
    a.config.exists === b.config.exists &&
    (a.config.gatewayMode ?? '') === (b.config.gatewayMode ?? '') &&
    sameList(
      a.config.agents.map((agent) => agent.id),
      b.config.agents.map((agent) => agent.id),
    ) &&
    sameList(a.config.channels, b.config.channels)
  );
}

/** How alike two installs are, 0..1; 0 when they cannot be the same state dir. */
export function installSimilarity(a: Install, b: Install): number {
  if (!holdsFiles(a) || !holdsFiles(b)) return 0;
  const files = jaccard(fileSet(a.inventory), fileSet(b.inventory));
  const config = sameConfigShape(a, b);
  if (config && files >= 0.5) return files;
  if (!config && files >= 0.8) return files * 0.9;
  return 0;
}

/** The key an install is matched by: its dir relative to the home, or its absolute path when outside the home. */
function keyOf(stateDir: string, homePath: string): string {
  return isStrictlyInside(stateDir, homePath) ? path.posix.relative(homePath, stateDir) : stateDir;
}

function pairHomes(baseline: Machine, current: Machine): Map<Home, Home | undefined> {
  const pairs = new Map<Home, Home | undefined>();
  const taken = new Set<Home>();
  const pick = (home: Home, test: (candidate: Home) => boolean): boolean => {
    const found = current.homes.find((candidate) => !taken.has(candidate) && test(candidate));
    if (!found) return false;
    pairs.set(home, found);
    taken.add(found);
    return true;
  };
  for (const home of baseline.homes) pick(home, (candidate) => candidate.path === home.path);
  for (const home of baseline.homes) {
    if (pairs.has(home)) continue;
    if (home.user && pick(home, (candidate) => candidate.user === home.user)) continue;
    if (pick(home, (candidate) => path.posix.basename(candidate.path) === path.posix.basename(home.path))) continue;
    if (pick(home, () => true)) continue;
    pairs.set(home, undefined);
  }
  return pairs;
}

/**
 * Every baseline install with the install here that holds its data: same dir relative to the home
 * (after mapping the home), else a renamed dir of the same shape (renamed: true), else none (current
 * undefined, or the empty dir that stands at the old name).
 */
export function matchInstalls(baseline: Machine, current: Machine): InstallMatch[] {
  // the same pair is matched once per run, however many rules ask (Machines are not changed while rules run)
  let byCurrent = matchCache.get(baseline);
  if (!byCurrent) matchCache.set(baseline, (byCurrent = new WeakMap()));
  let matches = byCurrent.get(current);
  if (!matches) byCurrent.set(current, (matches = computeMatches(baseline, current)));
  return [...matches];
}

const matchCache = new WeakMap<Machine, WeakMap<Machine, InstallMatch[]>>();

function computeMatches(baseline: Machine, current: Machine): InstallMatch[] {
  const matches: InstallMatch[] = [];
  for (const [baseHome, curHome] of pairHomes(baseline, current)) {
    const homeMap: HomeMap = { from: baseHome.path, to: curHome?.path ?? baseHome.path };
    const candidates = curHome?.installs ?? [];
    const byKey = new Map(candidates.map((install) => [keyOf(install.stateDir, homeMap.to), install]));
    const claimed = new Set<Install>();
    const pending: { install: Install; atName?: Install }[] = [];
    for (const install of baseHome.installs) {
      const key = keyOf(mapPath(install.stateDir, homeMap), homeMap.to);
      const found = byKey.get(key);
      if (found && (holdsFiles(found) || !holdsFiles(install))) {
        claimed.add(found);
        matches.push({ baseline: install, current: found, homeMap });
      } else {
        pending.push({ install, ...(found && found.inventory.exists ? { atName: found } : {}) });
      }
    }
    for (const { install, atName } of pending) {
      // a renamed profile dir: its old name is absent (or empty) here, another dir nobody claimed has its shape
      let best: { install: Install; score: number } | undefined;
      for (const candidate of candidates) {
        if (claimed.has(candidate) || candidate === atName) continue;
        if (baseHome.installs.some((other) => other !== install && keyOf(mapPath(other.stateDir, homeMap), homeMap.to) === keyOf(candidate.stateDir, homeMap.to))) continue;
        const score = installSimilarity(install, candidate);
        if (score > 0 && (!best || score > best.score)) best = { install: candidate, score };
      }
      if (best) {
        claimed.add(best.install);
        matches.push({ baseline: install, current: best.install, homeMap, renamed: true });
      } else {
        matches.push({ baseline: install, ...(atName ? { current: atName } : {}), homeMap });
      }
    }
  }
  return matches;
}

/** The match whose current install is `install`, if any. */
export function matchFor(matches: readonly InstallMatch[], install: Install): InstallMatch | undefined {
  return matches.find((match) => match.current === install);
}

/** Pairs the workspaces of two matched installs: by agent id, else by the mapped path. */
export function matchWorkspaces(baseline: Install, current: Install | undefined, homeMap: HomeMap): WorkspaceMatch[] {
  const available = [...(current?.workspaces ?? [])];
  const matches = baseline.workspaces.map((workspace): WorkspaceMatch => {
    let index = available.findIndex((candidate) => candidate.agentId === workspace.agentId);
    if (index < 0) index = available.findIndex((candidate) => candidate.path === mapPath(workspace.path, homeMap));
    if (index < 0) return { baseline: workspace };
    const [found] = available.splice(index, 1);
    return { baseline: workspace, current: found! };
  });
  // past the agent limit this scan looked at no workspace: an unmatched one of an agent it did not look at
  // is unknown here, not missing (the scan already says how many agents it left unchecked)
  if (!current?.config.agentsOmitted) return matches;
  const looked = new Set(current.config.agents.map((agent) => agent.id));
  return matches.filter((match) => match.current !== undefined || match.baseline.agentId === undefined || looked.has(match.baseline.agentId));
}

/** True when `workspace` lives inside its install's state dir (its files are then in the install's inventory too). */
export function workspaceInsideState(install: Install, workspace: Workspace): boolean {
  return isStrictlyInside(workspace.path, install.stateDir);
}
