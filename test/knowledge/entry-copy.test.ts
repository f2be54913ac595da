import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryWith } from '../../src/knowledge/entry-copy.js';

const KEYS = ['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtimeMs', 'linkTarget', 'nonUtf8', 'sha256', 'hashSkipped'];
const record = fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.string(), fc.integer(), fc.boolean()));

describe('entryWith', () => {
  it('is { ...entry, ...changes }: the same fields, values and order', () => {
    fc.assert(
      fc.property(record, record, (entry, changes) => {
        const copy = entryWith(entry, changes);
        const spread = { ...entry, ...changes };
        expect(Object.keys(copy)).toEqual(Object.keys(spread));
        expect(copy).toEqual(spread);
        expect(copy).not.toBe(entry);
      }),
    );
  });

  it('leaves the entry as it was', () => {
    const entry = { path: 'a', size: 1 };
    entryWith(entry, { path: 'b', sha256: 'x' } as Partial<typeof entry>);
    expect(entry).toEqual({ path: 'a', size: 1 });
  });
});
