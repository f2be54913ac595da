// The absolute paths that file-based sessions.json files record (reference §9, §11): `sessionFile` of each
// session and paths cached in `skillsSnapshot`. Both break when the state dir or workspace moves.
import fs from 'node:fs';
import path from 'node:path';
import { isInside, isStrictlyInside } from '../knowledge/paths.js';
import type { SessionPathRefs } from '../model.js';
import { hostPathInRoot } from './links.js';
import { readTextCapped } from './read.js';
import { scanSessionEntries, type SessionEntryFields } from './sessions-scan.js';

export const MAX_SESSIONS_JSON_BYTES = 64 * 1024 * 1024;
/** at most this many paths of each kind per sessions.json */
export const MAX_SESSION_REFS = 500;

const SESSIONS_JSON = /^agents\/[^/]+\/sessions\/sessions\.json$/;
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
  inventoryPaths: ReadonlySet<string>;
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
 * The entries of a sessions.json text, as JSON.parse + Object.values give them, reduced to the fields read
 * here: through the fast scanner (sessions-scan.ts) when it is sure, else JSON.parse of the whole text.
 */
function sessionEntries(text: string): SessionEntryFields[] | { parseError: string } {
  const scanned = scanSessionEntries(text);
  if (scanned) return scanned;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text around the error: it could be a secret, so only say that it is invalid
    return { parseError: 'invalid JSON' };
  }
  if (!isObject(parsed)) return { parseError: 'not a JSON object' };
  return Object.values(parsed).map((entry) => {
    if (!isObject(entry)) return { object: false };
    const { sessionFile, sessionId, skillsSnapshot } = entry;
    return { object: true, sessionFile, sessionId, skillsSnapshot };
  });
}

function readOne(root: string, stateDir: string, inventoryPaths: ReadonlySet<string>, file: string, home?: string): SessionPathRefs {
  const refs: SessionPathRefs = { file, sessionFiles: [], skillPaths: [], missingTranscripts: [] };
  const read = readTextCapped(hostPathInRoot(root, path.posix.join(stateDir, file)), MAX_SESSIONS_JSON_BYTES);
  if (!read.ok) return { ...refs, parseError: read.reason.startsWith('too large') ? 'too large' : read.reason };
  const entries = sessionEntries(read.text);
  if (!Array.isArray(entries)) return { ...refs, ...entries };
  const context: Context = { root, stateDir, inventoryPaths, sessionsDir: path.posix.dirname(file), ...(home ? { home } : {}) };
  const transcriptPrefix = `${context.sessionsDir}/`;
  const sessionFiles = new Set<string>();
  const skillPaths = new Set<string>();
  const missing = new Set<string>();
  const relocated = new Map<string, { from: string; to: string }>();
  for (const entry of entries) {
    if (!entry.object) continue;
    const { sessionFile, sessionId, skillsSnapshot } = entry;
    if (typeof sessionFile === 'string' && sessionFile !== '') {
      if (ABSOLUTE.test(sessionFile)) add(sessionFiles, sessionFile);
      const absent = missing.size < MAX_SESSION_REFS ? missingTranscript(context, sessionFile) : undefined;
      if (absent !== undefined) add(missing, absent);
      else if (relocated.size < MAX_SESSION_REFS && path.posix.isAbsolute(sessionFile) && !isInside(path.posix.normalize(sessionFile), stateDir)) {
        const moved = relocatedTo(context, path.posix.normalize(sessionFile));
        if (moved) relocated.set(sessionFile, { from: moved.from, to: moved.to });
      }
    } else if (typeof sessionId === 'string' && SAFE_SESSION_ID.test(sessionId) && sessionId !== '.' && sessionId !== '..') {
      // once `missing` is full nothing more can be added: skip building the path and the lookup
      if (missing.size < MAX_SESSION_REFS) {
        const transcript = `${transcriptPrefix}${sessionId}.jsonl`;
        if (!inventoryPaths.has(transcript)) add(missing, transcript);
      }
    }
    if (skillsSnapshot !== undefined) collectPaths(skillsSnapshot, skillPaths);
  }
  return {
    ...refs,
    sessionFiles: [...sessionFiles],
    skillPaths: [...skillPaths],
    missingTranscripts: [...missing],
    ...(relocated.size > 0 ? { relocated: [...relocated.values()] } : {}),
  };
}

/**
 * Reads every `agents/<id>/sessions/sessions.json` of an install. `inventoryPaths` are the state dir's inventory
 * paths (relative); a transcript counts as missing when its path is not among them (inside the state dir) or,
 * outside the state dir, when it is not on disk. Never throws.
 */
export function readSessionRefs(root: string, stateDir: string, inventoryPaths: ReadonlySet<string>, home?: string): SessionPathRefs[] {
  const files: string[] = [];
  for (const file of inventoryPaths) if (file.endsWith('sessions.json') && SESSIONS_JSON.test(file)) files.push(file);
  files.sort();
  return files.map((file) => {
    try {
      return readOne(root, stateDir, inventoryPaths, file, home);
    } catch (error) {
      return { file, sessionFiles: [], skillPaths: [], missingTranscripts: [], parseError: (error as NodeJS.ErrnoException).code ?? 'cannot read' };
    }
  });
}
