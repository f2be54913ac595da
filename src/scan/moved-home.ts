// A home that moved to another path (reference §12): the state names the old home everywhere (sessionFile,
// agents.*.workspace, plugin-skills links, the units' HOME and ExecStart), and the files are here under this home
// with the same tails. Recognised from the paths themselves, whatever the old prefix (/srv/<u>, /data/…, a mounted
// disk): a missing absolute path whose tail exists under this home, a unit's HOME=, a sessionFile whose transcript
// arrived. Bounded: at most MAX_CANDIDATES paths, MAX_DEPTH tails each.
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../knowledge/paths.js';
import type { Home, Install, OldHome, ServiceUnit } from '../model.js';
import { hostPathInRoot } from './links.js';

const MAX_CANDIDATES = 200;
const MAX_DEPTH = 12;
const MAX_ARRIVED = 5;

function exists(root: string, machinePath: string): boolean {
  try {
    fs.lstatSync(hostPathInRoot(root, machinePath));
    return true;
  } catch {
    return false;
  }
}

/** Absolute paths the state and units of a home record, each once (secret-valued config keys left out). */
function candidatePaths(installs: Install[], services: ServiceUnit[]): string[] {
  const found = new Set<string>();
  const add = (value: string | undefined): void => {
    if (value && value.startsWith('/') && !value.includes('{') && found.size < MAX_CANDIDATES) found.add(path.posix.normalize(value));
  };
  for (const install of installs) {
    const secret = (key: string): boolean => install.config.inlineSecretKeys.some((item) => key === item || key.startsWith(`${item}.`) || key.startsWith(`${item}[`));
    for (const { key, value } of install.config.paths) if (!secret(key)) add(value);
    for (const refs of install.sessionRefs ?? []) for (const value of refs.skillPaths) add(value);
    for (const inventory of [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]) {
      for (const entry of inventory.entries) if (entry.type === 'symlink' && entry.linkTarget) add(entry.linkTarget);
    }
  }
  for (const unit of services) for (const word of unit.execStart) add(word);
  return [...found];
}

/**
 * The shortest prefix of `absolute` (one segment or more) whose tail exists under `home`:
 * /srv/alice/work/agent-main with /home/alice/work/agent-main here → /srv/alice.
 */
export function oldPrefixOf(root: string, home: string, absolute: string): { prefix: string; to: string } | undefined {
  const parts = absolute.split('/').filter(Boolean);
  for (let k = 1; k < Math.min(parts.length, MAX_DEPTH + 1); k++) {
    const tail = parts.slice(k).join('/');
    const here = path.posix.join(home, tail);
    if (exists(root, here)) return { prefix: `/${parts.slice(0, k).join('/')}`, to: here };
  }
  return undefined;
}

/** The old home prefixes of one home, from its installs' paths, its units and the sessionFiles that arrived. */
export function detectOldHomes(root: string, home: string, ownHomes: string[], installs: Install[], services: ServiceUnit[]): OldHome[] {
  const byPrefix = new Map<string, OldHome>();
  const note = (prefix: string, how: OldHome['how'][number], arrived?: { from: string; to: string }): void => {
    if (prefix === '/' || ownHomes.some((own) => isInside(prefix, own) || isInside(own, prefix))) return;
    const old = byPrefix.get(prefix) ?? { prefix, how: [], arrived: [] };
    if (!old.how.includes(how)) old.how.push(how);
    if (arrived && old.arrived.length < MAX_ARRIVED && !old.arrived.some((item) => item.from === arrived.from)) old.arrived.push(arrived);
    byPrefix.set(prefix, old);
  };
  for (const unit of services) {
    const unitHome = unit.env.HOME;
    if (unitHome && unitHome.startsWith('/') && !ownHomes.includes(path.posix.normalize(unitHome))) note(path.posix.normalize(unitHome), 'unit-home');
  }
  for (const install of installs) {
    for (const refs of install.sessionRefs ?? []) {
      for (const moved of refs.relocated ?? []) {
        // the old state dir's parent is the old home when the state dir is in the home
        const oldHome = isInside(install.stateDir, home) ? moved.from : path.posix.dirname(moved.from);
        note(oldHome, 'tail', { from: moved.from, to: isInside(install.stateDir, home) ? home : install.stateDir });
      }
    }
  }
  for (const candidate of candidatePaths(installs, services)) {
    if (ownHomes.some((own) => isInside(candidate, own)) || exists(root, candidate)) continue;
    const known = [...byPrefix.keys()].find((prefix) => isInside(candidate, prefix));
    if (known) {
      const here = path.posix.join(home, path.posix.relative(known, candidate));
      if (exists(root, here)) note(known, 'tail', { from: candidate, to: here });
      continue;
    }
    const found = oldPrefixOf(root, home, candidate);
    if (found) note(found.prefix, 'tail', { from: candidate, to: found.to });
  }
  return [...byPrefix.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
}

/** Marks workspaces configured under an old home prefix whose tail arrived under this home. */
export function markArrivedWorkspaces(root: string, home: Home): void {
  for (const install of home.installs) {
    for (const workspace of install.workspaces) {
      if (workspace.inventory.exists) continue;
      const old = home.oldHomes?.find((candidate) => isInside(workspace.path, candidate.prefix));
      if (!old) continue;
      const here = path.posix.join(home.path, path.posix.relative(old.prefix, workspace.path));
      if (exists(root, here)) workspace.arrivedAt = here;
    }
  }
}
