import type { Rule, RuleReport } from '../../model.js';
import { hasMigratedState, installsOf, noteCutTrees, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/config-only',
    title: 'Only the config was copied',
    severity: 'error',
    phases: ['verify', 'image', 'inspect'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'perms/unreadable', relation: 'contains' }],
    description:
      'A state dir with resonix.json but none of: credentials, agent auth (auth-profiles.json or agent SQLite), sessions, state/*.sqlite. A profile that was never onboarded (a generated config with gateway.mode and a token, its backups and logs, nothing else: what a failed `gateway install --profile p` leaves) is not a config-only copy, and a state dir the scan could not read is not judged.',
    why: 'Copying only resonix.json leaves API keys, channel logins and every conversation behind: the gateway starts, but logged out and with no history.',
    fix: 'Copy the whole state dir, not just the config.',
  },
  check({ machine, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.config.exists || install.config.gatewayMode === 'remote' || install.inventory.truncated || install.inventory.unseen || install.neverOnboarded || hasMigratedState(install)) continue;
      reports.push({
        message: `${install.stateDir} has resonix.json but no credentials, agent auth, sessions or state database: only the config was copied.`,
        path: install.stateDir,
        install: install.id,
        fix: {
          summary: 'Copy the whole state dir from the old machine (with the gateway stopped there).',
          commands: [`rsync -a <old-host>:${sh(install.stateDir)}/ ${sh(install.stateDir)}/`, 'resonix doctor'],
        },
      });
    }
    return reports;
  },
};
export default rule;
