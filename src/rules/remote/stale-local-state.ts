import type { Rule, RuleReport } from '../../model.js';
import { installsOf, sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'remote/stale-local-state',
    title: 'Remote mode, but local state too',
    severity: 'warning',
    phases: ['audit', 'verify', 'image'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description: 'gateway.mode is "remote" but the state dir also holds sessions, credentials or a workspace.',
    why: 'Two copies of the state exist and only one is in use: which one is authoritative is unclear, and the stale one still holds live secrets.',
    fix: 'Decide which host owns the state; archive and remove the stale copy.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (install.config.gatewayMode !== 'remote') continue;
      const local = install.inventory.entries.filter((entry) => entry.type === 'file' && LOCAL_STATE.test(entry.path)).map((entry) => entry.path);
      if (local.length === 0) continue;
      reports.push({
        message: `${install.stateDir} is configured as a remote client but still holds ${local.length} local session, credential or workspace files: it is unclear which copy is authoritative.`,
        path: install.stateDir,
        install: install.id,
        evidence: sample(local),
        fix: {
          summary: 'Keep the state on the gateway host; archive (encrypted) and remove the stale local copy.',
          commands: [`tar -C ${sh(install.stateDir)} -czf - . | age -p > stale-resonix-state.tgz.age`],
        },
      });
    }
    return reports;
  },
};
export default rule;

const LOCAL_STATE = /^(credentials\/.+|agents\/[^/]+\/sessions\/.+\.jsonl|agents\/[^/]+\/agent\/(auth-profiles\.json|resonix-agent\.sqlite)|workspace(-[^/]+)?\/.+)$/;
