import type { Rule } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/multiple-dirs',
    title: 'More than one state dir holds data',
    severity: 'warning',
    phases: ['audit', 'verify', 'image'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    description:
      'Lists every state dir of a home (~/.resonix, ~/.resonix-<profile>, $RESONIX_STATE_DIR) that holds data. In audit every profile counts (each must be archived): as info when each is a deliberate profile (one service unit per profile, or the remote-mode config of a thin client, as the real program lays them out), as a warning when two or more dirs are explained by neither (a stray copy?); in verify and image a thin-client profile (gateway.mode remote) does not, since it cannot split the gateway state.',
    why: 'Each profile is a separate install: a migration that copies one leaves the others behind, and two dirs in use at once cause "pairing required" split-brain errors.',
    fix: 'Archive and migrate each profile; remove a stray one only after checking which is in use.',
  },
  check({ machine, phase }) {
    return machine.homes.flatMap((home) => {
      // before the move every profile must be archived; after it, only gateway state can split the brain
      const withData = home.installs.filter((install) => install.hasData && (phase === 'audit' || install.config.gatewayMode !== 'remote'));
      if (withData.length < 2) return [];
      const names = withData.map((install) => `${install.stateDir}${install.active ? ' (used by the CLI)' : ''}${install.servedBy.length ? ' (used by a service)' : ''}`);
      const archive = withData.map((install) => `tar -C ${sh(home.path)} -czf ${sh(`resonix-${install.profile ?? 'default'}.tgz`)} ${sh(install.stateDir.slice(home.path.length + 1))}`);
      // the real program's multi-profile layouts (reference §12: one unit per profile; a thin client's profile
      // with gateway.mode remote beside a gateway whose service is not installed) are no hazard before the move:
      // the audit's plan archives each profile. A dir that no service runs and no client config explains, beside
      // services that run the others, may be a stray copy: that stays a warning
      const unexplained = withData.filter((install) => install.servedBy.length === 0 && install.config.gatewayMode !== 'remote');
      const anyServed = withData.some((install) => install.servedBy.length > 0);
      const deliberate = phase === 'audit' && (unexplained.length === 0 || (unexplained.length === 1 && !anyServed));
      return [
        {
          ...(deliberate ? { severity: 'info' as const } : {}),
          message:
            phase === 'audit'
              ? `${withData.length} state dirs hold data in ${home.path}: each one must be archived and migrated.`
              : `${withData.length} state dirs hold data in ${home.path}: make sure the gateway runs the one you migrated.`,
          path: home.path,
          evidence: names,
          fix: { summary: 'Migrate every profile (then encrypt the archives); remove a stray dir once you know it is unused.', commands: archive },
        },
      ];
    });
  },
};
export default rule;
