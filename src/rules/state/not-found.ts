import type { Home, Rule, RuleReport } from '../../model.js';
import path from 'node:path';
import { isInside, mayHoldData, noteCutTrees, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/not-found',
    title: 'No state where the gateway will look',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'state/profile-mismatch', relation: 'named-by' }, { rule: 'perms/unreadable', relation: 'inside' }, { rule: 'perms/wrong-owner', relation: 'inside' }, { rule: 'copy/hidden-omitted', relation: 'inside' }],
    description:
      'Finds the state dir the gateway will use (its service unit\'s environment, else RESONIX_STATE_DIR, else ~/.resonix[-<profile>]) and checks that it exists and holds data.',
    why: 'A gateway that finds no state dir starts fresh: onboarding again, channels logged out, no history.',
    fix: 'Copy the old state dir to that place (rsync -a keeps modes and dot-files), or point the service at the dir that holds it.',
  },
  check({ machine, skip }) {
    noteCutTrees(machine, skip);
    if (machine.mode === 'image' && machine.homes.length === 0) {
      return [
        {
          message: 'This image has no Resonix state dir and no gateway service for any user in /etc/passwd.',
          path: '/',
          fix: { summary: 'Bake the state dir into the image under the gateway user\'s home.', commands: ['rsync -a <source>/.resonix/ <rootfs>/home/<user>/.resonix/'] },
        },
      ];
    }
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      for (const { stateDir, because } of gatewayStateDirs(home)) {
        const install = home.installs.find((candidate) => candidate.stateDir === stateDir);
        // a unit that names the state dir under the old home of a moved home, whose state arrived here: paths/foreign-home
        if (arrivedUnderThisHome(home, stateDir)) continue;
        // a profile never onboarded is what the old machine had too: its service starts it as it did there
        if (install?.inventory.exists && (mayHoldData(install) || install.neverOnboarded)) continue;
        const where = install?.inventory.exists ? 'is empty' : 'does not exist';
        const elsewhere = home.installs.filter((other) => other.stateDir !== stateDir && other.hasData).map((other) => other.stateDir);
        reports.push({
          message: `The gateway will use ${stateDir} (${because}), but it ${where}: it would start as a fresh install.`,
          path: stateDir,
          ...(install ? { install: install.id } : {}),
          ...(elsewhere.length > 0 ? { evidence: elsewhere.map((dir) => `state found instead in ${dir}`) } : {}),
          fix: {
            summary: elsewhere.length > 0 ? 'Point the gateway at the dir that holds the state, or move the state here.' : 'Copy the old state dir here.',
            commands: [
              ...(elsewhere.length > 0 ? [`rsync -a ${sh(elsewhere[0]!)}/ ${sh(stateDir)}/`] : []),
              `rsync -a <old-host>:${sh(stateDir)}/ ${sh(stateDir)}/`,
              'resonix doctor',
            ],
            ...(elsewhere.length > 0 ? { alternatives: true } : {}),
          },
        });
      }
    }
    return reports;
  },
};
export default rule;

/** The state dirs the gateway of this home will use: its services', else the CLI's. */
function gatewayStateDirs(home: Home): { stateDir: string; because: string }[] {
  if (home.services.length > 0) {
    return home.services.map((unit) => ({ stateDir: unit.resolution.stateDir, because: `service ${unit.name} resolves it` }));
  }
  const source = home.resolution.stateDirSource;
  const because = source === 'default' ? 'the default for this home' : source === 'flag' ? 'given with --state-dir' : `from ${source}`;
  return [{ stateDir: home.resolution.stateDir, because }];
}

function arrivedUnderThisHome(home: Home, stateDir: string): boolean {
  const old = home.oldHomes?.find((candidate) => isInside(stateDir, candidate.prefix));
  if (!old) return false;
  const here = path.posix.join(home.path, path.posix.relative(old.prefix, stateDir));
  return home.installs.some((install) => install.stateDir === here && install.inventory.exists && (mayHoldData(install) || install.neverOnboarded === true));
}
