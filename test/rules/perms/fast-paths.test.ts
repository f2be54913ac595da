// readableBy/writableBy and blockedEntries were made cheaper for 100,000-entry inventories (see bench/), and
// blockedEntries again for 1M-entry ones (#13: one pass in the walk's order, no sort of every entry).
// They must answer exactly as the straightforward versions below (the code they replaced), on any
// inventory: in walk order or not, with missing parents, duplicates, files where a dir would be.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry, FileType, GatewayUser } from '../../../src/model.js';
import { EXEC, READ, parentRun, parentsOf, readableBy, userMay, writableBy, type Audience } from '../../../src/rules/lib.js';
import { blockedEntries, blockedInDepthOrder, blockedInListedOrder } from '../../../src/rules/perms/unreadable.js';
import { exposuresOf, type Exposure } from '../../../src/rules/perms/secrets-exposed.js';
import { isSecretDir, isSecretFile } from '../../../src/knowledge/layout.js';

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

function exposuresOfBefore(entries: FileEntry[]): Exposure[] {
  const byPath = new Map(entries.map((entry) => [entry.path, entry]));
  const found: Exposure[] = [];
  for (const entry of entries) {
    const writable = writableByBefore(entry, byPath);
    if (writable) {
      found.push({ entry, audience: writable, how: 'writable' });
      continue;
    }
    const secret = entry.type === 'dir' ? isSecretDir(entry.path) : entry.type === 'file' && isSecretFile(entry.path);
    if (!secret) continue;
    const rootAudience = (entry.mode & 0o007 ? 'world' : entry.mode & 0o070 ? 'group' : undefined) as Audience | undefined;
    const readable = entry.type === 'dir' && entry.path === '' ? rootAudience : readableByBefore(entry, byPath);
    if (readable) found.push({ entry, audience: readable, how: 'readable' });
  }
  return found;
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

const modeArb = fc.constantFrom(0o700, 0o755, 0o750, 0o600, 0o644, 0o640, 0o000, 0o200, 0o500, 0o311);
const ownerArb = fc.record({ mode: fc.oneof(modeArb, fc.integer({ min: 0, max: 0o7777 })), uid: fc.constantFrom(0, 1000, 1001), gid: fc.constantFrom(0, 1000, 1001) });
const nameArb = fc.constantFrom('a', 'b', 'c', 'ab', 'a-b', 'a.b', '.x', 'a b', '\u00e9', '..', '.');

/** A tree: every path's parents are dirs of it; a leaf is any type, a dir may be empty. */
const treeArb = fc.array(fc.array(nameArb, { minLength: 1, maxLength: 4 }), { maxLength: 25 }).chain((paths) => {
  const dirs = new Set<string>(['']);
  const leaves = new Set<string>();
  for (const parts of paths) {
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    leaves.add(parts.join('/'));
  }
  const all = [...new Set([...dirs, ...leaves])];
  return fc.tuple(
    ...all.map((entryPath) =>
      fc.tuple(dirs.has(entryPath) ? fc.constant<FileType>('dir') : fc.constantFrom<FileType>('file', 'file', 'dir', 'symlink', 'fifo', 'socket'), ownerArb).map(
        ([type, owner]): FileEntry => ({ path: entryPath, type, ...owner, size: 1, mtimeMs: 0 }),
      ),
    ),
  );
});

const childrenOf = (list: FileEntry[], dir: string): FileEntry[] => list.filter((entry) => entry.path !== '' && entry.path.slice(0, Math.max(0, entry.path.lastIndexOf('/'))) === dir && entry.path !== dir);

/** The walk's order: the root, then a popped dir's entries (sorted) one after another, dirs pushed on a stack. */
function walkOrder(list: FileEntry[]): FileEntry[] {
  const out = list.filter((entry) => entry.path === '');
  const stack = [''];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const entry of childrenOf(list, dir).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      out.push(entry);
      if (entry.type === 'dir') stack.push(entry.path);
    }
  }
  return out;
}

/** Any order with each entry after its parent dir: `picks` choose among the entries whose parent is out. */
function parentsFirst(list: FileEntry[], picks: number[]): FileEntry[] {
  const out: FileEntry[] = [];
  const ready = list.filter((entry) => entry.path === '');
  for (let i = 0; ready.length > 0; i++) {
    const [entry] = ready.splice((picks[i % Math.max(1, picks.length)] ?? 0) % ready.length, 1);
    out.push(entry!);
    if (entry!.type === 'dir') ready.push(...childrenOf(list, entry!.path));
  }
  return out;
}

/** What a manifest, an archive or a hostile listing may do to a walk's order. */
const changeArb = fc.oneof(
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), to: fc.nat(), type: fc.constantFrom<FileType | undefined>(undefined, 'file', 'dir', 'symlink'), owner: ownerArb }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('move' as const), at: fc.nat(), to: fc.nat() }),
);
type Change = typeof changeArb extends fc.Arbitrary<infer T> ? T : never;

function changed(list: FileEntry[], changes: Change[]): FileEntry[] {
  const out = [...list];
  for (const change of changes) {
    if (out.length === 0) break;
    const at = change.at % out.length;
    if (change.kind === 'drop') out.splice(at, 1);
    else if (change.kind === 'move') out.splice(change.to % out.length, 0, out.splice(at, 1)[0]!);
    else out.splice(change.to % (out.length + 1), 0, { ...out[at]!, ...change.owner, ...(change.type ? { type: change.type } : {}) });
  }
  return out;
}

const fresh = (list: FileEntry[]): FileEntry[] => list.map((entry) => ({ ...entry }));

describe('the faster permission helpers', () => {
  it('readableBy and writableBy answer as before on walked trees, the parents kept for a run of siblings', () => {
    fc.assert(
      fc.property(treeArb, fc.array(fc.nat(), { maxLength: 30 }), (tree, picks) => {
        for (const list of [walkOrder(tree), parentsFirst(tree, picks)]) {
          const byPath = new Map(list.map((entry) => [entry.path, entry]));
          const run = parentRun();
          for (const entry of list) {
            expect(readableBy(entry, byPath, run)).toBe(readableByBefore(entry, byPath));
            expect(writableBy(entry, byPath, run)).toBe(writableByBefore(entry, byPath));
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('blockedEntries answers as before on walked trees, in the walk order and any other parents-first order', () => {
    fc.assert(
      fc.property(treeArb, fc.array(fc.nat(), { maxLength: 30 }), userArb, (tree, picks, user) => {
        for (const list of [walkOrder(tree), parentsFirst(tree, picks), [...tree].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))]) {
          const before = blockedEntriesBefore(fresh(list), user);
          // a tree listed parents first never needs the depth sort
          expect(blockedInListedOrder(fresh(list), user)).toEqual(before);
          expect(blockedEntries({ root: '/s', exists: true, entries: fresh(list) }, user)).toEqual(before);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('blockedEntries answers as before on walked trees listed out of order, with duplicates or holes', () => {
    fc.assert(
      fc.property(treeArb, fc.array(changeArb, { minLength: 1, maxLength: 4 }), userArb, (tree, changes, user) => {
        const list = changed(walkOrder(tree), changes);
        const before = blockedEntriesBefore(fresh(list), user);
        const listed = blockedInListedOrder(fresh(list), user);
        if (listed !== undefined) expect(listed).toEqual(before);
        expect(blockedInDepthOrder(fresh(list), user)).toEqual(before);
        expect(blockedEntries({ root: '/s', exists: true, entries: fresh(list) }, user)).toEqual(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('the listed-order pass gives way when a directory\'s path comes again after its entries', () => {
    const user: GatewayUser = { uid: 1000, gid: 1000, groups: [1000], source: 'home-owner' };
    const dir = (entryPath: string, mode: number, uid = 1000): FileEntry => ({ path: entryPath, type: 'dir', mode, uid, gid: 1000, size: 1, mtimeMs: 0 });
    const file = (entryPath: string, mode: number, uid = 1000): FileEntry => ({ path: entryPath, type: 'file', mode, uid, gid: 1000, size: 1, mtimeMs: 0 });
    // judged in depth order the second 'a' (a file: nothing is reached through it) closes a/b
    const lists = [
      [dir('', 0o700), dir('a', 0o700), file('a/b', 0o600), file('a', 0o600)],
      [dir('', 0o700), dir('a', 0o700), file('a/b', 0o600), dir('a', 0o700, 0)],
      [dir('', 0o700), file('a', 0o600), file('', 0o600)],
      [file('a', 0o600), dir('', 0o700)],
      [dir('', 0o700), file('a/b', 0o600), dir('a', 0o000)],
    ];
    for (const list of lists) {
      expect(blockedInListedOrder(fresh(list), user)).toBeUndefined();
      expect(blockedEntries({ root: '/s', exists: true, entries: fresh(list) }, user)).toEqual(blockedEntriesBefore(fresh(list), user));
    }
  });


  it('readableBy and writableBy answer as before', () => {
    fc.assert(
      fc.property(inventory, (list) => {
        const byPath = new Map(list.map((entry) => [entry.path, entry]));
        // and with the parents' answer kept for a run of siblings, whatever order the entries come in
        const run = parentRun();
        for (const entry of list) {
          expect(readableBy(entry, byPath)).toBe(readableByBefore(entry, byPath));
          expect(writableBy(entry, byPath)).toBe(writableByBefore(entry, byPath));
          expect(readableBy(entry, byPath, run)).toBe(readableByBefore(entry, byPath));
          expect(writableBy(entry, byPath, run)).toBe(writableByBefore(entry, byPath));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('secrets-exposed finds the same exposures as before, in the same order', () => {
    const secretSegment = fc.constantFrom('credentials', 'identity', 'state', 'agents', 'main', 'agent', 'sessions', 'a.jsonl', 'resonix.json', '.env', 'x.json', 'auth-profiles.json', 'a');
    const secretEntry = fc.record({
      path: fc.oneof(fc.constant(''), fc.array(secretSegment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'))),
      type: fc.constantFrom<FileType>('dir', 'file', 'file', 'symlink'),
      mode: fc.oneof(fc.constantFrom(0o700, 0o600, 0o644, 0o640, 0o755, 0o711, 0o604, 0o660, 0o602), fc.integer({ min: 0, max: 0o7777 })),
      uid: fc.constant(1000),
      gid: fc.constant(1000),
      size: fc.constant(1),
      mtimeMs: fc.constant(0),
    });
    fc.assert(
      fc.property(fc.array(secretEntry, { maxLength: 30 }), (list) => {
        expect(exposuresOf(list)).toEqual(exposuresOfBefore(list));
      }),
      { numRuns: 2000 },
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
