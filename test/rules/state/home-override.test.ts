import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/home-override.js';
import { home, machine, resolution, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'RESONIX_HOME=~/.resonix in the shell',
      machine: machine([home(undefined, { resolution: resolution('/home/alice/.resonix', '/home/alice/.resonix/.resonix', { homeSource: 'RESONIX_HOME', resonixHome: '/home/alice/.resonix' }) })]),
      expect: (reports) => expect(reports[0]!.message).toContain('/home/alice/.resonix/.resonix'),
    },
    {
      name: 'RESONIX_HOME in the service unit',
      machine: machine([home(undefined, { services: [service('/home/alice/.resonix-work/.resonix', { env: { RESONIX_HOME: '/home/alice/.resonix-work/' } })] })]),
    },
  ],
  passes: [
    { name: 'no RESONIX_HOME', machine: machine() },
    { name: 'RESONIX_HOME at a real home dir', machine: machine([home(undefined, { resolution: resolution('/srv/alice', '/srv/alice/.resonix', { resonixHome: '/srv/alice' }) })]) },
  ],
});
