import type { FileEntry, FileInventory, FixAction, GatewayUser, Rule, RuleReport } from '../../model.js';
import { EXEC, READ, describeUser, installsOf, ownTrees, joinPath, octal, plural, SAMPLE, sampleOf, sh, userMay } from '../lib.js';

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
          evidence: sampleOf(
            blocked.slice(0, SAMPLE).map(({ entry }) => `${octal(entry.mode)} uid ${entry.uid} ${joinPath(inventory.root, entry.path)}`),
            blocked.length,
          ),
          fix: { summary: 'Let the gateway user read them.', commands: repairs.map((item) => item.command), actions: repairs.map((item) => item.action) },
        });
      }
    }
    return reports;
  },
};
export default rule;

type Blocked = { entry: FileEntry; hidden: number };

/**
 * Entries the user cannot open although it can reach their parent: the top of each blocked subtree, with the
 * number of entries below it. They come in depth order (the number of path segments, '' and top-level names
 * alike counting one), the inventory's order within a depth: parents are judged before their children
 * whatever order the inventory is in (a manifest, an archive).
 */
export function blockedEntries(inventory: FileInventory, user: GatewayUser): Blocked[] {
  // root reads every file and enters every directory (userMay): nothing is blocked, in any order
  if (user.uid === 0) return [];
  return blockedInListedOrder(inventory.entries, user) ?? blockedInDepthOrder(inventory.entries, user);
}

const isSpecial = (entry: FileEntry): boolean => entry.type === 'symlink' || entry.type === 'fifo' || entry.type === 'socket' || entry.type === 'char' || entry.type === 'block';
const mayOpen = (entry: FileEntry, user: GatewayUser): boolean => (entry.type === 'dir' ? userMay(entry, user, READ) && userMay(entry, user, EXEC) : userMay(entry, user, READ));

/** What the listed-order pass keeps of each directory (of directories only: a 1M-entry tree has few). */
interface DirState {
  open: boolean;
  /** closed: the blocked entry that counts what lies below it (this dir's own, or its nearest blocked ancestor's) */
  holder: Blocked | undefined;
  /** some directory was listed in it: only then may a later entry of it carry a directory's path */
  hasDirs: boolean;
}

/**
 * blockedEntries in one pass in the inventory's own order, for an inventory that lists every entry after the
 * directory of its parent's path (the walk's order). What the depth-ordered pass decides for an entry depends
 * only on the entries of its ancestors' paths; here those all come before it, so every decision is the same,
 * and only the blocked entries are put in depth order at the end. Undefined as soon as the inventory is not so
 * (a parent listed later or not as a directory, a directory's path listed again): blockedInDepthOrder answers.
 */
export function blockedInListedOrder(entries: readonly FileEntry[], user: GatewayUser): Blocked[] | undefined {
  const dirs = new Map<string, DirState>();
  const blocked: Blocked[] = [];
  // siblings come one after another: their parent is looked up once for the run
  let parentPath: string | undefined;
  let parent: DirState | undefined;
  // by index: for…of allocates an iterator result per entry
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    const relativePath = entry.path;
    const isDir = entry.type === 'dir';
    let here: DirState | undefined;
    if (relativePath !== '') {
      const slash = relativePath.lastIndexOf('/');
      const parentLength = slash === -1 ? 0 : slash;
      // lastIndexOf(…, 0) is startsWith, and a few times faster in V8 for a path of many segments
      if (parentPath === undefined || parentPath.length !== parentLength || (slash !== -1 && relativePath.lastIndexOf(parentPath, 0) !== 0)) {
        parentPath = slash === -1 ? '' : relativePath.slice(0, slash);
        parent = dirs.get(parentPath);
        if (parent === undefined) return undefined;
      }
      here = parent;
    }
    // the same path as a directory listed before: its children may already be judged by the first one
    if ((isDir || here === undefined || here.hasDirs) && dirs.has(relativePath)) return undefined;
    if (here !== undefined && !here.open) {
      if (here.holder) here.holder.hidden += 1;
      if (isDir) {
        dirs.set(relativePath, { open: false, holder: here.holder, hasDirs: false });
        here.hasDirs = true;
      }
      continue;
    }
    if (isSpecial(entry)) continue;
    const ok = mayOpen(entry, user);
    const record = ok ? undefined : { entry, hidden: 0 };
    if (record) blocked.push(record);
    if (isDir) {
      dirs.set(relativePath, { open: ok, holder: record, hasDirs: false });
      if (here) here.hasDirs = true;
    }
  }
  return inDepthOrder(blocked);
}

/** The number of slashes in a path: '' and top-level names are both 0. */
function depthOf(relativePath: string): number {
  let depth = 0;
  for (let slash = relativePath.indexOf('/'); slash !== -1; slash = relativePath.indexOf('/', slash + 1)) depth++;
  return depth;
}

/** The indexes of `entries` in depth order, their own order kept within a depth: a counting sort, in typed arrays. */
function depthOrder(entries: readonly { path: string }[]): Uint32Array {
  const depths = new Uint32Array(entries.length);
  let deepest = 0;
  for (let index = 0; index < entries.length; index++) {
    const depth = depthOf(entries[index]!.path);
    depths[index] = depth;
    if (depth > deepest) deepest = depth;
  }
  const next = new Uint32Array(deepest + 1);
  for (let index = 0; index < depths.length; index++) if (depths[index]! < deepest) next[depths[index]! + 1]! += 1;
  for (let depth = 1; depth <= deepest; depth++) next[depth]! += next[depth - 1]!;
  const order = new Uint32Array(entries.length);
  for (let index = 0; index < depths.length; index++) order[next[depths[index]!]!++] = index;
  return order;
}

function inDepthOrder(blocked: Blocked[]): Blocked[] {
  let sorted = true;
  for (let index = 1; index < blocked.length && sorted; index++) sorted = depthOf(blocked[index - 1]!.entry.path) <= depthOf(blocked[index]!.entry.path);
  if (sorted) return blocked;
  return Array.from(depthOrder(blocked.map((item) => item.entry)), (index) => blocked[index]!);
}

function parentOf(relativePath: string): string | undefined {
  if (relativePath === '') return undefined;
  const slash = relativePath.lastIndexOf('/');
  return slash === -1 ? '' : relativePath.slice(0, slash);
}

/** blockedEntries for any inventory: the entries judged in depth order, so a parent is always judged before its children. */
export function blockedInDepthOrder(entries: readonly FileEntry[], user: GatewayUser): Blocked[] {
  const open = new Map<string, boolean>();
  const blocked: Blocked[] = [];
  const byTop = new Map<string, Blocked>();
  const order = depthOrder(entries);
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
  for (let rank = 0; rank < order.length; rank++) {
    const entry = entries[order[rank]!]!;
    const relativePath = entry.path;
    let parentOpen = true;
    if (relativePath !== '') {
      const slash = relativePath.lastIndexOf('/');
      const parentLength = slash === -1 ? 0 : slash;
      if (lastParent === undefined || lastParent.length !== parentLength || (slash !== -1 && relativePath.lastIndexOf(lastParent, 0) !== 0)) {
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
    if (isSpecial(entry)) {
      remember(entry, false);
      continue;
    }
    const ok = mayOpen(entry, user);
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
