import type { Rule, RuleReport } from '../../model.js';
import { mayHoldData, sh } from '../lib.js';

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
      'Compares the state dir the resonix CLI resolves with the one each gateway service unit resolves (RESONIX_STATE_DIR, RESONIX_CONFIG_PATH, RESONIX_PROFILE, HOME in the unit), and checks that the migrated data sits in the dir that will run.',
    why: 'When the service runs another profile or state dir than the one copied, the config is ignored, channels are logged out and history looks empty.',
    fix: 'Run the gateway with the migrated profile: `resonix gateway install --force` from that profile, then `resonix doctor`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      const cli = home.resolution;
      const cliInstall = home.installs.find((install) => install.stateDir === cli.stateDir);
      for (const unit of home.services) {
        if (unit.resolution.stateDir === cli.stateDir && unit.resolution.configPath === cli.configPath) continue;
        const unitInstall = home.installs.find((install) => install.stateDir === unit.resolution.stateDir);
        // reinstall from whichever side holds the migrated data
        const dataSide = cliInstall?.hasData || !unitInstall?.hasData ? cli.profile : unit.resolution.profile;
        const flag = dataSide ? ` --profile ${sh(dataSide)}` : '';
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
            commands: [`resonix${flag} gateway install --force`, `resonix${flag} doctor`],
          },
        });
      }
      // with no service, or with services that agree with the CLI: is the data where they run?
      if (home.services.some((unit) => unit.resolution.stateDir !== cli.stateDir)) continue;
      if (cliInstall && mayHoldData(cliInstall)) continue;
      const holders = home.installs.filter((install) => install.stateDir !== cli.stateDir && install.hasData && install.config.gatewayMode !== 'remote');
      for (const holder of holders) {
        const flag = holder.profile ? ` --profile ${sh(holder.profile)}` : '';
        reports.push({
          message: `The migrated data is in ${holder.stateDir}${holder.profile ? ` (profile ${holder.profile})` : ''}, but the gateway will run on ${cli.stateDir}, which ${cliInstall?.inventory.exists ? 'is empty' : 'does not exist'}.`,
          path: holder.stateDir,
          install: holder.id,
          fix: { summary: 'Run the gateway with the profile that holds the data.', commands: [`resonix${flag} gateway install --force`, `resonix${flag} doctor`] },
        });
      }
    }
    return reports;
  },
};
export default rule;
