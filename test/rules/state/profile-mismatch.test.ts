import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/profile-mismatch.js';
import { home, install, machine, resolution, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'the service runs another profile than the CLI',
      machine: machine([home([install()], { services: [service('/home/alice/.resonix-work', { env: { HOME: '/home/alice', RESONIX_STATE_DIR: '/home/alice/.resonix-work' } })] })]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('/home/alice/.resonix-work');
        expect(reports[0]!.fix!.commands[0]).toContain('gateway install --force');
      },
    },
    {
      name: 'the data was copied into a profile dir but the default will run',
      machine: machine([
        home([install('/home/alice/.resonix', [], { hasData: false }), install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work' })]),
      ]),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe('resonix --profile work gateway install --force'),
    },
  ],
  passes: [
    { name: 'CLI and service agree', machine: machine([home([install()], { services: [service('/home/alice/.resonix')] })]) },
    {
      name: 'a second, remote-only profile is not the migrated data',
      machine: machine([home([install(), install('/home/alice/.resonix-work', ['resonix.json'], { active: false, config: { path: '/x', exists: true, gatewayMode: 'remote', agents: [], channels: [], whatsappAccounts: [], includes: [], envRefs: [], paths: [], inlineSecretKeys: [] } })])]),
    },
    { name: 'no service, CLI resolution with data', machine: machine([home([install()], { resolution: resolution() })]) },
  ],
});
