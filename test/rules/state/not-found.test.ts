import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/not-found.js';
import { home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const missing = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: false, entries: [] }, hasData: false });

ruleCases(rule, {
  fires: [
    { name: 'the default state dir does not exist', phase: 'verify', machine: machine([home([missing])]) },
    {
      name: 'only an empty state dir',
      phase: 'verify',
      machine: machine([home([install('/home/alice/.resonix', ['credentials/'], { hasData: false })])]),
      expect: (reports) => expect(reports[0]!.message).toContain('is empty'),
    },
    {
      name: "the service's state dir is empty while the data sits in the default dir",
      phase: 'verify',
      machine: machine([home([install(), install('/home/alice/.resonix-work', [], { active: false, hasData: false })], { services: [service('/home/alice/.resonix-work')] })]),
      expect: (reports) => {
        expect(reports[0]!.path).toBe('/home/alice/.resonix-work');
        expect(reports[0]!.evidence?.[0]).toContain('/home/alice/.resonix');
      },
    },
    { name: 'an image with no Resonix at all', phase: 'image', machine: machine([], { mode: 'image' }) },
  ],
  passes: [
    { name: 'a copied state dir where the CLI looks', phase: 'verify', machine: machine() },
    { name: 'the service and the data agree', phase: 'verify', machine: machine([home([install()], { services: [service('/home/alice/.resonix')] })]) },
  ],
});
