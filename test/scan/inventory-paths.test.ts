// InventoryPaths answers as a Set of every inventory path would (#13), without building one for the common lookups.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEntry } from '../../src/model.js';
import { InventoryPaths, sessionsNameAt } from '../../src/scan/inventory-paths.js';

const TRANSCRIPT = /^agents\/[^/]+\/sessions\/[^/]+\.jsonl$/;
const SESSIONS_JSON = /^agents\/[^/]+\/sessions\/sessions\.json$/;

const entriesOf = (paths: string[]): FileEntry[] => paths.map((path) => ({ path, type: 'file', mode: 0o600, uid: 0, gid: 0, size: 1, mtimeMs: 0 }));

// paths made of the segments that matter, so that near-misses of the shapes are common
const segment = fc.constantFrom('agents', 'sessions', 'main', 'a', '', 'x.jsonl', '.jsonl', 'x.json', 'sessions.json', 'x.jsonlx', 'agents.jsonl', '..', 'é.jsonl');
const freePath = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => parts.join('/'));
// most in the shape agents/<id>/sessions/<name>, of few ids and names: stems and dirs repeat
const sessionsPath = fc
  .tuple(fc.constantFrom('main', 'work', 'a.jsonl', ''), fc.constantFrom('sessions', 'session', 'sessions/sub'), fc.constantFrom('a1.jsonl', 'b2.jsonl', '.jsonl', 'sessions.json', 'a1.json', 'a1.jsonl.bak', 'a1', 'old-sessions.json'))
  .map(([id, dir, name]) => `agents/${id}/${dir}/${name}`);
const aPath = fc.oneof(freePath, sessionsPath, sessionsPath);

describe('InventoryPaths', () => {
  it('finds the sessions.json files and tells every path as a Set of them all does (generated inventories)', () => {
    fc.assert(
      fc.property(fc.array(aPath, { maxLength: 30 }), fc.array(aPath, { maxLength: 30 }), (listed, asked) => {
        const all = new Set(listed);
        const fromEntries = InventoryPaths.ofEntries(entriesOf(listed));
        const fromSet = InventoryPaths.ofSet(all);
        const sessionsFiles = [...all].filter((path) => SESSIONS_JSON.test(path)).sort();
        expect(fromEntries.sessionsFiles()).toEqual(sessionsFiles);
        expect(fromSet.sessionsFiles()).toEqual(sessionsFiles);
        for (const path of [...asked, ...listed]) {
          expect(fromEntries.has(path)).toBe(all.has(path));
          // the stems of a sessions dir: exactly the <stem>.jsonl paths listed in it
          const at = sessionsNameAt(path);
          if (at >= 0) {
            const dir = path.slice(0, at - 1);
            const expected = [...all].filter((each) => each.startsWith(`${dir}/`) && !each.slice(dir.length + 1).includes('/') && each.endsWith('.jsonl')).map((each) => each.slice(dir.length + 1, -6));
            for (const inventory of [fromEntries, fromSet]) expect([...(inventory.transcriptStems(dir) ?? [])].sort()).toEqual([...new Set(expected)].sort());
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads the shape agents/<id>/sessions/<name> as the layout regexes do', () => {
    fc.assert(
      fc.property(aPath, (path) => {
        const at = sessionsNameAt(path);
        expect(at >= 0 && path.endsWith('.jsonl') && at < path.length - 6).toBe(TRANSCRIPT.test(path));
        expect(at >= 0 && path.slice(at) === 'sessions.json').toBe(SESSIONS_JSON.test(path));
      }),
      { numRuns: 500 },
    );
    expect(sessionsNameAt('agents/main/sessions/a1.jsonl')).toBe('agents/main/sessions/'.length);
    for (const path of ['agents//sessions/a.jsonl', 'agents/main/sessions/', 'agents/main/sessions/sub/a.jsonl', 'x/agents/main/sessions/a.jsonl', 'agents/main/session/a.jsonl']) expect(sessionsNameAt(path)).toBe(-1);
  });

  it('a path that is no transcript is looked up in a Set of every path, built once on the first such lookup', () => {
    const entries = entriesOf(['', 'agents/main/sessions/sessions.json', 'agents/main/sessions/a.jsonl', 'srv/t/b.jsonl']);
    const inventory = InventoryPaths.ofEntries(entries);
    expect(inventory.has('agents/main/sessions/a.jsonl')).toBe(true);
    expect(inventory.has('agents/main/sessions/gone.jsonl')).toBe(false);
    expect(inventory.has('srv/t/b.jsonl')).toBe(true);
    expect(inventory.has('srv/t/c.jsonl')).toBe(false);
    expect(inventory.has('')).toBe(true);
  });
});
