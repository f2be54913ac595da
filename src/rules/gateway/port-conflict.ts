import { resonixCommand } from '../../knowledge/command.js';
import { gatewayPort, SQLITE_GATEWAY_LOCK } from '../../knowledge/layout.js';
import type { Home, Install, Rule, RuleReport } from '../../model.js';
import { installsOf, keyAt, liveLockFor } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'gateway/port-conflict',
    title: "Another process holds the gateway's port",
    severity: 'warning',
    phases: ['verify'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'config',
    description: "The install's gateway port (gateway.port, the service's RESONIX_GATEWAY_PORT, else 18789) accepts connections on 127.0.0.1 while no live gateway lock says this install's gateway is running.",
    why: 'The gateway cannot bind its port and exits (the service then crash-loops), or clients talk to whatever else is listening there.',
    fix: 'Stop the other process, or give this gateway another port (`resonix config set gateway.port <port>`) and reinstall the service.',
  },
  check({ machine, skip }) {
    const open = machine.runtime?.openPorts;
    if (!open) skip?.('ports are probed on a live machine only');
    if (!open || open.length === 0) return [];
    const reports: RuleReport[] = [];
    const reported = new Set<number>();
    for (const { home, install } of installsOf(machine)) {
      if (!install.inventory.exists || install.config.gatewayMode === 'remote') continue;
      if (!install.hasData && !install.config.exists) continue;
      const port = gatewayPort(home, install);
      if (!open.includes(port) || reported.has(port) || ownGatewayMayRun(home, install)) continue;
      reported.add(port);
      const cli = resonixCommand(install, home.path);
      const who = machine.platform === 'darwin' ? `lsof -nP -iTCP:${port} -sTCP:LISTEN` : `sudo ss -ltnp 'sport = :${port}'`;
      reports.push({
        message: `Port ${port} on 127.0.0.1, where the gateway of ${install.stateDir} listens, is already taken by another process: the gateway will fail to bind and not start.`,
        path: install.config.exists ? install.config.path : install.stateDir,
        ...(install.config.exists ? keyAt(install.config, 'gateway.port') : {}),
        install: install.id,
        evidence: [`127.0.0.1:${port} accepts connections`, 'no live gateway lock for this install'],
        fix: {
          summary: 'Find the process on the port and stop it (an old gateway from another profile or a leftover copy?), or move this gateway to a free port.',
          commands: [who, `${cli} config set gateway.port <free-port> && ${cli} gateway install --force`],
        },
      });
    }
    return reports;
  },
};
export default rule;

/** Our own gateway may hold the port: a live lock for this install, or a non-empty SQLite gateway lock (empty when idle). */
function ownGatewayMayRun(home: Home, install: Install): boolean {
  if (liveLockFor(home, install)) return true;
  return install.inventory.entries.some((entry) => entry.type === 'file' && entry.size > 0 && SQLITE_GATEWAY_LOCK.test(entry.path));
}
