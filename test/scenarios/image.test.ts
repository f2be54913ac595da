// `image ROOTFS` on real root filesystems: users come from the image's /etc/passwd, never the host's,
// system units with User= choose the gateway user, and a rootfs unpacked from a tarball works the same.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canChown, entry, loadScenario, removeEntries } from '../helpers/scenario.js';
import { cleanupMachines, machineFrom, ruleIds } from './run.js';

afterAll(cleanupMachines);

async function imageScenario() {
  // a provisioning image: the gateway runs from a system unit as user "resonix" (uid 1001), whom the
  // host does not know; the state dir was baked in by root without fixing owners
  const scenario = await loadScenario('healthy-sqlite-2026.9');
  scenario.users = [...(scenario.users ?? []), { name: 'resonix', uid: 1001, gid: 1001, home: '/home/resonix' }];
  removeEntries(scenario, '{home}/.resonix-work');
  scenario.entries.push(
    { path: 'home/resonix/', mode: '0755', owner: 'resonix' },
    { path: 'etc/systemd/system/' , owner: 'root' },
    {
      path: 'etc/systemd/system/resonix-gateway.service',
      owner: 'root',
      content: '[Unit]\nDescription=Resonix Gateway\n\n[Service]\nUser=alice\nExecStart=/usr/local/bin/node /opt/resonix-prefix/lib/node_modules/resonix/dist/index.js gateway --port 18789\nEnvironment=HOME=/home/alice\n\n[Install]\nWantedBy=multi-user.target\n',
    },
    { path: 'etc/systemd/system/multi-user.target.wants/' , owner: 'root' },
    { path: 'etc/systemd/system/multi-user.target.wants/resonix-gateway.service', target: '/etc/systemd/system/resonix-gateway.service' },
  );
  return scenario;
}

describe('image ROOTFS', () => {
  it('a correct image passes, with the system unit running the state dir it holds', async () => {
    const image = await machineFrom(await imageScenario(), { live: false });
    const { code, report } = await image.image();
    expect(report.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
    expect(code).toBe(0);
    expect(report.installs[0]!.servedBy).toEqual(['/etc/systemd/system/resonix-gateway.service']);
    expect(report.installs[0]!.stateDir).toBe('/home/alice/.resonix');
  });

  it.skipIf(!canChown)("owners are judged with the image's users: a state dir baked as root is reported for alice from the image's passwd (needs root: chown to other uids)", async () => {
    const scenario = await imageScenario();
    entry(scenario, '{home}/.resonix/state/').owner = 'root';
    entry(scenario, '{home}/.resonix/state/resonix.sqlite').owner = 'root';
    const image = await machineFrom(scenario, { live: false });
    const { code, report } = await image.image();
    expect(code).toBe(1);
    const wrongOwner = report.findings.find((finding) => finding.ruleId === 'perms/wrong-owner')!;
    expect(wrongOwner.fix!.commands[0]).toBe('sudo chown -R alice:alice /home/alice/.resonix');
    expect(wrongOwner.path).toBe('/home/alice/.resonix');
  });

  it.skipIf(!canChown)('a rootfs unpacked from a tarball gives the same report as the tree it was made from (needs root to keep owners)', async () => {
    const image = await machineFrom(await imageScenario(), { live: false });
    const direct = await image.image();
    // the tarball sits in a dir of its own: loose in the shared /tmp, a concurrent scan would take it for a backup
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-rootfs-'));
    const tarball = path.join(scratch, 'rootfs.tgz');
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-unpacked-'));
    try {
      execFileSync('tar', ['--numeric-owner', '-czf', tarball, '-C', image.root, '.']);
      execFileSync('tar', ['--numeric-owner', '-xzpf', tarball, '-C', unpacked]);
      const result = await image.cli(['image', unpacked, '--format', 'json']);
      const report = JSON.parse(result.stdout);
      expect(report.findings.map((finding: { ruleId: string }) => finding.ruleId)).toEqual(direct.report.findings.map((finding) => finding.ruleId));
      expect(report.installs).toEqual(direct.report.installs);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  });

  it('an image without any Resonix state fails with state/not-found', async () => {
    const scenario = await imageScenario();
    removeEntries(scenario, '{home}/.resonix');
    removeEntries(scenario, 'etc/systemd/system');
    removeEntries(scenario, '{home}/.config');
    removeEntries(scenario, '{home}/work');
    const { code, report } = await (await machineFrom(scenario, { live: false })).image();
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toContain('state/not-found');
  });
});
