// The absolute paths that file-based sessions.json files record (reference §9, §11): `sessionFile` of each
// session and paths cached in `skillsSnapshot`. Both break when the state dir or workspace moves.
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../archive/budget.js';
import { isInside, isStrictlyInside } from '../knowledge/paths.js';
import { BUDGET_CODE, type ScanProblem, type SessionPathRefs } from '../model.js';
import { hostPathInRoot } from './links.js';
import { readTextCapped } from './read.js';
import { InventoryPaths } from './inventory-paths.js';
import { scanSessions } from './sessions-scan.js';

export const MAX_SESSIONS_JSON_BYTES = 64 * 1024 * 1024;
/** every sessions.json of one scan together (issue 10): each may be 64 MiB, and a home may hold thousands */
export const MAX_SCAN_SESSIONS_JSON_BYTES = 256 * 1024 * 1024;
/**
 * sessions.json entries one scan judges (issue 10): each costs a few µs, one naming a transcript outside the state
 * dir a lookup on disk (~15 µs), and a hard-linked file is judged again at each link. A large real install has tens
 * of thousands.
 */
export const MAX_SCAN_SESSION_ENTRIES = 200_000;
/** at most this many paths of each kind per sessions.json */
export const MAX_SESSION_REFS = 500;

const ABSOLUTE = /^(\/|~\/|[A-Za-z]:[\\/])/;
const SAFE_SESSION_ID = /^[A-Za-z0-9._-]+$/;

type Plain = Record<string, unknown>;

function isObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A Set that stops growing at `MAX_SESSION_REFS`. */
function add(set: Set<string>, value: string): void {
  if (set.size < MAX_SESSION_REFS) set.add(value);
}

function collectPaths(value: unknown, out: Set<string>, depth = 0): void {
  if (out.size >= MAX_SESSION_REFS || depth > 64) return;
  if (typeof value === 'string') {
    if (ABSOLUTE.test(value)) add(out, value);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectPaths(item, out, depth + 1);
    return;
  }
  if (isObject(value)) for (const child of Object.values(value)) collectPaths(child, out, depth + 1);
}

interface Context {
  root: string;
  stateDir: string;
  /** the home the state dir is in: an old home prefix of a sessionFile maps onto it */
  home?: string;
  inventoryPaths: Pick<ReadonlySet<string>, 'has'>;
  /** sessions dir, relative to the state dir */
  sessionsDir: string;
}

/**
 * The transcript a sessionFile value names, when it is absent: its path relative to the state dir when it lies
 * inside it, else the value as written. Undefined when it is there, or when that cannot be told (a `~` path).
 */
function missingTranscript(context: Context, sessionFile: string): string | undefined {
  if (/^[A-Za-z]:[\\/]/.test(sessionFile)) return sessionFile;
  if (sessionFile.startsWith('~')) return undefined;
  const absolute = path.posix.isAbsolute(sessionFile)
    ? path.posix.normalize(sessionFile)
    : path.posix.join(context.stateDir, context.sessionsDir, sessionFile);
  if (isInside(absolute, context.stateDir)) {
    const relative = path.posix.relative(context.stateDir, absolute);
    return context.inventoryPaths.has(relative) ? undefined : relative;
  }
  try {
    if (fs.existsSync(hostPathInRoot(context.root, absolute))) return undefined;
  } catch {
    return undefined;
  }
  return relocatedTo(context, absolute) !== undefined ? undefined : sessionFile;
}

/**
 * Where a transcript named under another prefix arrived: the state dir's own path relative to the home (or
 * its name) found inside `absolute`, and what follows it listed in this state dir. /srv/alice/.resonix/agents/…
 * → .resonix/agents/… under /home/alice. Returns the old prefix and the new path.
 */
export function relocatedTo(context: Pick<Context, 'stateDir' | 'home' | 'inventoryPaths'>, absolute: string): { from: string; to: string } | undefined {
  const markers: { marker: string; homeBased: boolean }[] = [];
  if (context.home && isStrictlyInside(context.stateDir, context.home)) markers.push({ marker: path.posix.relative(context.home, context.stateDir), homeBased: true });
  markers.push({ marker: path.posix.basename(context.stateDir), homeBased: false });
  for (const { marker, homeBased } of markers) {
    const at = absolute.lastIndexOf(`/${marker}/`);
    if (at < 0) continue;
    const rest = absolute.slice(at + marker.length + 2);
    if (rest === '' || !context.inventoryPaths.has(rest)) continue;
    // home-based: the old home (/srv/alice); else the old state dir (/data/resonix)
    const from = homeBased ? absolute.slice(0, at) || '/' : absolute.slice(0, at + marker.length + 1);
    return { from, to: path.posix.join(context.stateDir, rest) };
  }
  return undefined;
}

/**
 * What a sessions.json holds that this file reads, wherever it lies: its entries' two names (one slot per
 * entry that is an object; a name that is not a string is read as absent), its skill paths.
 */
type ParsedSessions = { sessionFile: unknown[]; sessionId: unknown[]; skillPaths: string[] } | { parseError: string };

/** What one scan shares between its sessions.json reads. */
export interface SessionsBudget {
  /** the budget at the start (MAX_SCAN_SESSIONS_JSON_BYTES, MAX_SCAN_SESSION_ENTRIES) */
  limits: { bytes: number; entries: number };
  /** of MAX_SCAN_SESSIONS_JSON_BYTES: what is left to read */
  bytesLeft: number;
  /** of MAX_SCAN_SESSION_ENTRIES: what is left to judge */
  entriesLeft: number;
  /**
   * `dev:ino:size:mtime` → what a hard-linked file holds: the same inode (under other agents or installs, 50
   * links or 5,000) is read, parsed and charged once. The oldest are forgotten past MAX_SESSIONS_JSON_BYTES
   * of files; one read again is charged again.
   */
  parsed: Map<string, { holds: ParsedSessions; size: number }>;
  parsedBytes: number;
  /** the bytes, the entries ran out and a problem says so (each said once per scan) */
  reported: { bytes?: boolean; entries?: boolean };
}

export function sessionsBudget(bytes = MAX_SCAN_SESSIONS_JSON_BYTES, entries = MAX_SCAN_SESSION_ENTRIES): SessionsBudget {
  return { limits: { bytes, entries }, bytesLeft: bytes, entriesLeft: entries, parsed: new Map(), parsedBytes: 0, reported: {} };
}

function remember(budget: SessionsBudget, key: string, holds: ParsedSessions, size: number): void {
  for (const [oldKey, old] of budget.parsed) {
    if (budget.parsedBytes + size <= MAX_SESSIONS_JSON_BYTES) break;
    budget.parsed.delete(oldKey);
    budget.parsedBytes -= old.size;
  }
  budget.parsed.set(key, { holds, size });
  budget.parsedBytes += size;
}

/** The entries' names and the skill paths of a sessions.json text: through the fast scanner (sessions-scan.ts) when it is sure, else JSON.parse. */
function parseSessions(text: string): ParsedSessions {
  const scanned = scanSessions(text);
  if (scanned === undefined) return parseSessionsSlowly(text);
  const skillPaths = new Set<string>();
  for (const [, skillsSnapshot] of scanned.skillsSnapshots) collectPaths(skillsSnapshot, skillPaths);
  if (scanned.notObjects.length === 0) return { sessionFile: scanned.sessionFile, sessionId: scanned.sessionId, skillPaths: [...skillPaths] };
  // values that are no object have no slot
  const notObject = new Set(scanned.notObjects);
  const sessionFile: unknown[] = [];
  const sessionId: unknown[] = [];
  for (let slot = 0; slot < scanned.count; slot++) {
    if (notObject.has(slot)) continue;
    sessionFile.push(scanned.sessionFile[slot]);
    sessionId.push(scanned.sessionId[slot]);
  }
  return { sessionFile, sessionId, skillPaths: [...skillPaths] };
}

/** parseSessions through JSON.parse of the whole text, as JSON.parse + Object.values give the entries. */
function parseSessionsSlowly(text: string): ParsedSessions {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error: it could be a secret, so only say that it is invalid
    return { parseError: 'invalid JSON' };
  }
  if (!isObject(parsed)) return { parseError: 'not a JSON object' };
  const skillPaths = new Set<string>();
  const sessionFile: unknown[] = [];
  const sessionId: unknown[] = [];
  for (const entry of Object.values(parsed)) {
    if (!isObject(entry)) continue;
    sessionFile.push(entry.sessionFile);
    sessionId.push(entry.sessionId);
    if (entry.skillsSnapshot !== undefined) collectPaths(entry.skillsSnapshot, skillPaths);
  }
  return { sessionFile, sessionId, skillPaths: [...skillPaths] };
}

interface ScanShare {
  budget: SessionsBudget;
  problems: ScanProblem[];
}

/** What the file holds: from an earlier read of the same inode, else read within the budget (undefined: cut). */
function holdsOf(root: string, machinePath: string, scan: ScanShare): ParsedSessions | undefined {
  const host = hostPathInRoot(root, machinePath);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(host);
  } catch {
    stat = undefined;
  }
  // what is no regular file, or too large to read at all, readTextCapped refuses without reading: no budget spent
  const readable = stat?.isFile() === true && stat.size <= MAX_SESSIONS_JSON_BYTES;
  const key = readable ? `${stat!.dev}:${stat!.ino}:${stat!.size}:${stat!.mtimeMs}` : undefined;
  const known = key !== undefined ? scan.budget.parsed.get(key) : undefined;
  if (known) return known.holds;
  const { budget } = scan;
  if (readable && (budget.reported.bytes || stat!.size > budget.bytesLeft)) {
    if (!budget.reported.bytes) {
      budget.reported.bytes = true;
      scan.problems.push({
        path: machinePath,
        code: BUDGET_CODE,
        message: `stopped reading sessions.json files at ${machinePath}: the scan's budget (${formatBytes(budget.limits.bytes)} for every sessions.json) was spent; the ones past it were not checked for moved paths or missing transcripts`,
      });
    }
    return undefined;
  }
  const read = readTextCapped(host, MAX_SESSIONS_JSON_BYTES);
  if (!read.ok) return { parseError: read.reason.startsWith('too large') ? 'too large' : read.reason };
  budget.bytesLeft -= read.size;
  const holds = parseSessions(read.text);
  // only a file with other links can be met again: nothing else is kept
  if (key !== undefined && stat!.nlink > 1) remember(budget, key, holds, read.size);
  return holds;
}

function isSafeSessionId(sessionId: string): boolean {
  return SAFE_SESSION_ID.test(sessionId) && sessionId !== '.' && sessionId !== '..';
}

function readOne(root: string, stateDir: string, inventory: InventoryPaths, file: string, home: string | undefined, scan: ScanShare): SessionPathRefs {
  const refs: SessionPathRefs = { file, sessionFiles: [], skillPaths: [], missingTranscripts: [] };
  const holds = holdsOf(root, path.posix.join(stateDir, file), scan);
  if (holds === undefined) return { ...refs, parseError: "not read: the scan's sessions.json budget was spent" };
  if ('parseError' in holds) return { ...refs, parseError: holds.parseError };
  const context: Context = { root, stateDir, inventoryPaths: inventory, sessionsDir: path.posix.dirname(file), ...(home ? { home } : {}) };
  const transcriptPrefix = `${context.sessionsDir}/`;
  const sessionFiles = new Set<string>();
  const missing = new Set<string>();
  const relocated = new Map<string, { from: string; to: string }>();
  const { budget } = scan;
  const count = holds.sessionFile.length;
  const judged = Math.min(count, Math.max(0, budget.entriesLeft));
  budget.entriesLeft -= judged;
  // `<sessionId>.jsonl` beside sessions.json is there when the sessionId is among the stems of the dir's
  // names: looked up as it is (a string of the text), no path built for each
  const stems = inventory.transcriptStems(context.sessionsDir);
  for (let index = 0; index < judged; index++) {
    const sessionFile = holds.sessionFile[index];
    if (typeof sessionFile === 'string' && sessionFile !== '') {
      if (ABSOLUTE.test(sessionFile)) add(sessionFiles, sessionFile);
      const absent = missing.size < MAX_SESSION_REFS ? missingTranscript(context, sessionFile) : undefined;
      if (absent !== undefined) add(missing, absent);
      else if (relocated.size < MAX_SESSION_REFS && path.posix.isAbsolute(sessionFile) && !isInside(path.posix.normalize(sessionFile), stateDir)) {
        const moved = relocatedTo(context, path.posix.normalize(sessionFile));
        if (moved) relocated.set(sessionFile, { from: moved.from, to: moved.to });
      }
      continue;
    }
    const sessionId = holds.sessionId[index];
    // once `missing` is full nothing more can be added: skip the lookup
    if (typeof sessionId === 'string' && missing.size < MAX_SESSION_REFS && stems?.has(sessionId) !== true && isSafeSessionId(sessionId)) {
      add(missing, `${transcriptPrefix}${sessionId}.jsonl`);
    }
  }
  if (judged < count && !budget.reported.entries) {
    budget.reported.entries = true;
    const machinePath = path.posix.join(stateDir, file);
    scan.problems.push({
      path: machinePath,
      code: BUDGET_CODE,
      message: `stopped judging sessions.json entries at ${machinePath} (entry ${judged + 1} of ${count}): the scan's budget (${budget.limits.entries.toLocaleString('en-US')} entries for every sessions.json) was spent; the ones past it were not checked for moved paths or missing transcripts`,
    });
  }
  return {
    ...refs,
    sessionFiles: [...sessionFiles],
    skillPaths: [...holds.skillPaths],
    missingTranscripts: [...missing],
    ...(relocated.size > 0 ? { relocated: [...relocated.values()] } : {}),
  };
}

/**
 * Reads every `agents/<id>/sessions/sessions.json` of an install. `inventoryPaths` are the state dir's inventory
 * paths (relative; an InventoryPaths spares the Set of them all); a transcript counts as missing when its path
 * is not among them (inside the state dir) or, outside the state dir, when it is not on disk. Within
 * `scan.budget`, shared by every install of a scan (a fresh one when none is given); a cut is an EBUDGET
 * problem in `scan.problems`. Never throws.
 */
export function readSessionRefs(
  root: string,
  stateDir: string,
  inventoryPaths: ReadonlySet<string> | InventoryPaths,
  home?: string,
  scan: { budget?: SessionsBudget; problems?: ScanProblem[] } = {},
): SessionPathRefs[] {
  const share: ScanShare = { budget: scan.budget ?? sessionsBudget(), problems: scan.problems ?? [] };
  const inventory = inventoryPaths instanceof InventoryPaths ? inventoryPaths : InventoryPaths.ofSet(inventoryPaths);
  return inventory.sessionsFiles().map((file) => {
    try {
      return readOne(root, stateDir, inventory, file, home, share);
    } catch (error) {
      return { file, sessionFiles: [], skillPaths: [], missingTranscripts: [], parseError: (error as NodeJS.ErrnoException).code ?? 'cannot read' };
    }
  });
}
