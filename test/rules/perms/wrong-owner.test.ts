import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/wrong-owner.js';
import type { GatewayUser, Install } from '../../../src/model.js';
import { entries, home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const rootCopy = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries(['resonix.json', 'credentials/whatsapp/default/creds.json'], 0) } });

// the old machine: a Mac where alice is 501 and her files are in group staff (20)
const MAC_ALICE: GatewayUser = { name: 'alice', uid: 501, gid: 20, groups: [20], source: 'home-owner' };
function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice'), gatewayUser: MAC_ALICE, ownerUid: 501, ownerGid: 20 })], {
    platform: 'darwin',
    users: [{ name: 'alice', uid: 501, gid: 20, home: '/Users/alice' }],
    groups: [{ name: 'staff', gid: 20, members: [] }],
  });
}
const macEntries = (specs: string[]) => entries(specs, 501).map((entry) => ({ ...entry, gid: 20 }));
const baseline = oldMachine([install('/Users/alice/.resonix', [], { inventory: { root: '/Users/alice/.resonix', exists: true, entries: macEntries(['resonix.json', 'credentials/oauth.json']) } })]);
const withGroup = (gid: number) =>
  machine([home([install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries(['resonix.json', 'credentials/oauth.json']).map((entry) => ({ ...entry, gid: entry.path === '' ? 1000 : gid })) } })])]);

ruleCases(rule, {
  fires: [
    {
      name: 'copied as root without preserving owners',
      phase: 'verify',
      machine: machine([home([rootCopy])]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('owned by root');
        expect(reports[0]!.fix!.commands[0]).toBe('sudo chown -R alice:alice /home/alice/.resonix');
        expect(reports[0]!.fix!.actions![0]).toMatchObject({ kind: 'chown', uid: 1000, gid: 1000, recursive: true });
      },
    },
    {
      name: 'one file owned by another user',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json', ['agents/main/agent/auth-profiles.json', 0o600, 1001]])])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('1001 /home/alice/.resonix/agents/main/agent/auth-profiles.json'),
    },
    {
      name: "baseline: files in alice's own group (staff) there sit in root's group here",
      phase: 'verify',
      baseline,
      machine: withGroup(0),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.severity).toBe('warning');
        expect(reports[0]!.message).toBe("3 entries under /home/alice/.resonix are in group root; on the old machine they were in alice's own group (staff there, alice here).");
        expect(reports[0]!.fix!.actions![0]).toMatchObject({ kind: 'chown', path: '/home/alice/.resonix', uid: 1000, gid: 1000, recursive: true });
      },
    },
  ],
  passes: [
    { name: 'everything owned by alice', phase: 'verify', machine: machine() },
    { name: 'a gateway that runs as root can read anything', phase: 'verify', machine: machine([home([rootCopy], { gatewayUser: { name: 'root', uid: 0, gid: 0, groups: [0], source: 'service' } })]) },
    { name: "baseline: staff on the Mac, alice's own group here: no drift", phase: 'verify', baseline, machine: withGroup(1000) },
    {
      name: 'baseline: a file already in another group on the old machine is left alone',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', [], { inventory: { root: '/Users/alice/.resonix', exists: true, entries: macEntries(['resonix.json', 'credentials/oauth.json']).map((entry) => ({ ...entry, gid: 80 })) } })]),
      machine: withGroup(0),
    },
  ],
});
