import { resonixCommand } from '../../knowledge/command.js';
import type { Rule, RuleReport } from '../../model.js';
import { installsOf } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'remote/mode-unset',
    title: 'gateway.mode is not set',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'config',
    description: 'The config has no gateway.mode.',
    why: 'The gateway refuses to start ("Gateway start blocked: set gateway.mode=local (current: unset)"): a config without it is treated as clobbered.',
    fix: 'Set gateway.mode to "local" (or "remote" on a client).',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const config = install.config;
      if (!config.exists || config.parseError || config.gatewayMode) continue;
      reports.push({
        message: `${config.path} has no gateway.mode: the gateway will refuse to start.`,
        path: config.path,
        install: install.id,
        fix: { summary: 'Set the mode (local on the gateway host).', commands: [`${resonixCommand(install, home.path)} config set gateway.mode local`] },
      });
    }
    return reports;
  },
};
export default rule;
