// Whole machines for tests, built at run time from declarative scenario files (test/fixtures/*.json5).
// Git keeps no modes, owners, empty dirs, FIFOs, sparse files, SQLite headers or encrypted archives,
// so a scenario describes them and `materialise` makes them in a temp dir that acts as the machine's
// filesystem root. The format is documented in test/fixtures/README.md.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUtf8 } from 'node:buffer';
import JSON5 from 'json5';

// ---------------------------------------------------------------------------------------------
// Types

/** A user name from the scenario's `users` (or `root`), or a numeric id. */
export type OwnerRef = string | number;

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'sparse' | 'archive';
export type ArchiveFormat = 'tar' | 'tar.gz' | 'zip' | 'zip-encrypted' | 'gpg' | 'openssl' | 'age';

export interface ScenarioUser {
  name: string;
  uid: number;
  gid: number;
  /** machine path, e.g. /home/alice */
  home: string;
  /** login shell written to etc/passwd; default /bin/bash */
  shell?: string;
}

export interface ScenarioGroup {
  name: string;
  gid: number;
  /** supplementary members (user names) */
  members?: string[];
}

/** A SQLite -wal: a valid 32-byte header and whole frames (24-byte frame header + a page), checksums computed. */
export interface WalSpec {
  pageSize: number;
  frames: number;
  checkpointSeq?: number;
  salt1?: number;
  salt2?: number;
  /** magic 0x377f0683 (big-endian checksums) instead of 0x377f0682 */
  bigEndian?: boolean;
  /** the database size in pages written into the last frame (a commit frame); default: frames */
  dbPages?: number;
  /** cut the file to this many bytes (a torn copy) */
  truncateTo?: number;
  /** frames from this index on carry other salts (a header from another moment than its frames) */
  otherSaltsFrom?: number;
}

export interface SqliteSpec {
  /** a power of two from 512 to 65536 */
  pageSize: number;
  pageCount: number;
  /** PRAGMA user_version (header offset 60); default 0 */
  userVersion?: number;
  /** cut the file to this many bytes (a torn copy); default pageSize × pageCount */
  truncateTo?: number;
  /** file change counter (offset 24, repeated at offset 92); default 1 */
  changeCounter?: number;
  /** read/write format bytes 18–19: 2 for WAL (default, as Resonix runs), 1 for a rollback journal */
  journalMode?: 'wal' | 'delete';
  /** text written raw at the start of page 2 (placeholders expanded), like plaintext rows in a real database */
  payload?: string;
}

export interface ArchiveSpec {
  format: ArchiveFormat;
  /** root-relative dir the tool runs in ('' or '.' for the root); may contain {home} */
  cwd: string;
  /** arguments naming what to archive; members with * ? [ are left to bash to expand, as an interactive shell would */
  members: string[];
  /** passphrase of zip-encrypted, gpg and openssl archives; default ARCHIVE_PASSPHRASE */
  passphrase?: string;
  /** age only: root-relative path where the generated identity is kept (0600) */
  keyPath?: string;
}

export interface ScenarioEntry {
  /** relative to the root (a leading / means the same); `{home}` stands for the home's relative path; a trailing / means a dir */
  path: string;
  /** default: 'file', or 'dir' when path ends with '/', 'symlink' when target is given, 'archive' when archive is given */
  type?: EntryType;
  /** octal string, e.g. "0600"; default 0644 for files, FIFOs, sparse files and archives, 0755 for dirs */
  mode?: string;
  /** default: scenario `defaults.owner`, else left to whoever runs materialise (root in CI) */
  owner?: OwnerRef;
  /** default: scenario `defaults.group`, else the owner's primary group */
  group?: OwnerRef;
  /** ISO date, or relative to now: "now", "now-45m", "now+2h", "now-3d" (s, m, h, d) */
  mtime?: string;
  content?: string;
  json?: unknown;
  /** each value written as one line of JSON; the file ends with a newline */
  jsonl?: unknown[];
  base64?: string;
  sqlite?: SqliteSpec;
  wal?: WalSpec;
  /** symlink target, placeholders expanded, written as it is (absolute machine paths stay absolute) */
  target?: string;
  /** sparse: the apparent size (ftruncate, no data written); file: pad the content with NUL bytes up to this size (written) */
  size?: number;
  archive?: ArchiveSpec;
}

export interface Scenario {
  description: string;
  /** the main home, relative to the root, e.g. "home/alice" */
  home: string;
  users?: ScenarioUser[];
  groups?: ScenarioGroup[];
  /** environment of a process on this machine; values may hold placeholders */
  env?: Record<string, string>;
  /** owner and group of entries that name none */
  defaults?: { owner?: OwnerRef; group?: OwnerRef };
  entries: ScenarioEntry[];
  /** further secret values this scenario plants (placeholders expanded); added to Materialised.canaries */
  canaries?: string[];
}

export interface MaterialiseOptions {
  /** build in this dir (created when missing) instead of a fresh temp dir */
  root?: string;
  /** when not root: leave foreign owners unapplied (listed in skippedOwners) instead of throwing */
  allowOwnerSkip?: boolean;
  /**
   * a live machine: {homeAbs} expands to the home's host path, so absolute paths in configs and units
   * point at real places when the CLI runs live with --home (image tests leave this off)
   */
  live?: boolean;
}

export interface ArchiveSecrets {
  passphrase?: string;
  /** age: the AGE-SECRET-KEY-1… identity and its recipient */
  identity?: string;
  recipient?: string;
}

export interface Materialised {
  /** temp dir acting as the machine's filesystem root */
  root: string;
  /** absolute host path of the main home */
  home: string;
  /** the home as the machine sees it, e.g. /home/alice */
  homeAbs: string;
  /** scenario env with placeholders expanded */
  env: Record<string, string>;
  /** every canary value (CANARIES plus the scenario's own) */
  canaries: string[];
  /** secrets of the encrypted archives, by root-relative path */
  archives: Record<string, ArchiveSecrets>;
  /** root-relative parent dirs the helper made because no entry named them (0755, owned by whoever ran materialise) */
  autoDirs: string[];
  /** root-relative paths whose owner could not be applied (allowOwnerSkip) */
  skippedOwners: string[];
  scenario: Scenario;
  /** host path of a machine path (`/home/alice/x`, `~/x` or root-relative `home/alice/x`) */
  path(p: string): string;
  /** machine path of a host path under the root */
  machinePath(hostPath: string): string;
  cleanup(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Canaries: unmistakable fake secrets of the real shapes, planted where real installs keep secrets.

export const CANARY = {
  /** Anthropic API key: sk-ant-api03- + 93 + AA */
  anthropic: 'sk-ant-api03-CANARY-resonix-migrate-fake-anthropic-key-do-not-use_0000000000000000000000000000000000000000AA',
  /** gateway auth token: 48 hex, as onboarding writes (hex only, so it cannot spell "canary") */
  gateway: 'deadbeefcafebabedeadbeefcafebabedeadbeefcafebabe',
  /** a second gateway token: the remote gateway a thin client talks to */
  remote: 'feedfacec0ffee00feedfacec0ffee00feedfacec0ffee00',
  /** Telegram bot token: <bot id>:<35 chars> */
  telegram: '123456789:CANARYtelegramBotToken_do-not-use01',
  /** WhatsApp (Baileys) creds.json noiseKey.private: base64 of 32 bytes ("CANARY-whatsapp-noise-key-000001") */
  whatsapp: 'Q0FOQVJZLXdoYXRzYXBwLW5vaXNlLWtleS0wMDAwMDE=',
  /** GitHub personal access token: ghp_ + 36 */
  github: 'ghp_CANARYgithubPersonalToken00000000001',
  /** OpenRouter key: sk-or-v1- + 64 hex */
  openrouter: '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',
  /** device identity: base64 body of a real PKCS#8 Ed25519 private key whose seed is "CANARY-device-ed25519-private-01" */
  device: 'MC4CAQAwBQYDK2VwBCIEIENBTkFSWS1kZXZpY2UtZWQyNTUxOS1wcml2YXRlLTAx',
  /** device token (identity/device-auth.json, devices/paired.json) */
  devicetoken: 'CANARYdeviceToken_resonix-migrate-000000001',
} as const;

export type CanaryName = keyof typeof CANARY;
export const CANARIES: readonly string[] = Object.values(CANARY);

/** The public key matching CANARY.device (SPKI DER, base64), and the deviceId Resonix derives (sha256 of the raw key). */
export const CANARY_DEVICE_PUBLIC_KEY = 'MCowBQYDK2VwAyEAjzU3i4+qReft8OnZjK3OfeCGxxG1NZ4aQYU/OsMmVmE=';
export const CANARY_DEVICE_ID = '9742918873b9f73051e4808fd5b663c677742e9d8eafa78f4a465a31648292da';

/** Default passphrase of encrypted archives. Not a canary: tests hand it to the CLI. */
export const ARCHIVE_PASSPHRASE = 'resonix-migrate-test-passphrase';

/** The canaries (or given extra values) that occur in text. */
export function findCanaries(text: string, extra: readonly string[] = []): string[] {
  return [...new Set([...CANARIES, ...extra])].filter((value) => value !== '' && text.includes(value));
}

// ---------------------------------------------------------------------------------------------
// Constants and small helpers

export const canChown = process.getuid?.() === 0;

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures');
export const CLI_PATH = path.join(REPO_ROOT, 'bin', 'resonix-migrate.js');

const DEFAULT_FILE_MODE = 0o644;
const DEFAULT_DIR_MODE = 0o755;
const AUTO_DIR_MODE = 0o755;

class ScenarioError extends Error {
  constructor(where: string, message: string) {
    super(`scenario ${where}: ${message}`);
    this.name = 'ScenarioError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(where: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ScenarioError(where, `unknown key "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Loading and editing scenarios

/** A fixture by name (test/fixtures/<name>.json5) or by path ending in .json5, parsed fresh (safe to mutate). */
export async function loadScenario(name: string): Promise<Scenario> {
  const file = name.endsWith('.json5') ? path.resolve(FIXTURES_DIR, name) : path.join(FIXTURES_DIR, `${name}.json5`);
  const text = await fsp.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    throw new ScenarioError(name, `cannot parse ${file}: ${(error as Error).message}`);
  }
  validateScenario(name, parsed);
  return parsed;
}

function normaliseEntryKey(p: string): string {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** The (last) entry with this path, as written in the scenario (`{home}/.resonix/`; trailing / ignored). */
export function entry(scenario: Scenario, p: string): ScenarioEntry {
  const key = normaliseEntryKey(p);
  for (let i = scenario.entries.length - 1; i >= 0; i--) {
    const candidate = scenario.entries[i]!;
    if (normaliseEntryKey(candidate.path) === key) return candidate;
  }
  throw new Error(`no entry ${p} in scenario "${scenario.description}"`);
}

/** Removes the entry at this path and every entry below it; returns how many were removed. */
export function removeEntries(scenario: Scenario, p: string): number {
  const key = normaliseEntryKey(p);
  const before = scenario.entries.length;
  scenario.entries = scenario.entries.filter((e) => {
    const k = normaliseEntryKey(e.path);
    return k !== key && !k.startsWith(`${key}/`);
  });
  return before - scenario.entries.length;
}

const SCENARIO_KEYS = ['description', 'home', 'users', 'groups', 'env', 'defaults', 'entries', 'canaries'] as const;
const ENTRY_KEYS = ['path', 'type', 'mode', 'owner', 'group', 'mtime', 'content', 'json', 'jsonl', 'base64', 'sqlite', 'wal', 'target', 'size', 'archive'] as const;
const WAL_KEYS = ['pageSize', 'frames', 'checkpointSeq', 'salt1', 'salt2', 'bigEndian', 'dbPages', 'truncateTo', 'otherSaltsFrom'] as const;
const SQLITE_KEYS = ['pageSize', 'pageCount', 'userVersion', 'truncateTo', 'changeCounter', 'journalMode', 'payload'] as const;
const ARCHIVE_KEYS = ['format', 'cwd', 'members', 'passphrase', 'keyPath'] as const;
const ENTRY_TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'fifo', 'sparse', 'archive'];
const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['tar', 'tar.gz', 'zip', 'zip-encrypted', 'gpg', 'openssl', 'age'];

function isOwnerRef(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isInteger(value) && value >= 0);
}

function validateScenario(where: string, value: unknown): asserts value is Scenario {
  if (!isRecord(value)) throw new ScenarioError(where, 'not an object');
  checkKeys(where, value, SCENARIO_KEYS);
  if (typeof value.description !== 'string' || value.description.trim() === '') throw new ScenarioError(where, 'needs a description');
  if (typeof value.home !== 'string' || normaliseEntryKey(value.home) === '') throw new ScenarioError(where, 'needs home, e.g. "home/alice"');
  if (value.users !== undefined) {
    if (!Array.isArray(value.users)) throw new ScenarioError(where, 'users must be an array');
    for (const user of value.users) {
      if (!isRecord(user)) throw new ScenarioError(where, 'a user must be an object');
      checkKeys(`${where} user`, user, ['name', 'uid', 'gid', 'home', 'shell']);
      if (typeof user.name !== 'string' || !Number.isInteger(user.uid) || !Number.isInteger(user.gid) || typeof user.home !== 'string') {
        throw new ScenarioError(where, `user ${JSON.stringify(user)} needs name, uid, gid, home`);
      }
    }
  }
  if (value.groups !== undefined) {
    if (!Array.isArray(value.groups)) throw new ScenarioError(where, 'groups must be an array');
    for (const group of value.groups) {
      if (!isRecord(group)) throw new ScenarioError(where, 'a group must be an object');
      checkKeys(`${where} group`, group, ['name', 'gid', 'members']);
      if (typeof group.name !== 'string' || !Number.isInteger(group.gid)) throw new ScenarioError(where, `group ${JSON.stringify(group)} needs name, gid`);
    }
  }
  if (value.env !== undefined) {
    if (!isRecord(value.env)) throw new ScenarioError(where, 'env must be an object');
    for (const [key, v] of Object.entries(value.env)) {
      if (typeof v !== 'string') throw new ScenarioError(where, `env ${key} must be a string`);
    }
  }
  if (value.defaults !== undefined) {
    if (!isRecord(value.defaults)) throw new ScenarioError(where, 'defaults must be an object');
    checkKeys(`${where} defaults`, value.defaults, ['owner', 'group']);
    for (const key of ['owner', 'group'] as const) {
      if (value.defaults[key] !== undefined && !isOwnerRef(value.defaults[key])) throw new ScenarioError(where, `defaults.${key} must be a name or an id`);
    }
  }
  if (value.canaries !== undefined && (!Array.isArray(value.canaries) || !value.canaries.every((c) => typeof c === 'string'))) {
    throw new ScenarioError(where, 'canaries must be an array of strings');
  }
  if (!Array.isArray(value.entries)) throw new ScenarioError(where, 'needs entries (an array)');
  value.entries.forEach((e, index) => validateEntry(`${where} entries[${index}]`, e));
}

function validateEntry(where: string, e: unknown): void {
  if (!isRecord(e)) throw new ScenarioError(where, 'an entry must be an object');
  checkKeys(where, e, ENTRY_KEYS);
  if (typeof e.path !== 'string' || normaliseEntryKey(e.path) === '') throw new ScenarioError(where, 'needs a path');
  where = `${where} (${e.path})`;
  if (e.type !== undefined && !ENTRY_TYPES.includes(e.type as EntryType)) throw new ScenarioError(where, `unknown type ${String(e.type)}`);
  if (e.mode !== undefined && (typeof e.mode !== 'string' || !/^0?[0-7]{3,4}$/.test(e.mode))) {
    throw new ScenarioError(where, `mode must be an octal string like "0600", not ${JSON.stringify(e.mode)}`);
  }
  for (const key of ['owner', 'group'] as const) {
    if (e[key] !== undefined && !isOwnerRef(e[key])) throw new ScenarioError(where, `${key} must be a name or an id`);
  }
  if (e.mtime !== undefined && (typeof e.mtime !== 'string' || parseMtime(e.mtime) === undefined)) {
    throw new ScenarioError(where, `mtime must be an ISO date or now±N[smhd], not ${JSON.stringify(e.mtime)}`);
  }
  const sources = (['content', 'json', 'jsonl', 'base64', 'sqlite', 'wal'] as const).filter((key) => e[key] !== undefined);
  if (sources.length > 1) throw new ScenarioError(where, `give one of content, json, jsonl, base64, sqlite, wal (got ${sources.join(', ')})`);
  if (e.wal !== undefined) {
    if (!isRecord(e.wal)) throw new ScenarioError(where, 'wal must be an object');
    checkKeys(`${where} wal`, e.wal, WAL_KEYS);
    const { pageSize, frames } = e.wal;
    if (typeof pageSize !== 'number' || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new ScenarioError(where, 'wal.pageSize must be a power of two from 512 to 65536');
    if (typeof frames !== 'number' || !Number.isInteger(frames) || frames < 0) throw new ScenarioError(where, 'wal.frames must be ≥ 0');
  }
  if (e.content !== undefined && typeof e.content !== 'string') throw new ScenarioError(where, 'content must be a string');
  if (e.jsonl !== undefined && !Array.isArray(e.jsonl)) throw new ScenarioError(where, 'jsonl must be an array');
  if (e.base64 !== undefined && typeof e.base64 !== 'string') throw new ScenarioError(where, 'base64 must be a string');
  if (e.target !== undefined && typeof e.target !== 'string') throw new ScenarioError(where, 'target must be a string');
  if (e.size !== undefined && (typeof e.size !== 'number' || !Number.isInteger(e.size) || e.size < 0)) throw new ScenarioError(where, 'size must be a whole number');
  if (e.sqlite !== undefined) {
    if (!isRecord(e.sqlite)) throw new ScenarioError(where, 'sqlite must be an object');
    checkKeys(`${where} sqlite`, e.sqlite, SQLITE_KEYS);
    const { pageSize, pageCount } = e.sqlite;
    if (typeof pageSize !== 'number' || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
      throw new ScenarioError(where, 'sqlite.pageSize must be a power of two from 512 to 65536');
    }
    if (typeof pageCount !== 'number' || !Number.isInteger(pageCount) || pageCount < 1) throw new ScenarioError(where, 'sqlite.pageCount must be ≥ 1');
    if (e.sqlite.payload !== undefined && pageCount < 2) throw new ScenarioError(where, 'sqlite.payload needs pageCount ≥ 2');
  }
  if (e.archive !== undefined) {
    if (!isRecord(e.archive)) throw new ScenarioError(where, 'archive must be an object');
    checkKeys(`${where} archive`, e.archive, ARCHIVE_KEYS);
    if (!ARCHIVE_FORMATS.includes(e.archive.format as ArchiveFormat)) throw new ScenarioError(where, `archive.format must be one of ${ARCHIVE_FORMATS.join(', ')}`);
    if (typeof e.archive.cwd !== 'string') throw new ScenarioError(where, 'archive.cwd must be a root-relative dir');
    if (!Array.isArray(e.archive.members) || e.archive.members.length === 0 || !e.archive.members.every((m) => typeof m === 'string' && m !== '')) {
      throw new ScenarioError(where, 'archive.members must be a non-empty array of strings');
    }
  }
  const type = entryType(e as unknown as ScenarioEntry);
  const has = (key: string): boolean => e[key] !== undefined;
  if (type === 'symlink' && !has('target')) throw new ScenarioError(where, 'a symlink needs a target');
  if (type !== 'symlink' && has('target')) throw new ScenarioError(where, 'target is for symlinks');
  if (type === 'symlink' && has('mode')) throw new ScenarioError(where, 'symlinks have no mode on Linux');
  if (type === 'sparse' && !has('size')) throw new ScenarioError(where, 'a sparse file needs a size');
  if (type === 'archive' && !has('archive')) throw new ScenarioError(where, 'an archive needs archive: {format, cwd, members}');
  if (type !== 'archive' && has('archive')) throw new ScenarioError(where, 'archive is for type archive');
  if (type !== 'file' && sources.length > 0) throw new ScenarioError(where, `${sources.join(', ')} is for files`);
  if (type !== 'file' && type !== 'sparse' && has('size')) throw new ScenarioError(where, 'size is for files and sparse files');
}

function entryType(e: ScenarioEntry): EntryType {
  if (e.type) return e.type;
  if (e.path.endsWith('/')) return 'dir';
  if (e.target !== undefined) return 'symlink';
  if (e.archive !== undefined) return 'archive';
  return 'file';
}

function parseMtime(value: string): Date | undefined {
  const relative = /^now(?:([+-])(\d+)([smhd]))?$/.exec(value);
  if (relative) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[relative[3] as 's' | 'm' | 'h' | 'd'] ?? 0;
    const offset = relative[1] ? Number(relative[2]) * unit * (relative[1] === '-' ? -1 : 1) : 0;
    return new Date(Date.now() + offset);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

// ---------------------------------------------------------------------------------------------
// Placeholders

export interface PlaceholderContext {
  /** host temp root */
  root: string;
  /** home relative to the root, e.g. home/alice */
  homeRel: string;
  /** machine path of the home, e.g. /home/alice */
  homeAbs: string;
}

const PLACEHOLDER = /\{(root|home|homeAbs|homeHost|canary:[A-Za-z0-9_-]+)\}/g;

/** Expands {root} {home} {homeAbs} {homeHost} {canary:NAME}; other braces are left alone. */
export function expandPlaceholders(text: string, ctx: PlaceholderContext, where = 'text'): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    switch (name) {
      case 'root':
        return ctx.root;
      case 'home':
        return ctx.homeRel;
      case 'homeAbs':
        return ctx.homeAbs;
      case 'homeHost':
        return path.join(ctx.root, ctx.homeRel);
      default: {
        const canary = name.slice('canary:'.length);
        if (!Object.hasOwn(CANARY, canary)) {
          throw new ScenarioError(where, `unknown canary {${name}} (known: ${Object.keys(CANARY).join(', ')})`);
        }
        return CANARY[canary as CanaryName];
      }
    }
  });
}

function expandDeep(value: unknown, ctx: PlaceholderContext, where: string): unknown {
  if (typeof value === 'string') return expandPlaceholders(value, ctx, where);
  if (Array.isArray(value)) return value.map((item) => expandDeep(item, ctx, where));
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[expandPlaceholders(key, ctx, where)] = expandDeep(item, ctx, where);
    return out;
  }
  return value;
}

/** An entry path to a clean root-relative path; only {home} is allowed in it. */
function resolveEntryPath(raw: string, ctx: PlaceholderContext, where: string): string {
  const replaced = raw.replace(/\{([^}]*)\}/g, (match, name: string) => {
    if (name === 'home') return ctx.homeRel;
    throw new ScenarioError(where, `only {home} may appear in a path, not ${match}`);
  });
  const rel = path.posix.normalize(replaced.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (rel === '' || rel === '.' || rel === '..' || rel.startsWith('../')) throw new ScenarioError(where, `path ${raw} is not inside the root`);
  return rel;
}

function resolveRootRelativeDir(raw: string, ctx: PlaceholderContext, where: string): string {
  const replaced = expandPlaceholders(raw, ctx, where).replace(/^\/+/, '');
  const rel = path.posix.normalize(replaced === '' ? '.' : replaced).replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw new ScenarioError(where, `${raw} is not inside the root`);
  return rel === '' ? '.' : rel;
}

// ---------------------------------------------------------------------------------------------
// SQLite header

/** A database file: a valid 100-byte header and an empty sqlite_schema leaf page, the rest NUL. */
export function sqliteBytes(spec: SqliteSpec, payload?: string): Buffer {
  const { pageSize, pageCount } = spec;
  const full = pageSize * pageCount;
  const size = spec.truncateTo ?? full;
  const head = Buffer.alloc(Math.max(pageSize, 100));
  head.write('SQLite format 3\0', 0, 'latin1');
  head.writeUInt16BE(pageSize === 65536 ? 1 : pageSize, 16);
  const format = spec.journalMode === 'delete' ? 1 : 2;
  head[18] = format; // file format write version
  head[19] = format; // file format read version
  head[20] = 0; // reserved bytes per page
  head[21] = 64; // max embedded payload fraction
  head[22] = 32; // min embedded payload fraction
  head[23] = 32; // leaf payload fraction
  const counter = spec.changeCounter ?? 1;
  head.writeUInt32BE(counter, 24);
  head.writeUInt32BE(pageCount, 28);
  head.writeUInt32BE(4, 44); // schema format number
  head.writeUInt32BE(1, 56); // text encoding UTF-8
  head.writeUInt32BE(spec.userVersion ?? 0, 60);
  head.writeUInt32BE(counter, 92); // version-valid-for
  head.writeUInt32BE(3046001, 96); // SQLITE_VERSION_NUMBER of the writer
  // Page 1 after the header: an empty table-leaf b-tree page (sqlite_schema with no rows).
  head[100] = 0x0d;
  head.writeUInt16BE(pageSize === 65536 ? 0 : pageSize, 105); // cell content area starts at the page end
  const out = Buffer.alloc(size);
  head.copy(out, 0, 0, Math.min(head.length, size));
  if (payload !== undefined && size > pageSize) {
    Buffer.from(payload, 'utf8').copy(out, pageSize, 0, Math.min(Buffer.byteLength(payload), size - pageSize));
  }
  return out;
}

/** SQLite's WAL checksum (written here from the file format description, independently of src/scan/sqlite-wal.ts). */
function walSum(data: Buffer, bigEndian: boolean, seed: [number, number]): [number, number] {
  let [s0, s1] = seed;
  for (let i = 0; i < data.length; i += 8) {
    s0 = (s0 + (bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i)) + s1) >>> 0;
    s1 = (s1 + (bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4)) + s0) >>> 0;
  }
  return [s0, s1];
}

/** A -wal as SQLite writes it: header (magic, version 3007000, page size, checkpoint seq, salts, checksum), then frames. */
export function walBytes(spec: WalSpec): Buffer {
  const bigEndian = spec.bigEndian ?? false;
  const salt1 = spec.salt1 ?? 0x1a2b3c4d;
  const salt2 = spec.salt2 ?? 0x5e6f7081;
  const header = Buffer.alloc(32);
  header.writeUInt32BE(bigEndian ? 0x377f0683 : 0x377f0682, 0);
  header.writeUInt32BE(3007000, 4);
  header.writeUInt32BE(spec.pageSize === 65536 ? 1 : spec.pageSize, 8);
  header.writeUInt32BE(spec.checkpointSeq ?? 0, 12);
  header.writeUInt32BE(salt1, 16);
  header.writeUInt32BE(salt2, 20);
  let sum = walSum(header.subarray(0, 24), bigEndian, [0, 0]);
  header.writeUInt32BE(sum[0], 24);
  header.writeUInt32BE(sum[1], 28);
  const parts = [header];
  for (let i = 0; i < spec.frames; i++) {
    const frame = Buffer.alloc(24);
    const page = Buffer.alloc(spec.pageSize, (i * 37 + 11) & 0xff);
    frame.writeUInt32BE((i % Math.max(1, spec.dbPages ?? spec.frames)) + 1, 0);
    frame.writeUInt32BE(i === spec.frames - 1 ? spec.dbPages ?? spec.frames : 0, 4);
    const other = spec.otherSaltsFrom !== undefined && i >= spec.otherSaltsFrom;
    frame.writeUInt32BE(other ? (salt1 + 1) >>> 0 : salt1, 8);
    frame.writeUInt32BE(other ? (salt2 ^ 0xffff) >>> 0 : salt2, 12);
    sum = walSum(frame.subarray(0, 8), bigEndian, sum);
    sum = walSum(page, bigEndian, sum);
    frame.writeUInt32BE(sum[0], 16);
    frame.writeUInt32BE(sum[1], 20);
    parts.push(frame, page);
  }
  const bytes = Buffer.concat(parts);
  return spec.truncateTo !== undefined ? bytes.subarray(0, spec.truncateTo) : bytes;
}

// ---------------------------------------------------------------------------------------------
// Archives

const GLOB = /[*?[]/;
const SAFE_GLOB = /^[A-Za-z0-9._/*?[\]{}-]+$/;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function buildArchive(spec: ArchiveSpec, out: string, ctx: PlaceholderContext, where: string, accounts: Accounts): Promise<ArchiveSecrets> {
  const cwdRel = resolveRootRelativeDir(spec.cwd, ctx, `${where} archive.cwd`);
  const cwd = path.join(ctx.root, cwdRel);
  const members = spec.members
    .map((raw) => {
      const member = expandPlaceholders(raw, ctx, where);
      if (!GLOB.test(member)) return shellQuote(member);
      if (!SAFE_GLOB.test(member)) throw new ScenarioError(where, `glob member ${member} has characters the helper will not pass to a shell`);
      return member;
    })
    .join(' ');
  const passphrase = spec.passphrase ?? ARCHIVE_PASSPHRASE;
  const secrets: ArchiveSecrets = {};
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LC_ALL: 'C', RXM_OUT: out, RXM_PASS: passphrase };
  const scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-arc-'));
  env.RXM_SCRATCH = scratch;
  // tar records owner names from the host's passwd: map the scenario's users and groups so the archive
  // names them as the machine would (ids without a scenario name keep whatever the host calls them).
  await fsp.writeFile(path.join(scratch, 'owner-map'), accounts.users.map((u) => `+${u.uid} ${u.name}:${u.uid}\n`).join(''));
  await fsp.writeFile(path.join(scratch, 'group-map'), accounts.groups.map((g) => `+${g.gid} ${g.name}:${g.gid}\n`).join(''));
  const tar = 'tar --owner-map="$RXM_SCRATCH/owner-map" --group-map="$RXM_SCRATCH/group-map"';
  let script: string;
  try {
    switch (spec.format) {
      case 'tar':
        script = `${tar} -cf "$RXM_OUT" ${members}`;
        break;
      case 'tar.gz':
        script = `${tar} -czf "$RXM_OUT" ${members}`;
        break;
      // zip appends .zip to a name without an extension: write in scratch, then move.
      case 'zip':
        script = `zip -q -r -y "$RXM_SCRATCH/out.zip" ${members}\nmv "$RXM_SCRATCH/out.zip" "$RXM_OUT"`;
        break;
      case 'zip-encrypted':
        script = `zip -q -r -y -P "$RXM_PASS" "$RXM_SCRATCH/out.zip" ${members}\nmv "$RXM_SCRATCH/out.zip" "$RXM_OUT"`;
        secrets.passphrase = passphrase;
        break;
      case 'gpg':
        await fsp.chmod(scratch, 0o700);
        env.GNUPGHOME = scratch;
        script =
          `${tar} -czf - ${members} | gpg --batch --yes --quiet --no-symkey-cache --pinentry-mode loopback ` +
          `--passphrase "$RXM_PASS" --symmetric --cipher-algo AES256 -o "$RXM_OUT"`;
        secrets.passphrase = passphrase;
        break;
      case 'openssl':
        script = `${tar} -czf - ${members} | openssl enc -aes-256-cbc -pbkdf2 -salt -pass env:RXM_PASS -out "$RXM_OUT"`;
        secrets.passphrase = passphrase;
        break;
      case 'age': {
        const keyFile = path.join(scratch, 'key.txt');
        await run('age-keygen', ['-o', keyFile]);
        const identityText = await fsp.readFile(keyFile, 'utf8');
        const recipient = /# public key: (age1[0-9a-z]+)/.exec(identityText)?.[1];
        const identity = /^(AGE-SECRET-KEY-1[0-9A-Z]+)$/m.exec(identityText)?.[1];
        if (!recipient || !identity) throw new ScenarioError(where, 'age-keygen wrote no key');
        secrets.identity = identity;
        secrets.recipient = recipient;
        env.RXM_RECIPIENT = recipient;
        if (spec.keyPath !== undefined) {
          const keyRel = resolveEntryPath(spec.keyPath, ctx, `${where} archive.keyPath`);
          const keyAbs = path.join(ctx.root, keyRel);
          await ensureParents(ctx.root, keyRel, where);
          await fsp.writeFile(keyAbs, identityText, { mode: 0o600 });
          await fsp.chmod(keyAbs, 0o600);
        }
        script = `${tar} -czf - ${members} | age -r "$RXM_RECIPIENT" -o "$RXM_OUT"`;
        break;
      }
    }
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.resume();
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new ScenarioError(where, `building the ${spec.format} archive failed (exit ${code}) in ${cwd}: ${script}\n${stderr}`));
      });
    });
  } finally {
    if (spec.format === 'gpg') await run('gpgconf', ['--kill', 'all'], { env: { PATH: env.PATH, GNUPGHOME: scratch } }).catch(() => undefined);
    await fsp.rm(scratch, { recursive: true, force: true });
  }
  return secrets;
}

// ---------------------------------------------------------------------------------------------
// Users, groups, owners

interface Accounts {
  users: ScenarioUser[];
  groups: ScenarioGroup[];
}

function accountsOf(scenario: Scenario): Accounts {
  const users: ScenarioUser[] = [];
  if (!scenario.users?.some((u) => u.name === 'root' || u.uid === 0)) users.push({ name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' });
  users.push(...(scenario.users ?? []));
  const groups: ScenarioGroup[] = [];
  const addGroup = (group: ScenarioGroup): void => {
    const existing = groups.find((g) => g.gid === group.gid || g.name === group.name);
    if (existing) existing.members = [...new Set([...(existing.members ?? []), ...(group.members ?? [])])];
    else groups.push({ ...group, members: [...(group.members ?? [])] });
  };
  for (const group of scenario.groups ?? []) addGroup(group);
  if (!groups.some((g) => g.gid === 0)) addGroup({ name: 'root', gid: 0 });
  for (const user of users) if (!groups.some((g) => g.gid === user.gid)) addGroup({ name: user.name, gid: user.gid });
  groups.sort((a, b) => a.gid - b.gid);
  return { users, groups };
}

function passwdText(accounts: Accounts): string {
  return accounts.users.map((u) => `${u.name}:x:${u.uid}:${u.gid}:${u.name}:${u.home}:${u.shell ?? '/bin/bash'}\n`).join('');
}

function groupText(accounts: Accounts): string {
  return accounts.groups.map((g) => `${g.name}:x:${g.gid}:${(g.members ?? []).join(',')}\n`).join('');
}

function resolveUid(ref: OwnerRef, accounts: Accounts, where: string): number {
  if (typeof ref === 'number') return ref;
  const user = accounts.users.find((u) => u.name === ref);
  if (!user) throw new ScenarioError(where, `owner "${ref}" is not in users (known: ${accounts.users.map((u) => u.name).join(', ')})`);
  return user.uid;
}

function resolveGid(ref: OwnerRef, accounts: Accounts, where: string): number {
  if (typeof ref === 'number') return ref;
  const group = accounts.groups.find((g) => g.name === ref);
  if (!group) throw new ScenarioError(where, `group "${ref}" is unknown (known: ${accounts.groups.map((g) => g.name).join(', ')})`);
  return group.gid;
}

// ---------------------------------------------------------------------------------------------
// Materialise

interface Attrs {
  rel: string;
  type: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  where: string;
}

/** Creates the missing parents of rel (mode 0755, owned by the current user); never writes through a symlink. */
async function ensureParents(root: string, rel: string, where: string, made?: Set<string>): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    current = path.join(current, part);
    let stat: fs.Stats | undefined;
    try {
      stat = await fsp.lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (!stat) {
      await fsp.mkdir(current);
      await fsp.chmod(current, AUTO_DIR_MODE);
      made?.add(path.relative(root, current).split(path.sep).join('/'));
    } else if (stat.isSymbolicLink()) {
      throw new ScenarioError(where, `a parent (${path.relative(root, current)}) is a symlink: the helper never writes through one`);
    } else if (!stat.isDirectory()) {
      throw new ScenarioError(where, `a parent (${path.relative(root, current)}) is not a directory`);
    }
  }
}

async function removeExisting(abs: string, keepDir: boolean): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = await fsp.lstat(abs);
  } catch {
    return;
  }
  if (keepDir && stat.isDirectory()) return;
  await fsp.rm(abs, { recursive: true, force: true });
}

async function applyAttrs(root: string, list: Iterable<Attrs>, ownersAllowed: boolean, skipped: Set<string>): Promise<void> {
  const sorted = [...list].sort((a, b) => b.rel.split('/').length - a.rel.split('/').length || (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const attrs of sorted) {
    const abs = path.join(root, attrs.rel);
    if (attrs.uid !== undefined || attrs.gid !== undefined) {
      const uid = attrs.uid ?? -1;
      const gid = attrs.gid ?? -1;
      if (ownersAllowed || isOwnOwner(uid, gid)) await fsp.lchown(abs, uid, gid);
      else skipped.add(attrs.rel);
    }
    // chmod after chown: chown clears set-id bits
    if (attrs.type !== 'symlink' && attrs.mode !== undefined) await fsp.chmod(abs, attrs.mode);
  }
}

async function applyMtimes(root: string, list: Iterable<Attrs>): Promise<void> {
  for (const attrs of list) {
    if (!attrs.mtime) continue;
    await fsp.lutimes(path.join(root, attrs.rel), attrs.mtime, attrs.mtime);
  }
}

function isOwnOwner(uid: number, gid: number): boolean {
  const myUid = process.getuid?.();
  const myGroups = new Set([process.getgid?.(), ...(process.getgroups?.() ?? [])]);
  return (uid === -1 || uid === myUid) && (gid === -1 || myGroups.has(gid));
}

async function makeWritable(root: string): Promise<void> {
  // Non-root cleanup: a 0500 or 0000 dir would stop rm; give owner rwx back on every dir we own.
  const myUid = process.getuid?.();
  async function visit(dir: string): Promise<void> {
    let stat: fs.Stats;
    try {
      stat = await fsp.lstat(dir);
    } catch {
      return;
    }
    if (!stat.isDirectory()) return;
    if (stat.uid === myUid) await fsp.chmod(dir, (stat.mode & 0o7777) | 0o700).catch(() => undefined);
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const name of names) await visit(path.join(dir, name));
  }
  await visit(root);
}

export async function materialise(scenarioOrName: Scenario | string, opts: MaterialiseOptions = {}): Promise<Materialised> {
  const name = typeof scenarioOrName === 'string' ? scenarioOrName : scenarioOrName.description;
  let scenario: Scenario;
  if (typeof scenarioOrName === 'string') scenario = await loadScenario(scenarioOrName);
  else {
    validateScenario(name, scenarioOrName);
    scenario = structuredClone(scenarioOrName);
  }

  const homeRel = path.posix.normalize(normaliseEntryKey(scenario.home));
  if (homeRel === '.' || homeRel.startsWith('..')) throw new ScenarioError(name, `home ${scenario.home} is not inside the root`);

  // Resolve everything that can fail before touching the disk.
  const accounts = accountsOf(scenario);
  const ownersAllowed = canChown;
  const planned: { e: ScenarioEntry; rel: string; type: EntryType; attrs: Attrs }[] = [];
  const ctxNoRoot: PlaceholderContext = { root: '', homeRel, homeAbs: `/${homeRel}` };
  scenario.entries.forEach((e, index) => {
    const where = `${name} entries[${index}] (${e.path})`;
    const rel = resolveEntryPath(e.path, ctxNoRoot, where);
    const type = entryType(e);
    const ownerRef = e.owner ?? scenario.defaults?.owner;
    const groupRef = e.group ?? scenario.defaults?.group;
    let uid: number | undefined;
    let gid: number | undefined;
    if (ownerRef !== undefined) {
      uid = resolveUid(ownerRef, accounts, where);
      gid = accounts.users.find((u) => u.uid === uid)?.gid ?? uid;
    }
    if (groupRef !== undefined) gid = resolveGid(groupRef, accounts, where);
    const defaultMode = type === 'dir' ? DEFAULT_DIR_MODE : type === 'symlink' ? undefined : DEFAULT_FILE_MODE;
    const mode = e.mode !== undefined ? parseInt(e.mode, 8) : defaultMode;
    const mtime = e.mtime !== undefined ? parseMtime(e.mtime) : undefined;
    const attrs: Attrs = { rel, type, where, ...(mode !== undefined ? { mode } : {}), ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}), ...(mtime ? { mtime } : {}) };
    if ((uid !== undefined || gid !== undefined) && !ownersAllowed && !opts.allowOwnerSkip && !isOwnOwner(uid ?? -1, gid ?? -1)) {
      throw new ScenarioError(
        where,
        `asks for owner ${uid ?? '-'}:${gid ?? '-'} but this process (uid ${process.getuid?.()}) cannot chown. ` +
          'Run the tests as root (CI does), skip the test unless canChown, or pass { allowOwnerSkip: true }.',
      );
    }
    planned.push({ e, rel, type, attrs });
  });

  let created = false;
  let root: string;
  if (opts.root) {
    root = path.resolve(opts.root);
    created = !fs.existsSync(root);
    await fsp.mkdir(root, { recursive: true });
  } else {
    root = await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-machine-'));
    created = true;
    await fsp.chmod(root, 0o755);
  }
  const ctx: PlaceholderContext = { root, homeRel, homeAbs: opts.live ? path.join(root, homeRel) : `/${homeRel}` };
  const skipped = new Set<string>();
  const autoDirs = new Set<string>();
  const archives: Record<string, ArchiveSecrets> = {};

  const cleanup = async (): Promise<void> => {
    if (created && !canChown) await makeWritable(root);
    // An opts.root that existed before is left alone: its owner cleans it.
    if (created) await fsp.rm(root, { recursive: true, force: true });
  };

  try {
    await ensureParents(root, 'etc/passwd', name);
    await fsp.writeFile(path.join(root, 'etc/passwd'), passwdText(accounts));
    await fsp.writeFile(path.join(root, 'etc/group'), groupText(accounts));
    await fsp.chmod(path.join(root, 'etc/passwd'), 0o644);
    await fsp.chmod(path.join(root, 'etc/group'), 0o644);

    const done = new Map<string, Attrs>();
    for (const { e, rel, type, attrs } of planned) {
      const where = attrs.where;
      const abs = path.join(root, rel);
      await ensureParents(root, rel, where, autoDirs);
      autoDirs.delete(rel);
      await removeExisting(abs, type === 'dir');
      done.delete(rel);
      if (type !== 'dir') for (const key of [...done.keys()]) if (key.startsWith(`${rel}/`)) done.delete(key);
      switch (type) {
        case 'dir':
          await fsp.mkdir(abs, { recursive: true });
          break;
        case 'file':
          await fsp.writeFile(abs, fileBytes(e, ctx, where));
          break;
        case 'symlink':
          await fsp.symlink(expandPlaceholders(e.target!, ctx, where), abs);
          break;
        case 'fifo':
          await run('mkfifo', [abs]);
          break;
        case 'sparse': {
          const handle = await fsp.open(abs, 'w');
          try {
            await handle.truncate(e.size!);
          } finally {
            await handle.close();
          }
          break;
        }
        case 'archive': {
          // Members carry the modes and owners the scenario gives them so far.
          await applyAttrs(root, done.values(), ownersAllowed, skipped);
          await applyMtimes(root, done.values());
          const secrets = await buildArchive(e.archive!, abs, ctx, where, accounts);
          if (Object.keys(secrets).length > 0) archives[rel] = secrets;
          if (!canChown) {
            // Later entries may still go into dirs just made 0500: give the owner write back until the end.
            for (const a of done.values()) if (a.type === 'dir') await fsp.chmod(path.join(root, a.rel), (a.mode ?? DEFAULT_DIR_MODE) | 0o700).catch(() => undefined);
          }
          break;
        }
      }
      done.set(rel, attrs);
    }
    await applyAttrs(root, done.values(), ownersAllowed, skipped);
    await applyMtimes(root, done.values());
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(scenario.env ?? {})) env[key] = expandPlaceholders(value, ctx, `${name} env.${key}`);
  const extra = (scenario.canaries ?? []).map((c) => expandPlaceholders(c, ctx, `${name} canaries`));
  const home = path.join(root, homeRel);

  const hostPath = (p: string): string => {
    let machine = p;
    if (machine === '~' || machine.startsWith('~/')) machine = `/${homeRel}${machine.slice(1)}`;
    machine = expandPlaceholders(machine, ctx, 'path()');
    const rel = path.posix.normalize(machine.replace(/^\/+/, '') || '.');
    if (rel === '..' || rel.startsWith('../')) throw new Error(`${p} is not inside the machine`);
    return rel === '.' ? root : path.join(root, rel);
  };
  const machinePath = (host: string): string => {
    const rel = path.relative(root, path.resolve(host));
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) throw new Error(`${host} is not under ${root}`);
    return `/${rel.split(path.sep).join('/')}`.replace(/\/$/, '') || '/';
  };

  return {
    root,
    home,
    homeAbs: ctx.homeAbs,
    env,
    canaries: [...CANARIES, ...extra],
    archives,
    autoDirs: [...autoDirs].sort(),
    skippedOwners: [...skipped].sort(),
    scenario,
    path: hostPath,
    machinePath,
    cleanup,
  };
}

function fileBytes(e: ScenarioEntry, ctx: PlaceholderContext, where: string): Buffer {
  let bytes: Buffer;
  if (e.content !== undefined) bytes = Buffer.from(expandPlaceholders(e.content, ctx, where), 'utf8');
  else if (e.json !== undefined) bytes = Buffer.from(`${JSON.stringify(expandDeep(e.json, ctx, where), null, 2)}\n`, 'utf8');
  else if (e.jsonl !== undefined) bytes = Buffer.from(e.jsonl.map((line) => `${JSON.stringify(expandDeep(line, ctx, where))}\n`).join(''), 'utf8');
  else if (e.base64 !== undefined) bytes = Buffer.from(e.base64, 'base64');
  else if (e.wal !== undefined) bytes = walBytes(e.wal);
  else if (e.sqlite !== undefined) bytes = sqliteBytes(e.sqlite, e.sqlite.payload !== undefined ? expandPlaceholders(e.sqlite.payload, ctx, where) : undefined);
  else bytes = Buffer.alloc(0);
  if (e.size !== undefined) {
    if (e.size < bytes.length) throw new ScenarioError(where, `size ${e.size} is smaller than the content (${bytes.length} bytes)`);
    bytes = Buffer.concat([bytes, Buffer.alloc(e.size - bytes.length)]);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Tree digest

function typeName(stat: fs.BigIntStats): string {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isBlockDevice()) return 'block';
  if (stat.isCharacterDevice()) return 'char';
  return 'unknown';
}

function showName(raw: Buffer): string {
  return isUtf8(raw) ? raw.toString('utf8') : `hex:${raw.toString('hex')}`;
}

async function sha256File(abs: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(abs);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * One line per entry under root (the root itself is "."): path, type, mode, uid:gid, size (not for
 * dirs), mtime in ns, link target, sha256 of regular files. Symlinks are never followed; FIFOs,
 * sockets and devices never opened. Compare two snapshots to see what changed.
 */
export async function treeSnapshot(root: string): Promise<string[]> {
  const lines: string[] = [];
  const rootBuf = Buffer.from(path.resolve(root));
  async function visit(abs: Buffer, rel: string): Promise<void> {
    const stat = await fsp.lstat(abs, { bigint: true });
    const type = typeName(stat);
    const fields = [JSON.stringify(rel), type, (Number(stat.mode) & 0o7777).toString(8).padStart(4, '0'), `${stat.uid}:${stat.gid}`];
    if (type !== 'dir') fields.push(`size=${stat.size}`);
    fields.push(`mtime=${stat.mtimeNs}`);
    if (type === 'symlink') fields.push(`-> ${JSON.stringify(showName(await fsp.readlink(abs, { encoding: 'buffer' })))}`);
    if (type === 'file') fields.push(await sha256File(abs).then((h) => `sha256=${h}`, (error: NodeJS.ErrnoException) => `unreadable=${error.code}`));
    lines.push(fields.join(' '));
    if (type !== 'dir') return;
    let names: Buffer[];
    try {
      names = await fsp.readdir(abs, { encoding: 'buffer' });
    } catch (error) {
      lines.push(`${JSON.stringify(rel)} unlistable=${(error as NodeJS.ErrnoException).code}`);
      return;
    }
    names.sort(Buffer.compare);
    for (const child of names) {
      const childAbs = Buffer.concat([abs, Buffer.from('/'), child]);
      await visit(childAbs, rel === '.' ? showName(child) : `${rel}/${showName(child)}`);
    }
  }
  await visit(rootBuf, '.');
  return lines;
}

/** sha256 of treeSnapshot(root): equal digests mean nothing under root changed (atime and ctime aside). */
export async function treeDigest(root: string): Promise<string> {
  const lines = await treeSnapshot(root);
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

export interface RunCliOptions {
  /** the whole environment besides PATH: nothing else is inherited (no HOME unless given) */
  env?: Record<string, string>;
  /** default: a fresh empty temp dir, removed afterwards */
  cwd?: string;
  /** written to stdin; default: stdin is /dev/null */
  input?: string;
  /** default 60 s */
  timeoutMs?: number;
  /** another script to run instead of bin/resonix-migrate.js (tests of this helper) */
  script?: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/resonix-migrate.js ...args` with a clean env. A signal gives code 128 + its number; a timeout rejects. */
export async function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...opts.env };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const scratch = opts.cwd === undefined ? await fsp.mkdtemp(path.join(os.tmpdir(), 'rxm-cwd-')) : undefined;
  const cwd = opts.cwd ?? scratch!;
  try {
    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [opts.script ?? CLI_PATH, ...args], {
        cwd,
        env,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) {
          reject(new Error(`resonix-migrate ${args.join(' ')} timed out after ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
          return;
        }
        const signalCode = signal ? 128 + (os.constants.signals[signal] ?? 0) : undefined;
        resolve({ code: code ?? signalCode ?? 1, stdout, stderr });
      });
    });
  } finally {
    if (scratch) await fsp.rm(scratch, { recursive: true, force: true });
  }
}
