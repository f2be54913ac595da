import path from 'node:path';
import { resonixCommand, serviceCommand } from '../../knowledge/command.js';
import type { Home, Rule, RuleReport, ServiceUnit } from '../../model.js';
import { mayHoldData } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/profile-mismatch',
    title: 'CLI and service use different state dirs',
    severity: 'error',
    phases: ['audit', 'verify', 'image'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'service',
    description:
      'Judges each gateway service unit against the profile it is named for (resonix-gateway.service / ai.resonix.gateway: the default profile; resonix-gateway-<p>.service / ai.resonix.<p>: profile <p>, reference §12): a mismatch is a unit whose state dir (RESONIX_STATE_DIR, RESONIX_CONFIG_PATH, RESONIX_PROFILE, HOME in the unit) is not that profile\'s. A unit of another name is compared with the state dir the CLI resolves. Then checks that the migrated data sits in a dir that will run.',
    why: 'When the service runs another profile or state dir than the one copied, the config is ignored, channels are logged out and history looks empty.',
    fix: 'Run the gateway with the migrated profile: `resonix gateway install --force` from that profile, then `resonix doctor`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      const cli = home.resolution;
      const cliInstall = home.installs.find((install) => install.stateDir === cli.stateDir);
      for (const unit of home.services) {
        // each unit serves the profile it is named for (§12): resonix-gateway-work.service runs ~/.resonix-work
        const named = profileOfUnit(unit);
        if (named !== undefined) {
          const expected = namedStateDir(home, unit, named);
          if (unit.resolution.stateDir === expected) continue;
          // the profile in this home, where the command runs (the unit's own HOME may be the old machine's)
          const command = resonixCommand({ profile: named });
          const unitInstall = home.installs.find((install) => install.stateDir === unit.resolution.stateDir);
          const namedInstall = home.installs.find((install) => install.stateDir === expected);
          reports.push({
            message: `Service ${unit.name} is named for ${named === '' ? 'the default profile' : `profile ${named}`} (${expected}), but runs the gateway on ${unit.resolution.stateDir}: that profile's config, channels and sessions are not the ones it serves.`,
            path: unit.path,
            ...(namedInstall ? { install: namedInstall.id } : unitInstall ? { install: unitInstall.id } : {}),
            evidence: [
              `Config (service): ${unit.resolution.configPath} (${unit.env.RESONIX_STATE_DIR ? 'RESONIX_STATE_DIR in the unit' : unit.env.HOME ? 'HOME in the unit' : 'unit default'})`,
              `named for: ${named === '' ? 'default profile' : `profile ${named}`} → ${expected}`,
              `data: ${namedInstall?.hasData ? expected : unitInstall?.hasData ? unit.resolution.stateDir : 'in neither'}`,
            ],
            fix: {
              summary: `Reinstall the service from the profile it is named for, so it runs that profile's state dir.`,
              commands: [`${command} gateway install --force`, `${command} doctor`],
            },
          });
          continue;
        }
        if (unit.resolution.stateDir === cli.stateDir && unit.resolution.configPath === cli.configPath) continue;
        const unitInstall = home.installs.find((install) => install.stateDir === unit.resolution.stateDir);
        // reinstall from whichever side holds the migrated data
        const command = cliInstall?.hasData || !unitInstall?.hasData ? resonixCommand(cli, home.path) : serviceCommand(home, unit);
        reports.push({
          message: `The resonix CLI uses ${cli.stateDir}, but service ${unit.name} runs the gateway on ${unit.resolution.stateDir}: they will not see the same config, channels or sessions.`,
          path: unit.path,
          ...(cliInstall ? { install: cliInstall.id } : {}),
          evidence: [
            `Config (cli): ${cli.configPath} (${cli.stateDirSource})`,
            `Config (service): ${unit.resolution.configPath} (${unit.env.RESONIX_STATE_DIR ? 'RESONIX_STATE_DIR in the unit' : unit.env.HOME ? 'HOME in the unit' : 'unit default'})`,
            `data: ${cliInstall?.hasData ? cli.stateDir : unitInstall?.hasData ? unit.resolution.stateDir : 'in neither'}`,
          ],
          fix: {
            summary: 'Reinstall the service from the profile that holds the migrated state, so both agree.',
            commands: [`${command} gateway install --force`, `${command} doctor`],
          },
        });
      }
      // with no service, or with services that agree with the CLI: is the data where they run?
      if (home.services.some((unit) => unit.resolution.stateDir !== cli.stateDir && profileOfUnit(unit) === undefined)) continue;
      if (home.services.some((unit) => profileOfUnit(unit) !== undefined && unit.resolution.stateDir !== namedStateDir(home, unit, profileOfUnit(unit)!))) continue;
      if (cliInstall && mayHoldData(cliInstall)) continue;
      // data a unit of its own runs is where a gateway runs
      const holders = home.installs.filter((install) => install.stateDir !== cli.stateDir && install.hasData && install.config.gatewayMode !== 'remote' && install.servedBy.length === 0);
      for (const holder of holders) {
        const command = resonixCommand(holder, home.path);
        reports.push({
          message: `The migrated data is in ${holder.stateDir}${holder.profile ? ` (profile ${holder.profile})` : ''}, but the gateway will run on ${cli.stateDir}, which ${cliInstall?.inventory.exists ? 'is empty' : 'does not exist'}.`,
          path: holder.stateDir,
          install: holder.id,
          fix: { summary: 'Run the gateway with the profile that holds the data.', commands: [`${command} gateway install --force`, `${command} doctor`] },
        });
      }
    }
    return reports;
  },
};
export default rule;

const PROFILE = '[a-z0-9][a-z0-9_-]{0,63}';
const SYSTEMD_NAME = new RegExp(`^resonix-gateway(?:-(${PROFILE}))?\\.service$`);
const LAUNCHD_NAME = new RegExp(`^ai\\.resonix\\.(${PROFILE})(?:\\.plist)?$`);

/**
 * The profile a unit is named for (reference §6): resonix-gateway.service and ai.resonix.gateway serve the
 * default profile ('' here), resonix-gateway-<p>.service and ai.resonix.<p> serve <p>. Undefined for other names.
 */
export function profileOfUnit(unit: Pick<ServiceUnit, 'name' | 'kind'>): string | undefined {
  const name = path.posix.basename(unit.name);
  const systemd = SYSTEMD_NAME.exec(name);
  if (systemd) return systemd[1] ?? '';
  const launchd = LAUNCHD_NAME.exec(name);
  if (launchd) return launchd[1] === 'gateway' ? '' : launchd[1]!;
  return undefined;
}

/** The state dir the profile a unit is named for has, in the home the unit runs with. */
function namedStateDir(home: Home, unit: ServiceUnit, profile: string): string {
  const base = unit.resolution.home || home.path;
  return path.posix.join(base, profile === '' ? '.resonix' : `.resonix-${profile}`);
}
