import path from 'node:path';
import { MAIN_DATABASE } from '../../knowledge/layout.js';
import { filesOf, sha256Of } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import { WAL_FRAME_HEADER_BYTES, WAL_HEADER_BYTES, walTornReasons } from '../../knowledge/sqlite-wal.js';
import type { Home, Install, Machine, Rule, RuleReport } from '../../model.js';
import { installsOf, noteCutTrees, sh, cutShort } from '../lib.js';

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
      'A SQLite file is shorter than its header\'s page count says or not a whole number of pages (read from the 100-byte header, never by opening the database), or a -wal is torn by its bytes: it ends inside a frame, its header checksum fails, its frame headers do not carry the header\'s salts, it holds frames but no database is beside it (read from the 32-byte WAL header and the 24-byte frame headers only, within a byte budget). A -wal of whole, matching frames is what a clean stop leaves: not torn. With a baseline: it had a non-empty -wal beside a database that arrived unchanged without it.',
    why: 'A live copy can miss committed data still in the -wal, or copy half a page: the gateway refuses the database or loses sessions and keys.',
    fix: 'Stop the gateway on the old machine, copy again (or `resonix backup create --verify`).',
  },
  check({ phase, machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      if (install.inventory.unseen) continue;
      const torn = tornDatabases(install);
      // a -wal is torn by its bytes, not by being there: a clean stop leaves one of whole frames (§12);
      // on the live machine of an audit the gateway may be writing it right now
      const wals = phase === 'audit' && gatewayLive(home) ? [] : tornWals(install);
      if (torn.length === 0 && wals.length === 0) continue;
      reports.push({
        message:
          torn.length > 0
            ? `${torn.length} SQLite ${torn.length === 1 ? 'database is' : 'databases are'} cut off in ${install.stateDir} (shorter than the header says, or not whole pages): the copy was cut off.`
            : phase === 'inspect'
              ? `The backup of ${install.stateDir} holds torn SQLite -wal files: it was taken while the gateway was writing them.`
              : `${install.stateDir} holds torn SQLite -wal files: they were copied while the gateway was writing them.`,
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

function gatewayLive(home: Home): boolean {
  return home.locks.some((lock) => lock.alive === true);
}

function tornDatabases(install: Install): string[] {
  const torn: string[] = [];
  for (const header of install.sqlite) {
    if (!header.valid || !header.pageSize) continue;
    if (header.pageCount && header.size < header.pageSize * header.pageCount) {
      torn.push(`${header.path}: ${header.size} bytes, the header says ${header.pageCount * header.pageSize}`);
    } else if (header.size % header.pageSize !== 0) {
      torn.push(`${header.path}: ${header.size} bytes, not a whole number of ${header.pageSize}-byte pages`);
    }
  }
  return torn;
}

/** A -wal of whole frames for some page size: all a listing (a backup) can tell without the bytes. */
function wholeFramesForSomePageSize(size: number): boolean {
  if (size === 0) return true;
  for (let pageSize = 512; pageSize <= 65536; pageSize *= 2) {
    if (size >= WAL_HEADER_BYTES && (size - WAL_HEADER_BYTES) % (WAL_FRAME_HEADER_BYTES + pageSize) === 0) return true;
  }
  return false;
}

/**
 * -wal files torn by their bytes (reference §12): a clean stop leaves whole frames whose salts match the
 * header. Read from the header and frame headers the scan took (sqlite-wal.ts); in a backup listing, where
 * only sizes are known, a size that is no whole number of frames.
 */
function tornWals(install: Install): string[] {
  const headers = new Map(install.sqlite.map((header) => [header.path, header]));
  if (install.sqliteWals === undefined) {
    return install.inventory.entries
      .filter((entry) => entry.type === 'file' && entry.path.endsWith('-wal') && !wholeFramesForSomePageSize(entry.size))
      .map((entry) => `${entry.path}: ${entry.size} bytes, not a whole number of WAL frames`);
  }
  const torn: string[] = [];
  // most installs have no -wal at all: the map of every file (a million on a big one) only when one is there
  const files = install.sqliteWals.length > 0 ? filesOf(install.inventory) : undefined;
  for (const wal of install.sqliteWals) {
    const databasePath = wal.path.slice(0, -4);
    const database = files?.get(databasePath);
    const header = headers.get(databasePath);
    const reasons = walTornReasons(wal, { present: database !== undefined && database.size > 0, ...(header?.valid && header.pageSize ? { pageSize: header.pageSize } : {}) });
    if (reasons.length > 0) torn.push(`${wal.path}: ${reasons.join('; ')}`);
  }
  return torn;
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
    if (!current?.inventory.exists || cutShort(current.inventory)) continue;
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
