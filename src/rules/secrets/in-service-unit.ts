import { serviceCommand } from '../../knowledge/command.js';
import type { Rule, RuleReport } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'secrets/in-service-unit',
    title: 'Secret embedded in a service unit',
    severity: 'warning',
    phases: ['audit', 'verify', 'image'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description: 'A systemd unit or launchd plist sets a secret (RESONIX_GATEWAY_TOKEN, API keys, tokens) directly in its environment.',
    why: 'Unit files are world-readable by default, get copied into images and backups, and keep the old token after it is rotated ("token mismatch").',
    fix: 'Move the value to <state>/.env (0600) or a secret ref, then reinstall the service.',
    tags: ['security'],
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      for (const unit of home.services) {
        if (unit.secretEnvKeys.length === 0) continue;
        const env = `${unit.resolution.stateDir}/.env`;
        reports.push({
          message: `${unit.name} embeds ${unit.secretEnvKeys.join(', ')} in its environment: the secret travels with the unit file and goes stale when rotated.`,
          path: unit.path,
          evidence: unit.secretEnvKeys.map((key) => `${key}=[masked]`),
          fix: {
            summary: `Move ${unit.secretEnvKeys.length === 1 ? 'it' : 'them'} to ${env} (values not shown), then reinstall the service so the unit no longer carries ${unit.secretEnvKeys.length === 1 ? 'it' : 'them'}.`,
            commands: [
              ...unit.secretEnvKeys.map((key) => `echo '${key}=…' >> ${sh(env)}`),
              `chmod 600 ${sh(env)}`,
              `${serviceCommand(home, unit)} gateway install --force`,
            ],
          },
        });
      }
    }
    return reports;
  },
};
export default rule;
