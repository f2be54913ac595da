import path from 'node:path';
import type { Rule, RuleReport } from '../../model.js';
import { installsOf, keyAt, joinPath, plural, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'paths/env-missing',
    title: 'A variable the config needs is set nowhere',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'config',
    causedBy: [{ rule: 'copy/config-only', relation: 'inside' }],
    description:
      "Each `${VAR}` in the config and each `source: \"env\"` secret ref must be set by the env of the service that runs the install (Environment=, EnvironmentFile=), `<state>/.env`, `~/.config/resonix/gateway.env` (default state dir only), the config's own `env` section, or, with no service and on a live machine, the shell's env.",
    why: 'A missing variable is a hard error when Resonix loads the config: the gateway does not start. Secrets kept in the old shell profile or launchd env do not travel with the state dir.',
    fix: 'Add the variable to `<state>/.env` (mode 0600); the value is yours to fill in.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const needed = install.config.envRefs;
      if (needed.length === 0) continue;
      const units = home.services.filter((unit) => unit.resolution.stateDir === install.stateDir);
      const set = new Set<string>([...install.dotenvKeys, ...(install.config.envVarKeys ?? [])]);
      const sources = ['<state>/.env', 'config env'];
      for (const unit of units) {
        for (const key of unit.envKeys) set.add(key);
        for (const file of unit.environmentFiles) for (const key of file.keys) set.add(key);
        sources.push(`service ${unit.name}`);
      }
      if (install.stateDir === path.posix.join(home.path, '.resonix')) {
        for (const key of home.gatewayEnvKeys ?? []) set.add(key);
        sources.push('~/.config/resonix/gateway.env');
      }
      // a service does not inherit the shell's env; an image has no shell
      if (machine.mode === 'live' && units.length === 0) {
        for (const key of machine.processEnvKeys) set.add(key);
        sources.push('process env');
      }
      const missing = needed.filter((key) => !set.has(key));
      if (missing.length === 0) continue;
      const dotenv = joinPath(install.stateDir, '.env');
      reports.push({
        message: `${install.config.path} needs ${plural(missing.length, 'variable')} that nothing sets for this gateway (${missing.map((key) => `${key}=missing`).join(', ')}): Resonix refuses the config and the gateway does not start.`,
        path: install.config.path,
        ...keyAt(install.config, install.config.envRefKeys?.[missing[0]!]),
        install: install.id,
        evidence: [...missing.map((key) => `${key}=missing`), `looked in: ${sources.join(', ')}`],
        fix: {
          summary: `Add each variable to ${dotenv} (replace … with the value; it is not shown here), then restart the gateway.`,
          commands: missing.map((key) => `echo ${sh(`${key}=…`)} >> ${sh(dotenv)} && chmod 600 ${sh(dotenv)}`),
        },
      });
    }
    return reports;
  },
};
export default rule;
