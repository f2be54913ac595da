import { serviceCommand } from '../../knowledge/command.js';
import { installOfUnit } from '../../knowledge/layout.js';
import type { Rule, RuleReport, ServiceUnit } from '../../model.js';
import { sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'gateway/stale-service',
    title: 'The service points at paths that do not exist here',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'service',
    causedBy: [{ rule: 'paths/foreign-home', relation: 'under-old-home' }],
    description: "A service unit's ExecStart (node binary, entry script), WorkingDirectory or EnvironmentFile is missing on this machine, typically nvm, fnm, volta or Homebrew paths copied from the old machine.",
    why: 'systemd or launchd cannot start the gateway: it crash-loops with ENOENT or MODULE_NOT_FOUND, and the gateway never comes up after a reboot.',
    fix: 'Reinstall the service on this machine: `resonix gateway install --force`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      for (const unit of home.services) {
        const missing = unit.missingPaths ?? [];
        if (missing.length === 0) continue;
        const install = installOfUnit(home, unit);
        const fromManager = missing.some((item) => VERSION_MANAGER.test(item));
        const systemUnit = unit.kind === 'systemd-system';
        reports.push({
          message: `The service ${unit.name} starts ${missing.length === 1 ? 'a path that does' : 'paths that do'} not exist on this machine (${missing[0]}${missing.length > 1 ? `, … ${missing.length - 1} more` : ''}): the gateway will fail to start${fromManager ? ' — the unit still points at the old machine\'s Node version manager or Homebrew install' : ''}.`,
          path: unit.path,
          ...(install ? { install: install.id } : {}),
          evidence: sample(missing.map((item) => `missing: ${item}`)),
          fix: systemUnit
            ? {
                summary: `Point the system unit at this machine's node and Resonix (\`command -v node\`, \`npm root -g\`), then reload it.`,
                commands: [`sudo systemctl edit --full ${sh(unit.name)}`, restartCommand(unit)],
              }
            : {
                summary: "Rewrite the service from a shell where `node` and `resonix` are this machine's (install Node first if it is missing), then restart it.",
                commands: [`${serviceCommand(home, unit)} gateway install --force`, restartCommand(unit)],
              },
        });
      }
    }
    return reports;
  },
};
export default rule;

const VERSION_MANAGER = /\/(\.nvm|\.fnm|fnm|\.volta|\.asdf|mise|\.n|n\/versions)\/|\/(opt\/homebrew|usr\/local\/Cellar|home\/linuxbrew)\//;

/** After `resonix gateway install --force`: make the service manager pick up the rewritten unit. */
function restartCommand(unit: ServiceUnit): string {
  if (unit.kind === 'systemd-user') return `systemctl --user daemon-reload && systemctl --user restart ${sh(unit.name)}`;
  if (unit.kind === 'systemd-system') return `sudo systemctl daemon-reload && sudo systemctl restart ${sh(unit.name)}`;
  return `launchctl kickstart -k gui/$(id -u)/${sh(unit.name)}`;
}
