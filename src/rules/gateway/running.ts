import { resonixCommand } from '../../knowledge/command.js';
import { gatewayPort, servicesFor } from '../../knowledge/layout.js';
import type { GatewayLock, Home, Install, Rule, RuleReport } from '../../model.js';
import { installsOf, isStrictlyInside, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'gateway/running',
    title: 'The gateway is running',
    severity: 'error',
    phases: ['audit'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'stop',
    description: 'A gateway lock whose pid is alive, or the install\'s gateway port (gateway.port, the service\'s RESONIX_GATEWAY_PORT, else 18789) answering on loopback.',
    why: 'A running gateway keeps writing sessions, credentials and SQLite databases (in WAL mode): a copy taken now can be torn or miss committed data, and two hosts running one bot token fight over it.',
    fix: 'Stop the gateway (`resonix gateway stop`) and keep its service from restarting, then copy.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    const reportedInstalls = new Set<string>();
    for (const home of machine.homes) {
      for (const lock of home.locks) {
        if (lock.alive !== true) continue;
        const install = installOfLock(home, lock);
        if (install) reportedInstalls.add(install.id);
        else for (const item of home.installs) reportedInstalls.add(item.id);
        reports.push({
          message: `The Resonix gateway${install ? ` for ${install.stateDir}` : ''} is running${lock.pid ? ` (pid ${lock.pid})` : ''}: a copy taken now can catch sessions and databases mid-write. Stop it first.`,
          path: lock.path,
          ...(install ? { install: install.id } : {}),
          evidence: [`lock ${lock.path}${lock.pid ? `, pid ${lock.pid} alive` : ''}${lock.configPath ? `, config ${lock.configPath}` : ''}`],
          fix: { summary: 'Stop the gateway and keep its service from restarting, then copy the state dir.', commands: stopCommands(home, install) },
        });
      }
    }
    const open = machine.runtime?.openPorts;
    if (!open || open.length === 0) return reports;
    const reportedPorts = new Set<number>();
    for (const { home, install } of installsOf(machine)) {
      if (!install.inventory.exists || install.config.gatewayMode === 'remote' || reportedInstalls.has(install.id)) continue;
      const port = gatewayPort(home, install);
      if (!open.includes(port) || reportedPorts.has(port)) continue;
      reportedPorts.add(port);
      reports.push({
        message: `Something answers on 127.0.0.1:${port}, the gateway port of ${install.stateDir}: the gateway is most likely running, and a copy taken now can catch sessions and databases mid-write.`,
        path: install.stateDir,
        install: install.id,
        evidence: [`127.0.0.1:${port} accepts connections`],
        fix: { summary: 'Stop the gateway and keep its service from restarting, then copy the state dir.', commands: stopCommands(home, install) },
      });
    }
    return reports;
  },
};
export default rule;

/** The install a gateway lock belongs to: the one whose config it names, or whose state dir holds it. */
function installOfLock(home: Home, lock: GatewayLock): Install | undefined {
  return home.installs.find(
    (install) =>
      (lock.configPath !== undefined && lock.configPath === install.config.path) ||
      isStrictlyInside(lock.path, install.stateDir),
  );
}

function stopCommands(home: Home, install: Install | undefined): string[] {
  const commands = [`${install ? resonixCommand(install, home.path) : 'resonix'} gateway stop`];
  for (const unit of install ? servicesFor(home, install) : home.services) {
    if (!unit.enabled) continue;
    if (unit.kind === 'systemd-user') commands.push(`systemctl --user disable --now ${sh(unit.name)}   # so it does not restart; the new machine takes over`);
    else if (unit.kind === 'systemd-system') commands.push(`sudo systemctl disable --now ${sh(unit.name)}   # so it does not restart; the new machine takes over`);
    else commands.push(`launchctl bootout gui/$(id -u)/${sh(unit.name)}   # so it does not restart; the new machine takes over`);
  }
  return commands;
}
