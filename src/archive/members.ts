// Archive member names as inspect sees them: normalised, with the ones that would land outside the
// extraction dir (absolute, `..`, or below a symlink member) set apart. Pure.
import type { ArchiveMember } from '../model.js';

/**
 * The member's path relative to the archive root ('' for the root itself, no './', no trailing '/'), or
 * undefined when extracting it would write outside the extraction dir: an absolute name, a drive letter or
 * a `..` segment.
 */
export function memberKey(name: string): string | undefined {
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) return undefined;
  const segments: string[] = [];
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return undefined;
    segments.push(segment);
  }
  return segments.join('/');
}

export type TraversalKind = 'absolute' | 'dot-dot' | 'through-symlink';

export interface TraversalMember {
  name: string;
  kind: TraversalKind;
  /** the symlink member the path goes through */
  via?: string;
}

export interface KeyedMember {
  key: string;
  member: ArchiveMember;
}

export interface SortedMembers {
  /** last member of each path wins, as on extraction; archive order otherwise */
  members: KeyedMember[];
  traversal: TraversalMember[];
}

/** Splits members into those that stay inside the archive root and those that do not. */
export function sortMembers(members: readonly ArchiveMember[]): SortedMembers {
  const byKey = new Map<string, KeyedMember>();
  const traversal: TraversalMember[] = [];
  for (const member of members) {
    const key = memberKey(member.path);
    if (key === undefined) {
      traversal.push({ name: member.path, kind: member.path.split('/').includes('..') ? 'dot-dot' : 'absolute' });
      continue;
    }
    // re-inserting moves a replaced member to where it was last written
    byKey.delete(key);
    byKey.set(key, { key, member });
  }
  const links = new Set([...byKey.values()].filter((item) => item.member.type === 'symlink').map((item) => item.key));
  const kept: KeyedMember[] = [];
  for (const item of byKey.values()) {
    const via = links.size > 0 ? symlinkAncestor(item.key, links) : undefined;
    if (via !== undefined) traversal.push({ name: item.member.path, kind: 'through-symlink', via });
    else kept.push(item);
  }
  return { members: kept, traversal };
}

function symlinkAncestor(key: string, links: Set<string>): string | undefined {
  for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) {
    const ancestor = key.slice(0, slash);
    if (links.has(ancestor)) return ancestor;
  }
  return undefined;
}

