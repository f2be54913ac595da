// Archive members in the live scan's inventory shape (FileEntry), and the workspace-looking dirs among them.
// Pure.
import path from 'node:path';
import { WORKSPACE_MARKERS } from '../knowledge/layout.js';
import type { FileEntry, FileInventory, StrayWorkspace } from '../model.js';
import type { KeyedMember } from './members.js';
import { memberKey } from './members.js';
import { type Frame, toMachine } from './state-dirs.js';

export class MemberIndex {
  readonly byKey: Map<string, KeyedMember>;

  /** `cut`: the listing stopped at the member limit, so every inventory from it may lack members */
  constructor(
    readonly members: readonly KeyedMember[],
    readonly cut = false,
  ) {
    this.byKey = new Map(members.map((item) => [item.key, item]));
  }

  /** Members at or below `dir` (an archive key), as entries relative to it. */
  inventory(dir: string, machinePath: string): FileInventory {
    const prefix = dir === '' ? '' : `${dir}/`;
    const entries: FileEntry[] = [];
    for (const item of this.members) {
      if (item.key === dir) entries.push(this.entry(item, ''));
      else if (item.key.startsWith(prefix)) entries.push(this.entry(item, item.key.slice(prefix.length)));
    }
    const rootFirst = entries.sort((a, b) => (a.path === '' ? -1 : b.path === '' ? 1 : 0));
    return { root: machinePath, exists: rootFirst.length > 0, entries: rootFirst, ...(this.cut ? { truncated: true } : {}) };
  }

  private entry(item: KeyedMember, relative: string): FileEntry {
    const { member } = item;
    const isHardLink = member.type === 'file' && member.linkTarget !== undefined;
    // a hard link's data is its target's: tar records size 0 for the link itself
    const target = isHardLink ? this.hardLinkTarget(member.linkTarget!) : undefined;
    return {
      path: relative,
      type: member.type,
      mode: member.mode,
      uid: member.uid ?? 0,
      gid: member.gid ?? 0,
      size: target?.member.size ?? member.size,
      mtimeMs: member.mtimeMs ?? 0,
      ...(member.type === 'symlink' && member.linkTarget !== undefined ? { linkTarget: member.linkTarget } : {}),
    };
  }

  hardLinkTarget(linkName: string): KeyedMember | undefined {
    const key = memberKey(linkName);
    return key === undefined ? undefined : this.byKey.get(key);
  }
}

// the same layout and data tests as a live state dir
export { generationOf, hasDataFiles } from '../scan/install.js';

/**
 * Visible dirs below `homeKey` (at most `maxDepth` levels) holding a workspace marker file (one suffices), as
 * the live scan looks for them: no dot-dirs, no node_modules, nothing below a dir already taken.
 */
export function workspaceDirsUnder(index: MemberIndex, frame: Frame, homeKey: string, maxDepth: number): StrayWorkspace[] {
  const markers = new Map<string, string[]>();
  const prefix = homeKey === '' ? '' : `${homeKey}/`;
  for (const { key, member } of index.members) {
    if (member.type !== 'file' || !key.startsWith(prefix)) continue;
    const relative = key.slice(prefix.length);
    const base = path.posix.basename(relative);
    if (!WORKSPACE_MARKERS.has(base)) continue;
    const dir = path.posix.dirname(relative);
    if (dir === '.') continue;
    const segments = dir.split('/');
    if (segments.length > maxDepth || segments.some((segment) => segment.startsWith('.') || segment === 'node_modules')) continue;
    markers.set(dir, [...(markers.get(dir) ?? []), base]);
  }
  const found = [...markers.entries()].filter(([, names]) => names.length >= 1).sort(([a], [b]) => a.localeCompare(b));
  const taken: string[] = [];
  const result: StrayWorkspace[] = [];
  for (const [dir, names] of found) {
    if (taken.some((outer) => dir.startsWith(`${outer}/`))) continue;
    taken.push(dir);
    const machinePath = toMachine(frame, `${prefix}${dir}`);
    if (machinePath !== undefined) result.push({ path: machinePath, markers: [...new Set(names)].sort() });
  }
  return result;
}
