import { expect } from 'vitest';
import { rule } from '../../../src/rules/gateway/service-missing.js';
import { config, home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const UNIT = '/home/alice/.config/systemd/user/resonix-gateway.service';

ruleCases(rule, {
  fires: [
    {
      name: 'migrated data, no unit (live linux)',
      machine: machine(),
      expect: (reports) => expect(reports[0]!.fix!.commands).toEqual(['resonix gateway install', expect.stringContaining('loginctl enable-linger alice')]),
    },
    {
      name: 'a profile with data and no unit',
      machine: machine([home([{ ...install(), servedBy: [UNIT] }, install('/home/alice/.resonix-work', undefined, { profile: 'work', active: false })], { services: [service(STATE)] })]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.fix!.commands[0]).toBe('resonix --profile work gateway install');
      },
    },
    { name: 'image without any unit', phase: 'image', machine: machine([home()], { mode: 'image' }) },
  ],
  passes: [
    { name: 'served by a user unit', machine: machine([home([{ ...install(), servedBy: [UNIT] }], { services: [service(STATE)] })]) },
    { name: 'remote client', machine: machine([home([install(undefined, undefined, { config: config({ gatewayMode: 'remote' }) })])]) },
    { name: 'empty state dir', machine: machine([home([install(undefined, [])])]) },
    {
      name: 'image with a system unit for the user',
      phase: 'image',
      machine: machine(
        [home([install()], { services: [service('/home/alice/.resonix-other', { kind: 'systemd-system', path: '/etc/systemd/system/resonix-gateway.service', user: 'alice' })] })],
        { mode: 'image' },
      ),
    },
  ],
});
