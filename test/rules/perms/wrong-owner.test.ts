import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/wrong-owner.js';
import { entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const rootCopy = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries(['resonix.json', 'credentials/whatsapp/default/creds.json'], 0) } });

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
  ],
  passes: [
    { name: 'everything owned by alice', phase: 'verify', machine: machine() },
    { name: 'a gateway that runs as root can read anything', phase: 'verify', machine: machine([home([rootCopy], { gatewayUser: { name: 'root', uid: 0, gid: 0, groups: [0], source: 'service' } })]) },
  ],
});
