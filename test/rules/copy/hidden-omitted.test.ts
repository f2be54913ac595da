import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/hidden-omitted.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const noState = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: false, entries: [] }, hasData: false });
const workspaceDirs = [{ path: '/home/alice/work/agent-main', markers: ['AGENTS.md', 'SOUL.md'] }];

ruleCases(rule, {
  fires: [
    {
      name: 'cp ~/* brought the workspace but not .resonix',
      phase: 'verify',
      machine: machine([home([noState], { workspaceDirs })]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('/home/alice/work/agent-main'),
    },
  ],
  passes: [
    { name: 'state dir and workspace both arrived', phase: 'verify', machine: machine([home([install()], { workspaceDirs })]) },
    { name: 'nothing arrived at all (state/not-found)', phase: 'verify', machine: machine([home([noState])]) },
  ],
});
