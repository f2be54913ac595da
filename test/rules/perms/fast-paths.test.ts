// readableBy/writableBy and blockedEntries were made cheaper for 100,000-entry inventories (see bench/).
// They must answer exactly as the straightforward versions below (the code they replaced), on any
// inventory: in walk order or not, with missing parents, duplicates, files where a dir would be.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry, FileType, GatewayUser } from '../../../src/model.js';
import { EXEC, READ, parentsOf, readableBy, userMay, writableBy, type Audience } from '../../../src/rules/lib.js';
import { blockedEntries } from '../../../src/rules/perms/unreadable.js';

function readableByBefore(entry: FileEntry, byPath: Map<string, FileEntry>): Audience | undefined {
  const chain = parentsOf(entry.path).map((parent) => byPath.get(parent));
  const through = (shiftRead: number, shiftExec: number): boolean =>
    (entry.mode & shiftRead) !== 0 && chain.every((dir) => dir !== undefined && (dir.mode & shiftExec) !== 0);
  if (through(0o004, 0o001)) return 'world';
  if (through(0o040, 0o010)) return 'group';
  return undefined;
}

function writableByBefore(entry: FileEntry, byPath: Map<string, FileEntry>): Audience | undefined {
  const chain = parentsOf(entry.path).map((parent) => byPath.get(parent));
  const through = (shiftWrite: number, shiftExec: number): boolean =>
    (entry.mode & shiftWrite) !== 0 && chain.every((dir) => dir !== undefined && (dir.mode & shiftExec) !== 0);
  if (entry.type === 'symlink') return undefined;
  if (through(0o002, 0o001)) return 'world';
  if (through(0o020, 0o010)) return 'group';
  return undefined;
}

function parentOf(relativePath: string): string | undefined {
  if (relativePath === '') return undefined;
  const slash = relativePath.lastIndexOf('/');
  return slash === -1 ? '' : relativePath.slice(0, slash);
}

function blockedEntriesBefore(inventoryEntries: FileEntry[], user: GatewayUser): { entry: FileEntry; hidden: number }[] {
  const open = new Map<string, boolean>();
  const blocked: { entry: FileEntry; hidden: number }[] = [];
  const byTop = new Map<string, { entry: FileEntry; hidden: number }>();
  const sorted = [...inventoryEntries].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const entry of sorted) {
    const parent = parentOf(entry.path);
    const parentOpen = parent === undefined ? true : open.get(parent) ?? false;
    if (!parentOpen) {
      let top = parent;
      while (top !== undefined && !byTop.has(top)) top = parentOf(top);
      const holder = top !== undefined ? byTop.get(top) : undefined;
      if (holder) holder.hidden += 1;
      open.set(entry.path, false);
      continue;
    }
    if (entry.type === 'symlink' || entry.type === 'fifo' || entry.type === 'socket' || entry.type === 'char' || entry.type === 'block') {
      open.set(entry.path, false);
      continue;
    }
    const ok = entry.type === 'dir' ? userMay(entry, user, READ) && userMay(entry, user, EXEC) : userMay(entry, user, READ);
    // nothing is reached through a non-directory (ENOTDIR): only archives and manifests can list such children
    open.set(entry.path, entry.type === 'dir' && ok);
    if (!ok) {
      const record = { entry, hidden: 0 };
      blocked.push(record);
      byTop.set(entry.path, record);
    }
  }
  return blocked;
}

const segment = fc.constantFrom('a', 'b', 'c', 'ab', '.x', '');
const entryArb = fc.record({
  path: fc.oneof(fc.constant(''), fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'))),
  type: fc.constantFrom<FileType>('dir', 'dir', 'file', 'file', 'symlink', 'fifo'),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.constantFrom(0, 1000, 1001),
  gid: fc.constantFrom(0, 1000, 1001),
  size: fc.constant(1),
  mtimeMs: fc.constant(0),
});
const inventory = fc.array(entryArb, { maxLength: 40 });
const userArb: fc.Arbitrary<GatewayUser> = fc.record({
  uid: fc.constantFrom(0, 1000, 1001),
  gid: fc.constantFrom(1000, 1001),
  groups: fc.constantFrom([1000], [1000, 1001], []).map((groups) => [...groups]),
  source: fc.constant('home-owner' as const),
});

describe('the faster permission helpers', () => {
  it('readableBy and writableBy answer as before', () => {
    fc.assert(
      fc.property(inventory, (list) => {
        const byPath = new Map(list.map((entry) => [entry.path, entry]));
        for (const entry of list) {
          expect(readableBy(entry, byPath)).toBe(readableByBefore(entry, byPath));
          expect(writableBy(entry, byPath)).toBe(writableByBefore(entry, byPath));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('blockedEntries answers as before, in the same order', () => {
    fc.assert(
      fc.property(inventory, userArb, (list, user) => {
        const fresh = (): FileEntry[] => list.map((entry) => ({ ...entry }));
        const now = blockedEntries({ root: '/s', exists: true, entries: fresh() }, user);
        const before = blockedEntriesBefore(fresh(), user);
        expect(now).toEqual(before);
      }),
      { numRuns: 1000 },
    );
  });
});
