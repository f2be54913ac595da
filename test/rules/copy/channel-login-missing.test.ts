import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/channel-login-missing.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'WhatsApp configured, credentials/ not copied',
      machine: machine([home([install(undefined, ['resonix.json', 'agents/main/agent/auth-profiles.json'], { config: config({ whatsappAccounts: [{ id: 'default' }] }) })])]),
      expect: (reports) => expect(reports[0]!.path).toBe('/home/alice/.resonix/credentials/whatsapp/default/creds.json'),
    },
    {
      name: 'an account with an authDir inside the state dir that is empty',
      machine: machine([home([install(undefined, undefined, { config: config({ whatsappAccounts: [{ id: 'work', authDir: '/home/alice/.resonix/wa-work' }] }) })])]),
    },
  ],
  passes: [
    { name: 'the login arrived', machine: machine([home([install(undefined, undefined, { config: config({ whatsappAccounts: [{ id: 'default' }] }) })])]) },
    { name: 'an authDir outside the state dir cannot be judged here', machine: machine([home([install(undefined, ['resonix.json'], { config: config({ whatsappAccounts: [{ id: 'x', authDir: '/srv/wa' }] }) })])]) },
  ],
});
