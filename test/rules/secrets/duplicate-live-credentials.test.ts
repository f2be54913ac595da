import { expect } from 'vitest';
import { rule } from '../../../src/rules/secrets/duplicate-live-credentials.js';
import { home, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const enabled = machine([home(undefined, { services: [service('/home/alice/.resonix')] })]);
const disabled = machine([home(undefined, { services: [service('/home/alice/.resonix', { enabled: false })] })]);

ruleCases(rule, {
  fires: [
    {
      name: 'audit: the old gateway is enabled at boot',
      phase: 'audit',
      machine: enabled,
      expect: (reports) => expect(reports[0]!.fix!.commands).toEqual(['systemctl --user disable --now resonix-gateway.service']),
    },
    { name: 'verify: the baseline says the old gateway was enabled (an info reminder)', phase: 'verify', machine: machine(), baseline: enabled, expect: (reports) => expect(reports[0]!.severity).toBe('info') },
  ],
  passes: [
    { name: 'audit: the old service is disabled', phase: 'audit', machine: disabled },
    { name: 'verify without a baseline cannot know', phase: 'verify', machine: enabled },
  ],
});
