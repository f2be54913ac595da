import { describe, expect, it } from 'vitest';
import { BIG_RUN_ENTRIES, collectAtPhaseEnd, entriesOf } from '../src/memory.js';
import type { Machine } from '../src/model.js';

/** A WeakRef to an object nothing else holds, past the job that made it (a WeakRef keeps its target until then). */
async function droppedObject(): Promise<WeakRef<object>> {
  const ref = new WeakRef({ big: new Array(1000).fill('x') });
  await new Promise((resolve) => setImmediate(resolve));
  return ref;
}

describe('collectAtPhaseEnd', () => {
  it('collects what is dead once a run is big', async () => {
    const ref = await droppedObject();
    collectAtPhaseEnd(BIG_RUN_ENTRIES);
    expect(ref.deref()).toBeUndefined();
  });

  it('leaves a small run alone', async () => {
    const ref = await droppedObject();
    collectAtPhaseEnd(BIG_RUN_ENTRIES - 1);
    // no allocation since: nothing but a full collection could have freed it
    expect(ref.deref()).toBeDefined();
  });
});

describe('entriesOf', () => {
  it('counts the entries of every install and workspace inventory', () => {
    const inventory = (n: number) => ({ root: '/x', exists: true, entries: new Array(n).fill({}) });
    const machine = {
      homes: [
        { installs: [{ inventory: inventory(3), workspaces: [{ inventory: inventory(2) }, { inventory: inventory(1) }] }] },
        { installs: [{ inventory: inventory(4), workspaces: [] }] },
      ],
    } as unknown as Machine;
    expect(entriesOf(machine)).toBe(10);
  });
});
