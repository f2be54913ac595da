import path from 'node:path';
import type { Home, Install, Rule, RuleReport } from '../../model.js';
import { installsOf, sh } from '../lib.js';

const MAIN_DATABASE = /^(state\/[^/]+\.sqlite|agents\/[^/]+\/agent\/resonix-agent\.sqlite|memory\/[^/]+\.sqlite|plugin-state\/[^/]+\.sqlite|tasks\/[^/]+\.sqlite)$/;

function gatewayLive(home: Home): boolean {
  return home.locks.some((lock) => lock.alive === true);
}

function tornDatabases(install: Install): string[] {
  return install.sqlite
    .filter((header) => header.valid && header.pageSize && header.pageCount && header.size < header.pageSize * header.pageCount)
    .map((header) => `${header.path}: ${header.size} bytes, the header says ${header.pageCount! * header.pageSize!}`);
}

function liveWals(install: Install): string[] {
  const files = new Map(install.inventory.entries.filter((entry) => entry.type === 'file').map((entry) => [entry.path, entry]));
  return [...files.values()]
    .filter((entry) => entry.path.endsWith('-wal') && entry.size > 0 && MAIN_DATABASE.test(entry.path.slice(0, -4)) && files.has(entry.path.slice(0, -4)))
    .map((entry) => `${entry.path}: ${entry.size} bytes not yet checkpointed`);
}

export const rule: Rule = {
  meta: {
    id: 'copy/sqlite-torn',
    title: 'SQLite database copied torn or live',
    severity: 'error',
    phases: ['audit', 'verify', 'inspect'],
    description:
      'A SQLite file is shorter than its header\'s page count says (read from the 100-byte header, never by opening the database), or, after the move, a database arrived with a non-empty -wal: it was copied while the gateway ran.',
    why: 'A live copy can miss committed data still in the -wal, or copy half a page: the gateway refuses the database or loses sessions and keys.',
    fix: 'Stop the gateway on the old machine, copy again (or `resonix backup create --verify`).',
  },
  check({ phase, machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const torn = tornDatabases(install);
      const wals = phase === 'verify' && !gatewayLive(home) ? liveWals(install) : [];
      if (torn.length === 0 && wals.length === 0) continue;
      reports.push({
        message:
          torn.length > 0
            ? `${torn.length} SQLite ${torn.length === 1 ? 'database is' : 'databases are'} shorter than their header says in ${install.stateDir}: the copy was cut off.`
            : `${install.stateDir} arrived with un-checkpointed SQLite -wal files: it was copied while the gateway was running.`,
        path: path.posix.join(install.stateDir, (torn[0] ?? wals[0]!).split(':')[0]!),
        install: install.id,
        evidence: [...torn, ...wals],
        fix: {
          summary: 'Copy again from the old machine with its gateway stopped (databases with their -wal and -shm).',
          commands: ['resonix gateway stop   # on the old machine', `rsync -a <old-host>:${sh(install.stateDir)}/ ${sh(install.stateDir)}/`],
        },
      });
    }
    return reports;
  },
};
export default rule;
