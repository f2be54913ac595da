import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/channel-login-missing.js';
import type { Install } from '../../../src/model.js';
import { config, home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}
const baseline = oldMachine([install('/Users/alice/.resonix', ['resonix.json', 'credentials/whatsapp/default/creds.json', 'credentials/whatsapp/work/creds.json'])]);

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
    {
      name: 'baseline: the old machine had two WhatsApp logins; one is configured here (reported once), the other is not',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json'], { config: config({ whatsappAccounts: [{ id: 'default' }] }) })])]),
      expect: (reports) => {
        expect(reports.map((report) => report.path)).toEqual(['/home/alice/.resonix/credentials/whatsapp/default/creds.json', '/home/alice/.resonix/credentials/whatsapp/work/creds.json']);
        expect(reports[1]!.message).toContain('The old machine had a WhatsApp login for account work');
        expect(reports[1]!.fix!.commands[0]).toBe('rsync -a <old-host>:/Users/alice/.resonix/credentials/ /home/alice/.resonix/credentials/');
      },
    },
  ],
  passes: [
    {
      name: 'the scan stopped at its entry limit before credentials/ (--max-entries), with and without a baseline',
      phase: 'verify',
      baseline,
      machine: (() => {
        const cut = install(undefined, ['resonix.json'], { config: config({ whatsappAccounts: [{ id: 'default' }] }) });
        return machine([home([{ ...cut, inventory: { ...cut.inventory, truncated: true } }])]);
      })(),
    },
    { name: 'the login arrived', machine: machine([home([install(undefined, undefined, { config: config({ whatsappAccounts: [{ id: 'default' }] }) })])]) },
    { name: 'an authDir outside the state dir cannot be judged here', machine: machine([home([install(undefined, ['resonix.json'], { config: config({ whatsappAccounts: [{ id: 'x', authDir: '/srv/wa' }] }) })])]) },
    {
      name: 'baseline: both logins arrived',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', 'credentials/whatsapp/default/creds.json', 'credentials/whatsapp/work/creds.json'])])]),
    },
  ],
});
