// Facts of a Resonix install's layout (reference §1–§3, §11, §12): which files and dirs it keeps, which it
// rebuilds, where its databases, transcripts and locks live, which units serve it. Pure: no IO.
import type { Home, Install, ServiceUnit } from '../model.js';

/** The service units of `home` that run `install`. */
export function servicesFor(home: Home, install: Install): ServiceUnit[] {
  return home.services.filter((unit) => install.servedBy.includes(unit.path) || unit.resolution.stateDir === install.stateDir);
}

/** The gateway's main database (reference §3). */
export const STATE_DB = 'state/resonix.sqlite';

/** An agent's database (reference §3). */
export const AGENT_DB = /^agents\/[^/]+\/agent\/resonix-agent\.sqlite$/;
