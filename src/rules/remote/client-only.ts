import type { Rule, RuleReport } from '../../model.js';
import { installsOf, keyAt } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'remote/client-only',
    title: 'This machine is only a client',
    severity: 'warning',
    phases: ['audit', 'verify'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'config',
    description:
      'The state dir this machine uses (the CLI\'s, or a service\'s) has gateway.mode "remote": the sessions, credentials and workspace live on the gateway host (gateway.remote.url).',
    why: 'Migrating a client machine moves none of the state that matters; the gateway host is the one to migrate.',
    fix: 'Migrate the gateway host; on this machine keep only the client config.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      // a thin-client profile beside a local gateway does not make this machine a client
      if (install.config.gatewayMode !== 'remote' || !(install.active || install.servedBy.length > 0)) continue;
      const host = install.config.remoteUrl ? ` (${install.config.remoteUrl})` : '';
      reports.push({
        message: `${install.config.path} points at a remote gateway${host}: that host owns the sessions and workspace, so migrating this machine moves none of them.`,
        path: install.config.path,
        ...keyAt(install.config, 'gateway.mode'),
        install: install.id,
        fix: {
          summary: 'Run resonix-migrate audit on the gateway host and migrate that one; here, keep only resonix.json.',
          commands: ['resonix-migrate audit   # on the gateway host'],
        },
      });
    }
    return reports;
  },
};
export default rule;
