// Provably read-only: every command except --fix leaves the whole machine exactly as it was
// (entries, contents, modes, owners, sizes, mtimes, link targets), and creates nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { treeDigest, treeSnapshot } from '../helpers/scenario.js';
import { cleanupMachines, machineFrom } from './run.js';

afterAll(cleanupMachines);

describe('read-only by default', () => {
  for (const name of ['healthy-file-2026.5', 'healthy-sqlite-2026.9']) {
    it(`${name}: audit, verify, image, inspect and snapshot in every format change nothing`, async () => {
      const machine = await machineFrom(name);
      // a backup inside the tree, for inspect and verify --against
      execFileSync('tar', ['czf', machine.path('tmp/state.tgz'), '-C', machine.home, '.resonix']);
      const before = await treeSnapshot(machine.root);
      const digest = await treeDigest(machine.root);
      for (const command of ['audit', 'verify']) {
        for (const format of ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown', 'doctor-lint']) {
          const result = await machine.cli([command, '--home', machine.home, '--format', format, '--verbose']);
          expect(result.code, result.stderr).toBeLessThan(2);
        }
        await machine.cli([command, '--home', machine.home, '--fix-dry-run']);
      }
      await machine.cli(['image', machine.root, '--format', 'json']);
      await machine.cli(['inspect', machine.path('tmp/state.tgz'), '--format', 'json']);
      await machine.cli(['verify', '--home', machine.home, '--against', machine.path('tmp/state.tgz')]);
      // snapshot writes only its --out file, outside the tree
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-readonly-'));
      const out = path.join(scratch, 'manifest.json');
      expect((await machine.cli(['snapshot', '--home', machine.home, '--out', out])).code).toBe(0);
      await machine.cli(['verify', '--home', machine.home, '--against', out]);
      await machine.cli(['audit', '--home', machine.home, '--snapshot', out]);
      fs.rmSync(scratch, { recursive: true, force: true });
      expect(await treeSnapshot(machine.root)).toEqual(before);
      expect(await treeDigest(machine.root)).toBe(digest);
    });
  }
});
