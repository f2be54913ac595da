// Collects the facts of one state dir: its inventory, config, SQLite headers, .env keys, workspaces.
import path from 'node:path';
import { isStrictlyInside } from '../knowledge/paths.js';
import JSON5 from 'json5';
import { AGENT_DB, NOT_COPIED, STATE_DB, TRANSCRIPT } from '../knowledge/layout.js';
import { BUDGET_CODE, type ConfigSummary, type FileEntry, type FileInventory, type Install, type LayoutGeneration, type ScanProblem, type SqliteHeader, type SqliteWal, type Workspace } from '../model.js';
import { locateConfigKeys } from './config-keys.js';
import { agentLimit, emptyConfigSummary, ENTRIES_PER_AGENT, MAX_AGENTS, planWorkspaces, reportedKeys, summariseConfig } from './config-summary.js';
import { dotenvSecretValues, parseDotenv } from './dotenv.js';
import { summariseEnvVarKeys } from './config-env.js';
import { scanWorkspaceGit } from './git.js';
import { checkIncludes } from './includes.js';
import { InventoryPaths } from './inventory-paths.js';
import { readSessionRefs, type SessionsBudget } from './session-refs.js';
import { fsTypeOf, hostPathInRoot, resolveLink } from './links.js';
import { readHead, readTail, readTextCapped, type Reader } from './read.js';
import { profileOfStateDir } from './resolve.js';
import { SQLITE_HEADER_BYTES, isSqliteDatabasePath, parseSqliteHeader } from './sqlite-header.js';
import { readWalFacts } from './sqlite-wal.js';
import { DEFAULT_MAX_ENTRIES, walkTree, type WalkResult } from './walk.js';
import type { ProgressCounter } from '../progress.js';
import { entryWith } from '../knowledge/entry-copy.js';

export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
export const MAX_DOTENV_BYTES = 1024 * 1024;

export interface CollectContext {
  /** host path of the machine's root ('/' live, ROOTFS in image mode) */
  root: string;
  home: string;
  cwd?: string;
  /** entries the scan may still record, shared by every walk of one scan: memory stays bounded however many trees */
  entryBudget: { remaining: number };
  /** the scan's entry limit (`--max-entries`, default DEFAULT_MAX_ENTRIES): it sets the agent limit too (agentLimit) */
  maxEntries?: number;
  /** collects secret values seen while reading, for the masker; never stored in the Machine */
  secrets: Set<string>;
  problems: ScanProblem[];
  /** live scans follow a symlinked resonix.json / .env as Resonix does; image scans never do */
  followSymlinks?: boolean;
  /** ticked by the inventory walks (the CLI's progress line) */
  progress?: ProgressCounter;
  /** the walks keep each regular file's inode, links and blocks for the hasher (walk.ts walkIdentityOf) */
  fileIdentities?: boolean;
  /** live mounts, to tell tmpfs/ramfs */
  mounts?: { point: string; type: string }[];
  /** the gateway user: a file outside the home (a linked config or .env, an include) is read only if they could */
  reader?: Reader;
  /** what of sessions.json the scan may still read and judge, shared by every install of one scan (session-refs.ts) */
  sessionsBudget?: SessionsBudget;
}

/** Walks a tree within what is left of the scan's entry budget, and charges it. */
function walkWithin(context: CollectContext, hostRoot: string, machineRoot: string): WalkResult {
  const walked = walkTree(hostRoot, machineRoot, { maxEntries: context.entryBudget.remaining, ...(context.progress ? { progress: context.progress } : {}), ...(context.fileIdentities ? { identities: true } : {}) });
  context.entryBudget.remaining = Math.max(0, context.entryBudget.remaining - walked.inventory.entries.length);
  markUnseen(walked.inventory);
  return walked;
}

/** A tree whose root this process could not list: what is inside is unknown, and says so. */
export function markUnseen(inventory: FileInventory): void {
  // the root first: when it cannot be listed, nothing of the tree is known
  const root = inventory.entries.find((entry) => entry.path === '');
  const blocked = root?.unreadable ? root : inventory.entries.find((entry) => entry.type === 'dir' && entry.unreadable);
  if (blocked?.unreadable) inventory.unseen = { code: blocked.unreadable, uid: process.getuid?.() ?? 0 };
}

/** at most this many -wal files are read per install (each within WAL_FRAMES_READ frame headers) */
const MAX_WALS_READ = 200;

function readWals(context: CollectContext, stateDir: string, entries: FileEntry[]): SqliteWal[] {
  const wals: SqliteWal[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file' || !entry.path.endsWith('-wal') || entry.size === 0) continue;
    if (wals.length >= MAX_WALS_READ) break;
    try {
      wals.push(readWalFacts(hostPathInRoot(context.root, path.posix.join(stateDir, entry.path)), entry.path));
    } catch {
      // unreadable or gone: perms rules say so; an unread -wal is not judged torn
    }
  }
  return wals;
}

/** Marks symlinks whose target does not resolve (inside the machine root). */
export function markBrokenLinks(root: string, inventory: FileInventory): void {
  for (const entry of inventory.entries) {
    if (entry.type !== 'symlink') continue;
    const resolved = resolveLink(root, path.posix.join(inventory.root, entry.path));
    if (!resolved.ok) entry.linkBroken = true;
  }
}

/**
 * Parses the text of a resonix.json: a pure step, so it can be fuzzed. Secret values go to `secrets`; past
 * `maxAgents` agents the rest are only counted (`agentsOmitted`).
 */
export function parseConfigText(text: string, configPath: string, secrets: Set<string>, maxAgents = MAX_AGENTS): ConfigSummary {
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    const syntax = error as SyntaxError & { lineNumber?: number; columnNumber?: number };
    // JSON5's message quotes the offending character only: safe, no secret values
    const message = String(syntax.message ?? 'invalid JSON5').replace(/^JSON5: /, '');
    return {
      ...emptyConfigSummary(configPath, true),
      size: Buffer.byteLength(text),
      parseError: { message, ...(syntax.lineNumber ? { line: syntax.lineNumber } : {}), ...(syntax.columnNumber ? { column: syntax.columnNumber } : {}) },
    };
  }
  const { summary, secretValues } = summariseConfig(parsed, maxAgents);
  for (const value of secretValues) secrets.add(value);
  const positions = locateConfigKeys(text, reportedKeys(summary));
  return {
    path: configPath,
    exists: true,
    size: Buffer.byteLength(text),
    ...summary,
    envVarKeys: summariseEnvVarKeys(parsed),
    ...(positions.size > 0 ? { keyPositions: Object.fromEntries(positions) } : {}),
  };
}

export function readConfig(context: CollectContext, configPath: string): ConfigSummary {
  const read = readTextCapped(hostPathInRoot(context.root, configPath), MAX_CONFIG_BYTES, { followSymlinks: context.followSymlinks ?? false, ...(context.reader ? { reader: context.reader } : {}) });
  if (!read.ok) {
    if (read.reason === 'ENOENT' || read.reason === 'ENOTDIR') return emptyConfigSummary(configPath, false);
    return { ...emptyConfigSummary(configPath, true), parseError: { message: `cannot read: ${read.reason}` } };
  }
  const maxAgents = agentLimit(context.maxEntries ?? DEFAULT_MAX_ENTRIES);
  const summary = parseConfigText(read.text, configPath, context.secrets, maxAgents);
  if (summary.agentsOmitted) {
    const total = summary.agents.length + summary.agentsOmitted;
    const why = maxAgents < MAX_AGENTS ? `the scan's agent limit, one per ${ENTRIES_PER_AGENT} entries of --max-entries ${context.maxEntries}` : "the scan's agent limit";
    context.problems.push({ path: configPath, code: BUDGET_CODE, message: `${configPath} names ${total} agents: only the first ${maxAgents} were looked at (${why}); the other ${summary.agentsOmitted} were not checked` });
  }
  if (summary.parseError || summary.includes.length === 0) return summary;
  return { ...summary, includeChecks: checkIncludes(context.root, configPath, summary.includes, context.home, context.secrets, context.reader) };
}

export function generationOf(entries: FileEntry[]): LayoutGeneration {
  let sqlite = false;
  let files = false;
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    if (entry.path === STATE_DB || AGENT_DB.test(entry.path)) sqlite = true;
    if (/^agents\/[^/]+\/(agent\/auth-profiles\.json|sessions\/(sessions\.json|[^/]+\.jsonl))$/.test(entry.path)) files = true;
  }
  return sqlite && files ? 'mixed' : sqlite ? 'sqlite' : files ? 'file' : 'empty';
}

export function hasDataFiles(entries: FileEntry[]): boolean {
  return entries.some((entry) => entry.type === 'file' && !NOT_COPIED.test(entry.path));
}

/** What `gateway install --profile p` (or a thin-client setup) writes before anyone onboards (reference §12). */
const CONFIG_ONLY_FILE = /^(resonix\.json(\.bak(\.\d+)?|\.last-good)?|config-journal-fingerprint\.key|update-check\.json|(logs|migration)\/.+)$/;

/**
 * A profile that was never onboarded: a config the program generated (gateway.mode, a token) and its backups
 * and logs, nothing else — no onboarding run recorded, no agents, channels or auth profiles in the config, no
 * other file. Copied faithfully it is what the old machine had, not a damaged copy (reference §12).
 */
export function isNeverOnboarded(config: ConfigSummary, entries: FileEntry[]): boolean {
  if (!config.exists || config.parseError || !config.gatewayMode) return false;
  if (config.wizardLastRunVersion || config.agents.length > 0 || config.channels.length > 0 || config.whatsappAccounts.length > 0) return false;
  if (config.agentsDefaultWorkspace) return false;
  return entries.every((entry) => entry.type !== 'file' || CONFIG_ONLY_FILE.test(entry.path));
}

function readSqliteHeaders(context: CollectContext, stateDir: string, entries: FileEntry[]): SqliteHeader[] {
  const headers: SqliteHeader[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file' || entry.size === 0 || !isSqliteDatabasePath(entry.path)) continue;
    try {
      const head = readHead(hostPathInRoot(context.root, path.posix.join(stateDir, entry.path)), SQLITE_HEADER_BYTES);
      headers.push(parseSqliteHeader(entry.path, head, entry.size));
    } catch {
      headers.push({ path: entry.path, valid: false, size: entry.size });
    }
  }
  return headers;
}

function readDotenvKeys(context: CollectContext, stateDir: string): string[] {
  const read = readTextCapped(hostPathInRoot(context.root, path.posix.join(stateDir, '.env')), MAX_DOTENV_BYTES, { followSymlinks: context.followSymlinks ?? false, ...(context.reader ? { reader: context.reader } : {}) });
  if (!read.ok) return [];
  const values = parseDotenv(read.text);
  for (const value of dotenvSecretValues(values)) context.secrets.add(value);
  return Object.keys(values).sort();
}

/** a copy taken while the gateway runs tears the files being appended: the newest ones */
const NEWEST_TRANSCRIPTS_CHECKED = 200;

/**
 * The `count` entries with the latest mtimes, newest first (ties in their given order): what a stable sort by
 * mtime then a slice gives, without sorting 100,000 objects. A numeric sort of the mtimes finds the cut-off.
 */
export function newestFirst(entries: FileEntry[], count: number): FileEntry[] {
  let pool = entries;
  if (entries.length > count) {
    const times = Float64Array.from(entries, (entry) => entry.mtimeMs).sort();
    const cutoff = times[times.length - count]!;
    pool = entries.filter((entry) => entry.mtimeMs >= cutoff);
  }
  return [...pool].sort((a, b) => b.mtimeMs - a.mtimeMs).slice(0, count);
}

/** Transcripts whose last byte is not a newline, among the most recently written ones. */
function findPartialTranscripts(context: CollectContext, stateDir: string, entries: FileEntry[]): string[] {
  const newest = newestFirst(
    entries.filter((entry) => entry.type === 'file' && entry.size > 0 && TRANSCRIPT.test(entry.path)),
    NEWEST_TRANSCRIPTS_CHECKED,
  );
  const partial: string[] = [];
  for (const entry of newest) {
    try {
      if (readTail(hostPathInRoot(context.root, path.posix.join(stateDir, entry.path)), 1)[0] !== 0x0a) partial.push(entry.path);
    } catch {
      // unreadable or gone: other rules say so
    }
  }
  return partial.sort();
}

/** Entries of `inventory` that lie under `relativeDir`, re-rooted there. */
export function subInventory(inventory: FileInventory, relativeDir: string, machinePath: string): FileInventory {
  const prefix = `${relativeDir}/`;
  const entries = inventory.entries
    .filter((entry) => entry.path === relativeDir || entry.path.startsWith(prefix))
    .map((entry) => entryWith(entry, { path: entry.path === relativeDir ? '' : entry.path.slice(prefix.length) }));
  const exists = entries.some((entry) => entry.path === '');
  return { root: machinePath, exists, entries, ...(inventory.truncated ? { truncated: true } : {}), ...(inventory.unseen && !exists ? { unseen: inventory.unseen } : {}) };
}

function collectWorkspaces(context: CollectContext, stateDir: string, inventory: FileInventory, config: ConfigSummary, profile?: string): Workspace[] {
  const plans = planWorkspaces(config, { home: context.home, stateDir, ...(profile ? { profile } : {}), ...(context.cwd ? { cwd: context.cwd } : {}) });
  // agents that share a workspace share one look at it (walked, charged to the entry budget and git-read once)
  const seen = new Map<string, Pick<Workspace, 'inventory' | 'git'>>();
  return plans.map((plan) => {
    let facts = seen.get(plan.path);
    if (!facts) {
      facts = lookAtWorkspace(context, stateDir, inventory, plan.path);
      seen.set(plan.path, facts);
    }
    return { agentId: plan.agentId, path: plan.path, source: plan.source, ...facts };
  });
}

function lookAtWorkspace(context: CollectContext, stateDir: string, inventory: FileInventory, workspacePath: string): Pick<Workspace, 'inventory' | 'git'> {
  let workspaceInventory: FileInventory;
  const inside = isStrictlyInside(workspacePath, stateDir) ? subInventory(inventory, path.posix.relative(stateDir, workspacePath), workspacePath) : undefined;
  // a state dir cut short at the entry limit may not have reached the workspace: then look at it on its own
  if (inside && (inside.exists || !inventory.truncated || inventory.unseen)) {
    workspaceInventory = inside;
  } else {
    const walked = walkWithin(context, hostPathInRoot(context.root, workspacePath), workspacePath);
    context.problems.push(...walked.problems);
    workspaceInventory = walked.inventory;
    markBrokenLinks(context.root, workspaceInventory);
  }
  // git only on live machines: the workspace-git rule runs in audit and verify
  const hasGit = context.followSymlinks === true && workspaceInventory.entries.some((entry) => entry.path === '.git');
  const git = hasGit ? scanWorkspaceGit(hostPathInRoot(context.root, workspacePath)) : undefined;
  // a git check that could not look is said, never taken for a clean repository
  if (git?.unchecked) context.problems.push({ path: workspacePath, code: 'EGIT', message: `${workspacePath}: git check not done: ${git.error ?? 'unknown reason'}` });
  return { inventory: workspaceInventory, ...(git ? { git } : {}) };
}

/** The paths sessions.json files record (no Set of every inventory path: InventoryPaths looks up what it needs). */
function sessionRefsOf(context: CollectContext, stateDir: string, inventory: FileInventory): Install['sessionRefs'] {
  return readSessionRefs(context.root, stateDir, InventoryPaths.ofEntries(inventory.entries), context.home, { ...(context.sessionsBudget ? { budget: context.sessionsBudget } : {}), problems: context.problems });
}

export function collectInstall(
  context: CollectContext,
  stateDir: string,
  facts: { configPath?: string; active: boolean; foundBy: Install['foundBy']; profile?: string },
): Install {
  const walked = walkWithin(context, hostPathInRoot(context.root, stateDir), stateDir);
  context.problems.push(...walked.problems);
  const inventory = walked.inventory;
  markBrokenLinks(context.root, inventory);
  const fsType = context.mounts ? fsTypeOf(context.mounts, stateDir) : undefined;
  const config = readConfig(context, facts.configPath ?? path.posix.join(stateDir, 'resonix.json'));
  const profile = facts.profile ?? profileOfStateDir(stateDir);
  const workspaces = inventory.exists || config.exists ? collectWorkspaces(context, stateDir, inventory, config, profile) : [];
  const sqlite = readSqliteHeaders(context, stateDir, inventory.entries);
  const sqliteWals = readWals(context, stateDir, inventory.entries);
  const dotenvKeys = inventory.exists ? readDotenvKeys(context, stateDir) : [];
  return assembleInstall({
    stateDir,
    ...(profile ? { profile } : {}),
    active: facts.active,
    foundBy: facts.foundBy,
    inventory,
    config,
    workspaces,
    sqlite,
    sqliteWals,
    dotenvKeys,
    ...(fsType && inventory.exists ? { fsType } : {}),
    ...(inventory.exists ? { partialTranscripts: findPartialTranscripts(context, stateDir, inventory.entries) } : {}),
    // a truncated inventory would make every transcript look missing
    ...(inventory.exists && !inventory.truncated ? { sessionRefs: sessionRefsOf(context, stateDir, inventory) } : {}),
  });
}

export type InstallParts = Pick<Install, 'stateDir' | 'profile' | 'active' | 'foundBy' | 'inventory' | 'config' | 'workspaces' | 'sqlite' | 'sqliteWals' | 'dotenvKeys' | 'fsType' | 'partialTranscripts' | 'sessionRefs'>;

/**
 * One Install from the facts collected about a state dir, and what follows from them (layout generation,
 * data, never onboarded): the scan and the archive reader both build theirs here. Not yet served by a unit.
 */
export function assembleInstall(parts: InstallParts): Install {
  const { inventory, config } = parts;
  const neverOnboarded = inventory.exists && !inventory.truncated && !inventory.unseen && config.gatewayMode !== 'remote' && isNeverOnboarded(config, inventory.entries);
  return {
    id: parts.stateDir,
    stateDir: parts.stateDir,
    ...(parts.profile ? { profile: parts.profile } : {}),
    active: parts.active,
    servedBy: [],
    foundBy: parts.foundBy,
    inventory,
    generation: generationOf(inventory.entries),
    hasData: hasDataFiles(inventory.entries) && !neverOnboarded,
    ...(neverOnboarded ? { neverOnboarded } : {}),
    config,
    workspaces: parts.workspaces,
    sqlite: parts.sqlite,
    ...(parts.sqliteWals ? { sqliteWals: parts.sqliteWals } : {}),
    dotenvKeys: parts.dotenvKeys,
    ...(parts.fsType ? { fsType: parts.fsType } : {}),
    ...(parts.partialTranscripts ? { partialTranscripts: parts.partialTranscripts } : {}),
    ...(parts.sessionRefs ? { sessionRefs: parts.sessionRefs } : {}),
  };
}
