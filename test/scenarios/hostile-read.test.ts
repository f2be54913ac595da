// Reads on a home someone else controls, as root: a resonix.json linked to a root-only file, an $include of one,
// a user unit's EnvironmentFile= naming one. Resonix, running as the gateway user, could read none of them, so the
// tool reads none of them for that user (it would leak a character of the file in a parse error, or its keys).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanMachine } from '../../src/scan/index.js';
import { canChown } from '../helpers/scenario.js';

const ROOT_LINE = 'ROOT_ONLY_KEY=rootonly-canary-31337';

function chownTree(top: string, uid: number): void {
  fs.lchownSync(top, uid, uid);
  if (!fs.lstatSync(top).isDirectory()) return;
  for (const name of fs.readdirSync(top)) chownTree(path.join(top, name), uid);
}

describe.skipIf(!canChown)('reads outside the home, as root, for a gateway user who could not make them', () => {
  it('a linked config, an $include and an EnvironmentFile= of a root-only file are not read; a world-readable one is', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-hostile-read-'));
    try {
      fs.chmodSync(root, 0o755);
      const secret = path.join(root, 'root-only');
      fs.mkdirSync(secret, { mode: 0o700 });
      fs.writeFileSync(path.join(secret, 'config.json5'), `{ gateway: { mode: 'local' } } // ${ROOT_LINE}\n`, { mode: 0o600 });
      fs.writeFileSync(path.join(secret, 'env'), `${ROOT_LINE}\n`, { mode: 0o600 });
      const open = path.join(root, 'shared');
      fs.mkdirSync(open, { mode: 0o755 });
      fs.writeFileSync(path.join(open, 'env'), 'SHARED_KEY=1\n', { mode: 0o644 });

      const linked = path.join(root, 'linked');
      fs.mkdirSync(path.join(linked, '.resonix'), { recursive: true });
      fs.symlinkSync(path.join(secret, 'config.json5'), path.join(linked, '.resonix/resonix.json'));
      chownTree(linked, 1000);
      const first = await scanMachine({ mode: 'live', root: '/', env: { HOME: linked }, home: linked });
      const config = first.machine.homes[0]!.installs[0]!.config;
      expect(config.parseError?.message).toBe('cannot read: the gateway user (uid 1000) cannot read it');
      expect(config.gatewayMode).toBeUndefined();

      const home = path.join(root, 'alice');
      fs.mkdirSync(path.join(home, '.resonix'), { recursive: true });
      fs.mkdirSync(path.join(home, '.config/systemd/user'), { recursive: true });
      fs.writeFileSync(path.join(home, '.resonix/resonix.json'), JSON.stringify({ $include: path.join(secret, 'config.json5'), gateway: { mode: 'local' } }));
      fs.writeFileSync(
        path.join(home, '.config/systemd/user/resonix-gateway.service'),
        `[Service]\nExecStart=/usr/bin/true\nEnvironmentFile=${path.join(secret, 'env')}\nEnvironmentFile=${path.join(open, 'env')}\n`,
      );
      chownTree(home, 1000);
      const second = await scanMachine({ mode: 'live', root: '/', env: { HOME: home }, home });
      expect(second.secrets.has('rootonly-canary-31337')).toBe(false);
      const unit = second.machine.homes[0]!.services[0]!;
      expect(unit.environmentFiles.map((file) => [file.path, file.keys])).toEqual([
        [path.join(secret, 'env'), []],
        [path.join(open, 'env'), ['SHARED_KEY']],
      ]);
      expect(second.machine.problems).toContainEqual(expect.objectContaining({ path: path.join(secret, 'env'), code: 'EACCES' }));
      expect(JSON.stringify(second.machine)).not.toContain('ROOT_ONLY_KEY');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
