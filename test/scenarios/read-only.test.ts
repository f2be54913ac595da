// Provably read-only: every command except --fix leaves the whole machine exactly as it was
// (entries, contents, modes, owners, sizes, mtimes, link targets), and creates nothing.
import { afterAll, describe, expect, it } from 'vitest';
import { treeDigest, treeSnapshot } from '../helpers/scenario.js';
import { cleanupMachines, machineFrom } from './run.js';

afterAll(cleanupMachines);

describe('read-only by default', () => {
  for (const name of ['healthy-file-2026.5', 'healthy-sqlite-2026.9']) {
    it(`${name}: audit, verify and image in every format change nothing`, async () => {
      const machine = await machineFrom(name);
      const before = await treeSnapshot(machine.root);
      const digest = await treeDigest(machine.root);
      for (const command of ['audit', 'verify']) {
        for (const format of ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown']) {
          const result = await machine.cli([command, '--home', machine.home, '--format', format, '--verbose']);
          expect(result.code, result.stderr).toBeLessThan(2);
        }
        await machine.cli([command, '--home', machine.home, '--fix-dry-run']);
      }
      await machine.cli(['image', machine.root, '--format', 'json']);
      expect(await treeSnapshot(machine.root)).toEqual(before);
      expect(await treeDigest(machine.root)).toBe(digest);
    });
  }
});
