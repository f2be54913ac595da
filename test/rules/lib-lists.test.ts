// Helpers that spare a rule a list of every entry (#13): presentPaths answers "which of these few paths are
// entries of the tree" in one pass with nothing built per entry, where foreign-home built a set of every entry
// path; sampleOf shows what sample() shows from the first items only. The same answers as before, always.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry, FileType } from '../../src/model.js';
import path from 'node:path';
import { ancestorEntries, joinPath, presentPaths, sampleOf } from '../../src/rules/lib.js';

const pathArb = fc.oneof(fc.constantFrom('', 'a', 'b', 'a/b', 'ab', 'a/', '.', '..', 'credentials/whatsapp/work'), fc.string({ maxLength: 4 }));
const entryArb: fc.Arbitrary<FileEntry> = fc.record({
  path: pathArb,
  type: fc.constantFrom<FileType>('file', 'dir', 'symlink'),
  mode: fc.constant(0o600),
  uid: fc.constant(1),
  gid: fc.constant(1),
  size: fc.constant(0),
  mtimeMs: fc.constant(0),
});

describe('the list helpers', () => {
  it('presentPaths finds exactly the wanted paths that some (accepted) entry has', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 20 }), fc.uniqueArray(pathArb, { maxLength: 6 }), fc.boolean(), (entries, wanted, filesOnly) => {
        const accept = filesOnly ? (entry: FileEntry): boolean => entry.type === 'file' : undefined;
        const all = new Set(entries.filter((entry) => accept === undefined || accept(entry)).map((entry) => entry.path));
        const found = presentPaths({ root: '/s', exists: true, entries }, new Set(wanted), accept);
        expect([...found].sort()).toEqual(wanted.filter((item) => all.has(item)).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('sampleOf of the first items is sample of them all', () => {
    const sampleBefore = (items: string[], limit: number): string[] => (items.length <= limit ? items : [...items.slice(0, limit), `… and ${items.length - limit} more`]);
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 20 }), fc.integer({ min: 1, max: 12 }), (items, limit) => {
        expect(sampleOf(items.slice(0, limit), items.length, limit)).toEqual(sampleBefore(items, limit));
      }),
    );
  });
});

describe('the path helpers', () => {
  const part = fc.constantFrom('a', 'b', '.', '..', '', '/', 'é', '...', '.a');
  const pathLike = fc.array(part, { maxLength: 5 }).map((parts) => parts.join(''));
  const slashed = fc.array(fc.constantFrom('a', 'b', '.', '..', '', 'c d'), { maxLength: 4 }).map((parts) => parts.join('/'));

  it('joinPath is path.posix.join, the root alone for an empty path', () => {
    fc.assert(
      fc.property(fc.oneof(pathLike, slashed, fc.constantFrom('/', '.', '', '/s', '/s/', 's', '../s')), fc.oneof(pathLike, slashed), (root, relative) => {
        expect(joinPath(root, relative)).toBe(relative === '' ? root : path.posix.join(root, relative));
      }),
      { numRuns: 5000 },
    );
  });

  it('ancestorEntries answers as a map of every entry for every path readableBy looks up', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ path: fc.oneof(slashed, pathLike), type: fc.constantFrom<FileType>('dir', 'file'), n: fc.nat() }), { maxLength: 25 }), (list) => {
        const entries = list.map(({ path: entryPath, type, n }): FileEntry => ({ path: entryPath, type, mode: n % 0o1000, uid: 1, gid: 1, size: n, mtimeMs: 0 }));
        const every = new Map(entries.map((entry) => [entry.path, entry]));
        const above = ancestorEntries(entries);
        for (const entry of entries) {
          for (let slash = entry.path.indexOf('/'); slash !== -1; slash = entry.path.indexOf('/', slash + 1)) expect(above.get(entry.path.slice(0, slash))).toBe(every.get(entry.path.slice(0, slash)));
          if (entry.path !== '') expect(above.get('')).toBe(every.get(''));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
