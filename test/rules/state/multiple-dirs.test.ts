import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/multiple-dirs.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'default and a profile dir both hold data',
      phase: 'audit',
      machine: machine([home([install(), install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work' })])]),
      expect: (reports) => {
        expect(reports[0]!.evidence).toHaveLength(2);
        expect(reports[0]!.fix!.commands.join('\n')).toContain('.resonix-work');
        // two local profiles, no service runs either: one may be a stray copy
        expect(reports[0]!.severity).toBeUndefined();
      },
    },
    {
      name: 'before the move, a thin-client profile beside the gateway: listed to archive, as info (a real layout, §12)',
      phase: 'audit',
      machine: machine([home([install(), install('/home/alice/.resonix-work', ['resonix.json', 'state/resonix.sqlite'], { active: false, profile: 'work', config: config({ gatewayMode: 'remote' }) })])]),
      expect: (reports) => {
        expect(reports[0]!.severity).toBe('info');
        expect(reports[0]!.message).toContain('each one must be archived');
      },
    },
    {
      name: 'before the move, a dir no service runs beside the one a unit runs: a stray copy, a warning',
      phase: 'audit',
      machine: machine([home([install(undefined, undefined, { servedBy: ['/home/alice/.config/systemd/user/resonix-gateway.service'] }), install('/home/alice/.resonix-old', undefined, { active: false, profile: 'old' })])]),
      expect: (reports) => expect(reports[0]!.severity).toBeUndefined(),
    },
    {
      name: 'before the move, one unit per profile: info',
      phase: 'audit',
      machine: machine([
        home([
          install(undefined, undefined, { servedBy: ['/home/alice/.config/systemd/user/resonix-gateway.service'] }),
          install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work', servedBy: ['/home/alice/.config/systemd/user/resonix-gateway-work.service'] }),
        ]),
      ]),
      expect: (reports) => expect(reports[0]!.severity).toBe('info'),
    },
  ],
  passes: [
    {
      name: 'after the move, a thin-client profile beside the gateway',
      phase: 'verify',
      machine: machine([home([install(), install('/home/alice/.resonix-work', ['resonix.json', 'state/resonix.sqlite'], { active: false, profile: 'work', config: config({ gatewayMode: 'remote' }) })])]),
    },
    { name: 'one state dir', machine: machine() },
    { name: 'a second dir that is empty', machine: machine([home([install(), install('/home/alice/.resonix-dev', [], { active: false, hasData: false })])]) },
  ],
});
