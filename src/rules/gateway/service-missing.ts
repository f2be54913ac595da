import { resonixCommand } from '../../knowledge/command.js';
import type { Home, Machine, Rule, RuleReport } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'gateway/service-missing',
    title: 'No service runs the migrated state',
    severity: 'info',
    phases: ['verify', 'image'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'service',
    description: 'A local-mode state dir with data that no systemd unit or launchd agent runs.',
    why: 'Without a service the gateway does not start at boot or after a crash: channels stay offline until someone runs it by hand.',
    fix: 'Install the service for that profile: `resonix gateway install`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      if (machine.mode === 'image' && imageHasSystemUnitFor(machine, home)) continue;
      for (const install of home.installs) {
        if (!install.hasData || install.config.gatewayMode === 'remote' || install.servedBy.length > 0) continue;
        if (home.services.some((unit) => unit.resolution.stateDir === install.stateDir)) continue;
        const cli = resonixCommand(install, home.path);
        const user = home.user ?? home.gatewayUser.name;
        const commands =
          machine.mode === 'image'
            ? [`sudo -u ${sh(user ?? '<user>')} ${cli} gateway install   # on first boot, as the gateway user`]
            : [
                `${cli} gateway install`,
                ...(machine.platform === 'linux' && user ? [`sudo loginctl enable-linger ${sh(user)}   # start the user service at boot, without a login`] : []),
              ];
        reports.push({
          message: `No service runs ${install.stateDir}${install.profile ? ` (profile ${install.profile})` : ''}: the gateway will not start at boot or restart after a crash.`,
          path: install.stateDir,
          install: install.id,
          fix: { summary: 'Install the gateway service for this profile.', commands },
        });
      }
    }
    return reports;
  },
};
export default rule;

/** In an image: a system unit (/etc/systemd/system, `User=`) that runs the gateway for this home's user. */
function imageHasSystemUnitFor(machine: Machine, home: Home): boolean {
  return machine.homes.some((other) =>
    other.services.some(
      (unit) => unit.kind === 'systemd-system' && ((home.user !== undefined && unit.user === home.user) || unit.resolution.home === home.path),
    ),
  );
}
