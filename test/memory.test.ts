import { describe, expect, it } from 'vitest';
import { BIG_RUN_ENTRIES, collectAtPhaseEnd } from '../src/memory.js';

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
