// targetsOf no longer builds a path and a target for every entry of every inventory (#13: a million entries
// for a handful of findings). It must answer exactly as the straightforward version below (the code it
// replaced), in the same order, on any machine: entries listed twice, wanted paths that are roots, roots with
// a slash, paths under no tree, trees inside trees.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { targetsOf } from '../src/engine.js';
import type { FileEntry, FileType, Finding, Machine } from '../src/model.js';
import { home, install, machine } from './helpers/machine.js';

type Target = NonNullable<Finding['target']>;

function targetsOfBefore(machine: Machine, wanted: ReadonlySet<string>): Map<string, Target> {
  const found = new Map<string, Target>();
  const put = (where: string, target: Target): void => {
    if (wanted.has(where) && !found.has(where)) found.set(where, target);
  };
  for (const home of machine.homes) {
    for (const install of home.installs) {
      if (install.config.exists) put(install.config.path, { type: 'file', ...(install.config.size !== undefined ? { size: install.config.size } : {}) });
      for (const inventory of [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]) {
        if (!inventory.exists) continue;
        const prefix = `${inventory.root}/`;
        if (![...wanted].some((where) => where === inventory.root || where.startsWith(prefix))) continue;
        for (const entry of inventory.entries) {
          const where = entry.path === '' ? inventory.root : prefix + entry.path;
          put(where, entry.type === 'file' ? { type: 'file', size: entry.size } : { type: entry.type });
        }
        put(inventory.root, { type: 'dir' });
      }
    }
    if (home.exists) put(home.path, { type: 'dir' });
    for (const unit of home.services) put(unit.path, { type: 'file', ...(unit.size !== undefined ? { size: unit.size } : {}) });
    for (const workspace of home.workspaceDirs) put(workspace.path, { type: 'dir' });
  }
  for (const archive of machine.archives) put(archive.path, { type: 'file', size: archive.size });
  const runtime = machine.runtime;
  if (runtime?.nodePath !== undefined) put(runtime.nodePath, { type: 'file', ...(runtime.nodeSize !== undefined ? { size: runtime.nodeSize } : {}) });
  return found;
}

const ROOTS = ['/h/.resonix', '/h/.resonix/workspace', '/h/ws', '/h', '/', '/h/.resonix/'];
const NAMES = ['', 'a', 'b', 'a/b', 'workspace', 'workspace/a', 'resonix.json', '.resonix', 'x y', 'a/', '/a'];

const entryArb: fc.Arbitrary<FileEntry> = fc.record({
  path: fc.constantFrom(...NAMES),
  type: fc.constantFrom<FileType>('dir', 'file', 'file', 'symlink'),
  mode: fc.constant(0o600),
  uid: fc.constant(1000),
  gid: fc.constant(1000),
  size: fc.integer({ min: 0, max: 9 }),
  mtimeMs: fc.constant(0),
});
const inventoryArb = fc.record({ root: fc.constantFrom(...ROOTS), exists: fc.boolean(), entries: fc.array(entryArb, { maxLength: 12 }) });

const machineArb: fc.Arbitrary<Machine> = fc
  .record({
    state: inventoryArb,
    workspaces: fc.array(inventoryArb, { maxLength: 3 }),
    configAt: fc.constantFrom('/h/.resonix/resonix.json', '/h/.resonix/a', '/elsewhere/resonix.json'),
    configExists: fc.boolean(),
    homeExists: fc.boolean(),
  })
  .map(({ state, workspaces, configAt, configExists, homeExists }) =>
    machine(
      [
        home(
          [
            install(state.root, [], {
              inventory: state,
              config: { ...install().config, path: configAt, exists: configExists, size: 7 },
              workspaces: workspaces.map((inventory, index) => ({ agentId: `a${index}`, path: inventory.root, source: 'default', inventory }) as never),
            }),
          ],
          { path: '/h', exists: homeExists },
        ),
      ],
      { archives: [{ path: '/h/a', size: 3 } as never] },
    ),
  );

const candidates = [...new Set([...ROOTS, ...ROOTS.flatMap((root) => NAMES.map((name) => (name === '' ? root : `${root}/${name}`))), '/elsewhere/resonix.json', '/nowhere'])];

describe('targetsOf', () => {
  it('answers as before, in the same order', () => {
    fc.assert(
      fc.property(machineArb, fc.subarray(candidates), (scanned, wanted) => {
        const set = new Set(wanted);
        expect([...targetsOf(scanned, set)]).toEqual([...targetsOfBefore(scanned, set)]);
      }),
      { numRuns: 2000 },
    );
  });
});
