import type { FileEntry, FileInventory, FixAction, GatewayUser, Rule, RuleReport } from '../../model.js';
import { EXEC, READ, describeUser, installsOf, ownTrees, joinPath, octal, plural, sample, sh, userMay } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'perms/unreadable',
    title: 'Gateway user cannot read its state',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'ownership',
    causedBy: [{ rule: 'perms/wrong-owner', relation: 'inside' }],
    description: 'Follows mode bits and owners down the state dir and workspaces, as the gateway user, and reports the first place it is locked out of.',
    why: 'A gateway that cannot read its credentials or sessions fails to start or silently drops channels.',
    fix: 'chmod/chown the listed paths so the gateway user can read them.',
    autofix: true,
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const user = home.gatewayUser;
      const inventories = ownTrees(install);
      for (const inventory of inventories) {
        if (!inventory.exists) continue;
        // a tree this process could not list, owned by another user: perms/wrong-owner reports it once, with the
        // chown that opens it; inside it nothing is known, so nothing more is said
        if (inventory.unseen && user.uid !== 0 && inventory.entries.find((entry) => entry.path === '')?.uid !== user.uid) continue;
        const blocked = blockedEntries(inventory, user);
        if (blocked.length === 0) continue;
        const repairs = blocked.map(({ entry }) => repair(inventory.root, entry, user));
        const hidden = blocked.reduce((sum, item) => sum + item.hidden, 0);
        reports.push({
          message: `${describeUser(user)}, who runs the gateway, cannot read ${plural(blocked.length, 'path')} under ${inventory.root}${hidden > 0 ? ` (and ${hidden} entries below them)` : ''}.`,
          path: joinPath(inventory.root, blocked[0]!.entry.path),
          install: install.id,
          evidence: sample(blocked.map(({ entry }) => `${octal(entry.mode)} uid ${entry.uid} ${joinPath(inventory.root, entry.path)}`)),
          fix: { summary: 'Let the gateway user read them.', commands: repairs.map((item) => item.command), actions: repairs.map((item) => item.action) },
        });
      }
    }
    return reports;
  },
};
export default rule;

function parentOf(relativePath: string): string | undefined {
  if (relativePath === '') return undefined;
  const slash = relativePath.lastIndexOf('/');
  return slash === -1 ? '' : relativePath.slice(0, slash);
}

/**
 * The entries ordered by depth (the number of path segments, '' and top-level names alike counting one),
 * keeping the inventory's order within a depth: a stable sort, done by bucketing with each depth computed
 * once. Parents come before their children whatever order the inventory is in (a manifest, an archive).
 */
function byDepth(entries: FileEntry[]): FileEntry[] {
  const buckets: FileEntry[][] = [];
  for (const entry of entries) {
    const path = entry.path;
    let depth = 0;
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) depth++;
    (buckets[depth] ??= []).push(entry);
  }
  const sorted: FileEntry[] = [];
  for (const bucket of buckets) if (bucket) for (const entry of bucket) sorted.push(entry);
  return sorted;
}

/** Entries the user cannot open although it can reach their parent: the top of each blocked subtree. */
export function blockedEntries(inventory: FileInventory, user: GatewayUser): { entry: FileEntry; hidden: number }[] {
  const open = new Map<string, boolean>();
  const blocked: { entry: FileEntry; hidden: number }[] = [];
  const byTop = new Map<string, { entry: FileEntry; hidden: number }>();
  const sorted = byDepth(inventory.entries);
  // siblings come one after another: their parent's state is looked up once for the run, not sliced out of
  // each path and hashed again (kept in step should the parent's path be set again meanwhile)
  let lastParent: string | undefined;
  let lastParentOpen = false;
  // nothing is reached through a non-directory (ENOTDIR), so only directories are remembered: a 1M-entry
  // inventory needs no 1M-key map. A non-directory listed again under a directory's path (a hostile archive)
  // replaces it, as extracting it would.
  const remember = (entry: FileEntry, value: boolean): void => {
    const isDir = entry.type === 'dir';
    if (!isDir && !open.has(entry.path)) return;
    open.set(entry.path, isDir && value);
    if (entry.path === lastParent) lastParentOpen = isDir && value;
  };
  for (const entry of sorted) {
    const relativePath = entry.path;
    let parentOpen = true;
    if (relativePath !== '') {
      const slash = relativePath.lastIndexOf('/');
      const parentLength = slash === -1 ? 0 : slash;
      if (lastParent === undefined || lastParent.length !== parentLength || (slash !== -1 && !relativePath.startsWith(lastParent))) {
        lastParent = slash === -1 ? '' : relativePath.slice(0, slash);
        lastParentOpen = open.get(lastParent) ?? false;
      }
      parentOpen = lastParentOpen;
    }
    if (!parentOpen) {
      let top = parentOf(relativePath);
      while (top !== undefined && !byTop.has(top)) top = parentOf(top);
      const holder = top !== undefined ? byTop.get(top) : undefined;
      if (holder) holder.hidden += 1;
      remember(entry, false);
      continue;
    }
    if (entry.type === 'symlink' || entry.type === 'fifo' || entry.type === 'socket' || entry.type === 'char' || entry.type === 'block') {
      remember(entry, false);
      continue;
    }
    const ok = entry.type === 'dir' ? userMay(entry, user, READ) && userMay(entry, user, EXEC) : userMay(entry, user, READ);
    remember(entry, ok);
    if (!ok) {
      const record = { entry, hidden: 0 };
      blocked.push(record);
      byTop.set(entry.path, record);
    }
  }
  return blocked;
}

function repair(root: string, entry: FileEntry, user: GatewayUser): { command: string; action: FixAction } {
  const target = joinPath(root, entry.path);
  if (entry.uid !== user.uid) {
    const recursive = entry.type === 'dir';
    return {
      command: `sudo chown ${recursive ? '-R ' : ''}${user.uid}:${user.gid} ${sh(target)}`,
      action: { kind: 'chown', path: target, uid: user.uid, gid: user.gid, ...(recursive ? { recursive } : {}) },
    };
  }
  const mode = entry.mode | (entry.type === 'dir' ? 0o700 : 0o600);
  return { command: `chmod ${octal(mode).replace(/^0(?=[0-7]{3}$)/, '')} ${sh(target)}`, action: { kind: 'chmod', path: target, mode } };
}
