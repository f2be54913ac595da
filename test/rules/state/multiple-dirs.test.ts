import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/multiple-dirs.js';
import { home, install, machine } from '../../helpers/machine.js';
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
      },
    },
  ],
  passes: [
    { name: 'one state dir', machine: machine() },
    { name: 'a second dir that is empty', machine: machine([home([install(), install('/home/alice/.resonix-dev', [], { active: false, hasData: false })])]) },
  ],
});
