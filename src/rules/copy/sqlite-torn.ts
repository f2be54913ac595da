import path from 'node:path';
import { filesOf } from '../../manifest/compare.js';
import { matchInstalls } from '../../manifest/match.js';
import { sha256Of } from '../../manifest/types.js';
import type { Home, Install, Machine, Rule, RuleReport } from '../../model.js';
import { installsOf, noteCutTrees, sh } from '../lib.js';

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
  const wals = install.inventory.entries.filter((entry) => entry.type === 'file' && entry.size > 0 && entry.path.endsWith('-wal') && MAIN_DATABASE.test(entry.path.slice(0, -4)));
  if (wals.length === 0) return [];
  const files = filesOf(install.inventory);
  return wals.filter((entry) => files.has(entry.path.slice(0, -4))).map((entry) => `${entry.path}: ${entry.size} bytes not yet checkpointed`);
}

/**
 * Baseline part: the baseline had a non-empty -wal beside a database, and here the database arrived
 * unchanged (same size, and same sha256 when both sides have one) without it: the committed data that
 * was still in the -wal is lost. A database that changed here was opened (and checkpointed) since.
 */
function leftBehindWals(machine: Machine, baseline: Machine): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists || current.inventory.truncated) continue;
    const lost: string[] = [];
    for (const wal of match.baseline.inventory.entries) {
      const relative = wal.path;
      if (wal.type !== 'file' || !relative.endsWith('-wal') || wal.size === 0) continue;
      const database = relative.slice(0, -4);
      const here = filesOf(current.inventory);
      if (!MAIN_DATABASE.test(database) || here.has(relative)) continue;
      const old = filesOf(match.baseline.inventory).get(database);
      const now = here.get(database);
      if (!old || !now || now.size !== old.size) continue;
      const oldHash = sha256Of(old);
      const nowHash = sha256Of(now);
      if (oldHash !== undefined && nowHash !== undefined && oldHash !== nowHash) continue;
      lost.push(`${relative}: ${wal.size} bytes in the baseline, missing here beside an unchanged ${database}`);
    }
    if (lost.length === 0) continue;
    reports.push({
      message: `${lost.length === 1 ? 'A SQLite -wal' : `${lost.length} SQLite -wal files`} of the old machine did not arrive in ${current.stateDir}: committed data still in ${lost.length === 1 ? 'it' : 'them'} is lost.`,
      path: path.posix.join(current.stateDir, lost[0]!.split(':')[0]!),
      install: current.id,
      evidence: lost,
      fix: {
        summary: 'Stop the gateway on the old machine (it checkpoints the -wal into the database), then copy the databases again.',
        commands: ['resonix gateway stop   # on the old machine', `rsync -a <old-host>:${sh(`${match.baseline.stateDir}/`)} ${sh(`${current.stateDir}/`)}`],
      },
    });
  }
  return reports;
}

export const rule: Rule = {
  meta: {
    id: 'copy/sqlite-torn',
    title: 'SQLite database copied torn or live',
    severity: 'error',
    phases: ['audit', 'verify', 'inspect'],
    area: 'sessions',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'perms/unreadable', relation: 'inside' }],
    description:
      'A SQLite file is shorter than its header\'s page count says (read from the 100-byte header, never by opening the database), or, after the move or in a backup, a database comes with a non-empty -wal: it was copied while the gateway ran. With a baseline: it had a non-empty -wal beside a database that arrived unchanged without it.',
    why: 'A live copy can miss committed data still in the -wal, or copy half a page: the gateway refuses the database or loses sessions and keys.',
    fix: 'Stop the gateway on the old machine, copy again (or `resonix backup create --verify`).',
  },
  check({ phase, machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const torn = tornDatabases(install);
      // a -wal that arrived (verify) or sits in a backup (inspect) was copied from a live database
      const wals = (phase === 'verify' && !gatewayLive(home)) || phase === 'inspect' ? liveWals(install) : [];
      if (torn.length === 0 && wals.length === 0) continue;
      reports.push({
        message:
          torn.length > 0
            ? `${torn.length} SQLite ${torn.length === 1 ? 'database is' : 'databases are'} shorter than their header says in ${install.stateDir}: the copy was cut off.`
            : phase === 'inspect'
              ? `The backup of ${install.stateDir} holds un-checkpointed SQLite -wal files: it was taken while the gateway was running.`
              : `${install.stateDir} arrived with un-checkpointed SQLite -wal files: it was copied while the gateway was running.`,
        path: path.posix.join(install.stateDir, (torn[0] ?? wals[0]!).split(':')[0]!),
        install: install.id,
        evidence: [...torn, ...wals],
        fix:
          phase === 'inspect'
            ? {
                summary: 'Make the backup again with the gateway stopped: it checkpoints the -wal into the database.',
                commands: ['resonix gateway stop   # on the machine the backup was made on', 'resonix backup create --verify'],
              }
            : {
                summary: 'Copy again from the old machine with its gateway stopped (databases with their -wal and -shm).',
                commands: ['resonix gateway stop   # on the old machine', `rsync -a <old-host>:${sh(install.stateDir)}/ ${sh(install.stateDir)}/`],
              },
      });
    }
    if (baseline && phase !== 'audit') reports.push(...leftBehindWals(machine, baseline));
    return reports;
  },
};
export default rule;
