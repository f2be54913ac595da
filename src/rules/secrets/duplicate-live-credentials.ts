import type { Rule, RuleReport, ServiceUnit } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'secrets/duplicate-live-credentials',
    title: 'Old gateway still enabled',
    severity: 'warning',
    phases: ['audit', 'verify'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description:
      'The old gateway is still enabled to start at boot: in audit, on this (old) machine (a warning); in verify, on the old machine as the baseline recorded it (an info reminder: the snapshot was taken before the move, so a correct migration still shows it).',
    why: 'Two hosts with the same channel tokens and OAuth refresh tokens fight: Telegram 409 conflicts, refresh_token_reused errors, WhatsApp desync.',
    fix: 'Disable the old service once the new host is verified.',
    tags: ['security'],
  },
  check({ phase, machine, baseline }) {
    const source = phase === 'audit' ? machine : baseline;
    if (!source) return [];
    const reports: RuleReport[] = [];
    for (const home of source.homes) {
      for (const unit of home.services.filter((candidate) => candidate.enabled)) {
        reports.push({
          ...(phase === 'audit' ? {} : { severity: 'info' as const }),
          message:
            phase === 'audit'
              ? `${unit.name} will start the gateway at boot on this machine: once the new host runs, both would use the same channel and OAuth tokens.`
              : `On the old machine, ${unit.name} was still enabled when the baseline was taken: if it runs, both hosts use the same channel and OAuth tokens.`,
          path: unit.path,
          fix: { summary: 'On the old machine, after verifying the new one:', commands: [disableCommand(unit)] },
        });
      }
    }
    return reports;
  },
};
export default rule;

function disableCommand(unit: ServiceUnit): string {
  if (unit.kind === 'launchd') return `launchctl bootout gui/$(id -u) ${sh(unit.path)}`;
  if (unit.kind === 'systemd-system') return `sudo systemctl disable --now ${sh(unit.name)}`;
  return `systemctl --user disable --now ${sh(unit.name)}`;
}
