// --against FILE: a manifest or a backup archive becomes the rules' baseline.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBaseline } from '../../src/manifest/baseline.js';
import { createManifest, writeManifest } from '../../src/manifest/snapshot.js';
import { ManifestError } from '../../src/manifest/types.js';
import { machine } from '../helpers/machine.js';
import { materialise, type Materialised } from '../helpers/scenario.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-against-'));
const made: Materialised[] = [];
afterAll(async () => {
  while (made.length > 0) await made.pop()!.cleanup();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadBaseline', () => {
  it('reads a manifest', async () => {
    const file = path.join(dir, 'manifest.json');
    await writeManifest(file, await createManifest({ machine: machine() }, { hash: false }));
    const loaded = await loadBaseline(file);
    expect(loaded.kind).toBe('manifest');
    expect(loaded.machine.homes[0]!.installs[0]!.stateDir).toBe('/home/alice/.resonix');
  });

  it('reads a backup archive into the same Machine shape', async () => {
    const m = await materialise('healthy-file-2026.5');
    made.push(m);
    const archive = path.join(dir, 'backup.tgz');
    execFileSync('tar', ['-C', m.home, '-czf', archive, '.resonix']);
    const loaded = await loadBaseline(archive);
    expect(loaded.kind).toBe('archive');
    const install = loaded.machine.homes.flatMap((home) => home.installs)[0]!;
    expect(install.inventory.entries.some((entry) => entry.path === 'credentials/whatsapp/default/creds.json')).toBe(true);
  }, 30_000);

  it('refuses what can serve as no baseline, in one line', async () => {
    const garbage = path.join(dir, 'garbage.bin');
    fs.writeFileSync(garbage, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(loadBaseline(garbage)).rejects.toThrow(ManifestError);
    await expect(loadBaseline(garbage)).rejects.toThrow(/garbage\.bin cannot serve as a baseline: /);
    await expect(loadBaseline(path.join(dir, 'none.json'))).rejects.toThrow(/none\.json: no such file$/);
    await expect(loadBaseline(dir)).rejects.toThrow(/is not a regular file$/);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '  {"manifest": 1, "tool": ');
    await expect(loadBaseline(broken)).rejects.toThrow(/broken\.json is not JSON: it ends early/);
  });
});
