// Helpers that spare a rule a list of every entry (#13): presentPaths answers "which of these few paths are
// entries of the tree" in one pass with nothing built per entry, where foreign-home built a set of every entry
// path; sampleOf shows what sample() shows from the first items only. The same answers as before, always.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry, FileType } from '../../src/model.js';
import { presentPaths, sampleOf } from '../../src/rules/lib.js';

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
