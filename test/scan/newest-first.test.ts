import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../src/model.js';
import { newestFirst } from '../../src/scan/install.js';

const entry = (path: string, mtimeMs: number): FileEntry => ({ path, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 1, mtimeMs });

describe('newestFirst', () => {
  it('gives what a stable sort by mtime then a slice gives, ties in input order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), fc.integer({ min: 0, max: 250 }), (times, count) => {
        const entries = times.map((time, index) => entry(`s-${index}.jsonl`, time * 1000));
        const expected = [...entries].sort((a, b) => b.mtimeMs - a.mtimeMs).slice(0, count);
        expect(newestFirst(entries, count)).toEqual(expected);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('leaves its input as it was', () => {
    const entries = [entry('a', 1), entry('b', 3), entry('c', 2)];
    expect(newestFirst(entries, 5).map((item) => item.path)).toEqual(['b', 'c', 'a']);
    expect(entries.map((item) => item.path)).toEqual(['a', 'b', 'c']);
  });
});
