// Reads and validates a snapshot manifest. The validator is hand-written and typed against the model:
// each object schema must name every field of its type (the compiler says when the model grows a field
// the validator does not check), each field is type-checked, unknown fields are dropped. Every failure is
// a ManifestError with one line that says where and what; nothing here throws anything else.
import fs from 'node:fs';
import zlib from 'node:zlib';
import type {
  AgentConfig,
  ArchiveFormat,
  ArchiveMember,
  BackupArchive,
  ConfigPath,
  ConfigSummary,
  FileEntry,
  FileInventory,
  FileType,
  GatewayLock,
  GatewayUser,
  GroupEntry,
  Home,
  IncludeCheck,
  Install,
  KeyPosition,
  Machine,
  MoveItem,
  ParseErrorInfo,
  PasswdEntry,
  Resolution,
  Runtime,
  ScanProblem,
  ServiceUnit,
  SessionPathRefs,
  SqliteHeader,
  SqliteWal,
  OldHome,
  StrayWorkspace,
  Workspace,
  WorkspaceGit,
} from '../model.js';
import { HASH_SKIP_REASONS, type HashedFileEntry, type HashSkipReason } from '../knowledge/baseline.js';
import { MANIFEST_VERSION, ManifestError, type Manifest, type ManifestHashing } from './types.js';

/** Manifests larger than this are refused unread. */
export const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Combinators

type Check<T> = (value: unknown, where: string) => T;
interface Optional<T> extends Check<T | undefined> {
  optional: true;
}

class Invalid extends Error {}

function fail(where: string, what: string): never {
  throw new Invalid(`${where} ${what}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const str: Check<string> = (value, where) => (typeof value === 'string' ? value : fail(where, `must be a string, not ${describe(value)}`));
const num: Check<number> = (value, where) => (typeof value === 'number' && Number.isFinite(value) ? value : fail(where, `must be a number, not ${describe(value)}`));
const int: Check<number> = (value, where) => (Number.isSafeInteger(value) ? (value as number) : fail(where, `must be a whole number, not ${describe(value)}`));
const nat: Check<number> = (value, where) => (Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : fail(where, `must be a whole number ≥ 0, not ${describe(value)}`));
const bool: Check<boolean> = (value, where) => (typeof value === 'boolean' ? value : fail(where, `must be true or false, not ${describe(value)}`));

function literal<T extends string | number>(...allowed: readonly T[]): Check<T> {
  return (value, where) => (allowed.includes(value as T) ? (value as T) : fail(where, `must be one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}, not ${describe(value)}`));
}

function pattern(re: RegExp, what: string): Check<string> {
  return (value, where) => (typeof value === 'string' && re.test(value) ? value : fail(where, `must be ${what}, not ${describe(value)}`));
}

function opt<T>(check: Check<T>): Optional<T> {
  const wrapped = ((value: unknown, where: string) => (value === undefined ? undefined : check(value, where))) as Optional<T>;
  wrapped.optional = true;
  return wrapped;
}

/**
 * Whether checks name where they are (`manifest.machine.homes[0]…`). A first pass checks without names (no string
 * per field of 100,000 entries); only when it fails does a second pass run with them, for the message.
 */
let naming = true;

function arr<T>(check: Check<T>): Check<T[]> {
  return (value, where) => {
    if (!Array.isArray(value)) fail(where, `must be an array, not ${describe(value)}`);
    // the array itself when every item checks out as it is (nothing dropped): no copy of 100,000 entries
    let out: T[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const checked = check(item, naming ? `${where}[${index}]` : where);
      if (out) out.push(checked);
      else if (checked !== item) out = [...(value.slice(0, index) as T[]), checked];
    }
    return out ?? (value as T[]);
  };
}

function record<T>(check: Check<T>): Check<Record<string, T>> {
  return (value, where) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `must be an object, not ${describe(value)}`);
    const source = value as Record<string, unknown>;
    let out: Record<string, T> | undefined;
    for (const [key, item] of Object.entries(source)) {
      const checked = check(item, naming ? `${where}.${key}` : where);
      if (out) out[key] = checked;
      else if (checked !== item) {
        out = {};
        for (const [earlier, kept] of Object.entries(source)) {
          if (earlier === key) break;
          out[earlier] = kept as T;
        }
        out[key] = checked;
      }
    }
    return out ?? (source as Record<string, T>);
  };
}

/** One checker per field of T: required fields take Check<X>, optional ones opt(Check<X>). */
type Shape<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? Optional<Exclude<T[K], undefined>> : Check<T[K]> };

function obj<T>(shape: Shape<T>): Check<T> {
  const keys = Object.keys(shape) as (keyof T & string)[];
  /** the known fields of `source` as they are: the fields before the first one a check changed */
  const known = (source: Record<string, unknown>, until?: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (key === until) break;
      if (source[key] !== undefined) out[key] = source[key];
    }
    return out;
  };
  return (value, where) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `must be an object, not ${describe(value)}`);
    const source = value as Record<string, unknown>;
    // the object itself when it has no unknown field and every field checks out as it is; a copy otherwise,
    // made without checking anything twice
    let out: Record<string, unknown> | undefined;
    let present = 0;
    for (const key of keys) {
      const check = shape[key] as Check<unknown> & { optional?: true };
      const item = source[key];
      if (item === undefined) {
        if (check.optional) continue;
        fail(naming ? `${where}.${key}` : where, 'is missing');
      }
      present += 1;
      const checked = check(item, naming ? `${where}.${key}` : where);
      if (out) out[key] = checked;
      else if (checked !== item) {
        out = known(source, key);
        out[key] = checked;
      }
    }
    if (out) return out as T;
    let fields = 0;
    for (const key in source) if (Object.hasOwn(source, key)) fields += 1;
    return (fields === present ? source : known(source)) as T;
  };
}

// ---------------------------------------------------------------------------------------------
// The model

const FILE_TYPES: readonly FileType[] = ['file', 'dir', 'symlink', 'fifo', 'socket', 'block', 'char', 'unknown'];
const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['tar', 'tar.gz', 'gzip', 'zip', 'age', 'openpgp', 'openssl-enc', '7z', 'bzip2', 'xz', 'zstd', 'unknown'];
const mode: Check<number> = (value, where) => (Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= 0o7777 ? (value as number) : fail(where, `must be permission bits (0..0o7777), not ${describe(value)}`));
const sha256 = pattern(/^[0-9a-f]{64}$/, 'a lower-case hex sha256');

const fileEntryShape: Shape<HashedFileEntry> = {
  path: str,
  type: literal(...FILE_TYPES),
  mode,
  uid: nat,
  gid: nat,
  size: nat,
  mtimeMs: num,
  linkTarget: opt(str),
  nonUtf8: opt(bool),
  unreadable: opt(str),
  linkBroken: opt(bool),
  sha256: opt(sha256),
  hashSkipped: opt(literal<HashSkipReason>(...HASH_SKIP_REASONS)),
};
// every field of the model's FileEntry is checked: this fails to compile when FileEntry gains one the shape lacks
const fileEntryShapeIsComplete: Shape<FileEntry> = fileEntryShape;
void fileEntryShapeIsComplete;
const fileEntry: Check<HashedFileEntry> = obj<HashedFileEntry>(fileEntryShape);

const fileInventory = obj<FileInventory>({ root: str, exists: bool, entries: arr(fileEntry), truncated: opt(bool), unseen: opt(obj<{ code: string; uid: number }>({ code: str, uid: nat })) });
const scanProblem = obj<ScanProblem>({ path: str, code: str, message: str });
const passwdEntry = obj<PasswdEntry>({ name: str, uid: nat, gid: nat, home: str });
const groupEntry = obj<GroupEntry>({ name: str, gid: nat, members: arr(str) });
const gatewayUser = obj<GatewayUser>({ name: opt(str), uid: nat, gid: nat, groups: arr(nat), source: literal('service', 'home-owner', 'flag', 'current') });
const resolution = obj<Resolution>({
  home: str,
  homeSource: literal('RESONIX_HOME', 'HOME', 'USERPROFILE', 'os', 'flag', 'passwd'),
  stateDir: str,
  stateDirSource: literal('RESONIX_STATE_DIR', 'profile', 'default', 'flag'),
  configPath: str,
  configPathSource: literal('RESONIX_CONFIG_PATH', 'profile', 'default'),
  profile: opt(str),
  resonixHome: opt(str),
});
const parseErrorInfo = obj<ParseErrorInfo>({ message: str, line: opt(nat), column: opt(nat) });
const agentConfig = obj<AgentConfig>({ id: str, workspace: opt(str), agentDir: opt(str), isDefault: opt(bool) });
const configPath = obj<ConfigPath>({ key: str, value: str });
const includeCheck = obj<IncludeCheck>({ value: str, resolved: str, exists: bool, outside: bool, cycle: bool, tooDeep: opt(bool), from: str });
const configSummary = obj<ConfigSummary>({
  path: str,
  exists: bool,
  size: opt(nat),
  parseError: opt(parseErrorInfo),
  gatewayMode: opt(str),
  remoteUrl: opt(str),
  port: opt(int),
  lastTouchedVersion: opt(str),
  wizardLastRunVersion: opt(str),
  agentsDefaultWorkspace: opt(str),
  agents: arr(agentConfig),
  agentsOmitted: opt(nat),
  channels: arr(str),
  whatsappAccounts: arr(obj<{ id: string; authDir?: string }>({ id: str, authDir: opt(str) })),
  includes: arr(str),
  envRefs: arr(str),
  paths: arr(configPath),
  inlineSecretKeys: arr(str),
  envVarKeys: opt(arr(str)),
  includeChecks: opt(arr(includeCheck)),
  keyPositions: opt(record(obj<KeyPosition>({ line: nat, column: nat, endLine: nat, endColumn: nat }))),
  envRefKeys: opt(record(str)),
});
const sessionPathRefs = obj<SessionPathRefs>({ file: str, sessionFiles: arr(str), skillPaths: arr(str), missingTranscripts: arr(str), relocated: opt(arr(obj<{ from: string; to: string }>({ from: str, to: str }))), parseError: opt(str) });
const workspaceGit = obj<WorkspaceGit>({
  secretFiles: arr(str),
  secretHits: arr(obj<{ path: string; line?: number; kind: string }>({ path: str, line: opt(nat), kind: str })),
  error: opt(str),
  unchecked: opt(bool),
});
const sqliteHeader = obj<SqliteHeader>({ path: str, valid: bool, pageSize: opt(nat), pageCount: opt(nat), userVersion: opt(int), size: nat });
const sqliteWal = obj<SqliteWal>({
  path: str,
  size: nat,
  headerValid: bool,
  headerChecksumOk: opt(bool),
  pageSize: opt(nat),
  checkpointSeq: opt(nat),
  wholeFrames: nat,
  trailingBytes: nat,
  framesRead: nat,
  saltMismatchAt: opt(nat),
  saltMatchAfterMismatch: opt(bool),
  lastCommitDbPages: opt(nat),
});
const workspace = obj<Workspace>({ agentId: str, path: str, source: literal('config', 'default'), inventory: fileInventory, git: opt(workspaceGit), arrivedAt: opt(str) });
const install = obj<Install>({
  id: str,
  stateDir: str,
  profile: opt(str),
  active: bool,
  servedBy: arr(str),
  foundBy: literal('resolution', 'home-glob', 'service', 'flag'),
  inventory: fileInventory,
  generation: literal('file', 'sqlite', 'mixed', 'empty'),
  hasData: bool,
  neverOnboarded: opt(bool),
  config: configSummary,
  workspaces: arr(workspace),
  sqlite: arr(sqliteHeader),
  sqliteWals: opt(arr(sqliteWal)),
  dotenvKeys: arr(str),
  sessionRefs: opt(arr(sessionPathRefs)),
  fsType: opt(str),
  partialTranscripts: opt(arr(str)),
});
const serviceUnit = obj<ServiceUnit>({
  kind: literal('systemd-user', 'systemd-system', 'launchd'),
  path: str,
  size: opt(nat),
  name: str,
  enabled: bool,
  execStart: arr(str),
  workingDirectory: opt(str),
  user: opt(str),
  group: opt(str),
  env: record(str),
  envKeys: arr(str),
  secretEnvKeys: arr(str),
  environmentFiles: arr(obj<{ path: string; exists: boolean; keys: string[] }>({ path: str, exists: bool, keys: arr(str) })),
  resolution,
  parseError: opt(str),
  missingPaths: opt(arr(str)),
  nodeVersion: opt(str),
  resonixVersion: opt(str),
});
const gatewayLock = obj<GatewayLock>({ path: str, pid: opt(nat), configPath: opt(str), alive: opt(bool), generation: literal('file', 'sqlite') });
const archiveMember = obj<ArchiveMember>({
  path: str,
  type: literal(...FILE_TYPES),
  mode,
  size: nat,
  uid: opt(nat),
  gid: opt(nat),
  mtimeMs: opt(num),
  linkTarget: opt(str),
  encrypted: opt(bool),
});
const backupArchive = obj<BackupArchive>({
  path: str,
  format: literal(...ARCHIVE_FORMATS),
  encrypted: bool,
  partlyEncrypted: opt(bool),
  mode,
  uid: nat,
  gid: nat,
  size: nat,
  members: opt(arr(archiveMember)),
  membersTruncated: opt(bool),
  holdsResonixState: bool,
  inTempDir: opt(bool),
  reachableBy: opt(literal('world', 'group', 'owner')),
  secretMembers: arr(str),
  listError: opt(str),
});
const strayWorkspace = obj<StrayWorkspace>({ path: str, markers: arr(str) });
const home = obj<Home>({
  path: str,
  exists: bool,
  ownerUid: opt(nat),
  ownerGid: opt(nat),
  user: opt(str),
  resolution,
  gatewayUser,
  installs: arr(install),
  services: arr(serviceUnit),
  locks: arr(gatewayLock),
  workspaceDirs: arr(strayWorkspace),
  gatewayEnvKeys: opt(arr(str)),
  sudoUser: opt(str),
  oldHomes: opt(arr(obj<OldHome>({ prefix: str, how: arr(literal('tail', 'unit-home')), arrived: arr(obj<{ from: string; to: string }>({ from: str, to: str })) }))),
});
const runtime = obj<Runtime>({
  resonixVersion: opt(str),
  resonixSource: opt(literal('flag', 'path', 'service-package', 'unknown')),
  nodeRange: opt(str),
  schemaVersions: opt(obj<{ state?: number; agent?: number }>({ state: opt(nat), agent: opt(nat) })),
  nodeVersion: opt(str),
  nodePath: opt(str),
  nodeSize: opt(nat),
  openPorts: opt(arr(nat)),
  encryptionTools: opt(arr(literal('age', 'gpg', 'openssl'))),
});
const machine = obj<Machine>({
  schema: literal(1),
  mode: literal('live', 'image'),
  root: str,
  platform: str,
  scannedAt: str,
  currentUid: nat,
  users: arr(passwdEntry),
  groups: arr(groupEntry),
  homes: arr(home),
  archives: arr(backupArchive),
  processEnvKeys: arr(str),
  runtime: opt(runtime),
  problems: arr(scanProblem),
});
const hashing = obj<ManifestHashing>({
  algorithm: literal('sha256'),
  enabled: bool,
  files: nat,
  bytes: nat,
  // sparse and too-big came later: manifests written before them lack the counts
  skipped: obj<Record<HashSkipReason, number>>({ secret: nat, changed: nat, unreadable: nat, 'not-regular': nat, sparse: opt(nat) as Check<number>, 'too-big': opt(nat) as Check<number> }),
  // came later still: manifests written before the total budget lack it
  budget: opt(obj<NonNullable<ManifestHashing['budget']>>({ maxBytes: nat, cutFiles: nat, cutBytes: nat })),
});
const manifestCheck = obj<Manifest>({
  manifest: literal(1),
  tool: obj<{ name: string; version: string }>({ name: str, version: str }),
  createdAt: pattern(/^\d{4}-\d{2}-\d{2}T/, 'an ISO date'),
  machine,
  owners: obj<Manifest['owners']>({ users: record(str), groups: record(str) }),
  hashing,
  move: opt(
    arr(
      obj<MoveItem>({
        kind: literal('state-dir', 'workspace', 'unit', 'env-file'),
        path: str,
        profile: opt(str),
        bytes: opt(nat),
        entries: opt(nat),
        arrived: opt(bool),
        skippedStep: opt(str),
      }),
    ),
  ),
});

// ---------------------------------------------------------------------------------------------
// Reading

/** The manifest checked in a pass without names, and, when that fails, again with them: the error says where. */
function checkNaming(value: unknown): Manifest {
  naming = false;
  try {
    return manifestCheck(value, 'manifest');
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
  } finally {
    naming = true;
  }
  return manifestCheck(value, 'manifest');
}

/** Validates a parsed manifest; `name` is how the user called the file. */
export function validateManifest(value: unknown, name = 'manifest'): Manifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(`${name} is not a resonix-migrate manifest: it holds ${describe(value)}, not an object`);
  }
  const version = (value as Record<string, unknown>).manifest;
  if (version === undefined) {
    throw new ManifestError(`${name} is not a resonix-migrate manifest (it has no "manifest" version field); write one with \`resonix-migrate snapshot --out FILE\``);
  }
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ManifestError(`${name} is not a resonix-migrate manifest: "manifest" must be a format version number, not ${describe(version)}`);
  }
  if (version > MANIFEST_VERSION) {
    throw new ManifestError(`${name} was written by a newer resonix-migrate (manifest format ${version}; this build reads up to ${MANIFEST_VERSION}): upgrade resonix-migrate`);
  }
  try {
    return checkNaming(value);
  } catch (error) {
    if (error instanceof Invalid) throw new ManifestError(`${name} is not a valid manifest: ${error.message}`);
    throw new ManifestError(`${name} is not a valid manifest: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Parses and validates manifest text. */
export function parseManifest(text: string, name = 'manifest'): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/.exec(reason);
    const atEnd = /end of (JSON )?input|Unterminated/i.test(reason) || (at !== null && Number(at[1]) >= text.trimEnd().length);
    const hint = text.trim() === '' ? 'it is empty' : atEnd ? `it ends early, truncated? (${reason})` : reason;
    throw new ManifestError(`${name} is not JSON: ${hint}`);
  }
  return validateManifest(parsed, name);
}

/** The stat of a regular file given on the command line; a one-line ManifestError for anything else. */
export function statRegularFile(file: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read it (${code ?? 'error'})`);
  }
  if (!stat.isFile()) throw new ManifestError(`${file} is not a regular file`);
  return stat;
}

/** The two bytes every gzip member starts with. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The first bytes of what a gzip file holds (at most a few MiB, from its first 4 KiB): enough to tell a
 * gzip'd manifest (`{`) from a gzip'd tar, without decompressing the rest.
 */
export function gunzipStart(head: Uint8Array): Buffer | undefined {
  try {
    return zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch {
    return undefined;
  }
}

/** A manifest's text: the file's bytes, or what they decompress to when gzip'd (at most MAX_MANIFEST_BYTES). */
function manifestTextOf(bytes: Buffer, file: string, maxBytes: number): string {
  if (!isGzip(bytes)) return bytes.toString('utf8');
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) throw new ManifestError(`${file} decompresses to more than ${maxBytes} bytes, more than a manifest may be: not a manifest?`);
    if (code === 'Z_BUF_ERROR') throw new ManifestError(`${file} is gzip-compressed but ends early: truncated?`);
    throw new ManifestError(`${file} is gzip-compressed but damaged (${code ?? 'error'}): not a manifest?`);
  }
}

/**
 * Reads, parses and validates a manifest file (JSON, or JSON gzip'd as snapshot writes it); every failure is a
 * one-line ManifestError. `maxBytes` caps the file and what it decompresses to (tests lower it).
 */
export function readManifest(file: string, maxBytes = MAX_MANIFEST_BYTES): Manifest {
  const stat = statRegularFile(file);
  if (stat.size > maxBytes) throw new ManifestError(`${file} is ${stat.size} bytes, more than a manifest may be (${maxBytes}): not a manifest?`);
  let text: string;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    try {
      const confirmed = fs.fstatSync(fd);
      if (!confirmed.isFile()) throw new ManifestError(`${file} is not a regular file`);
      if (confirmed.size > maxBytes) throw new ManifestError(`${file} is more than ${maxBytes} bytes: not a manifest?`);
      text = manifestTextOf(fs.readFileSync(fd), file, maxBytes);
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(`${file}: cannot read it (${code ?? (error instanceof Error ? error.message : 'error')})`);
  }
  return parseManifest(text, file);
}

/**
 * The manifest's Machine, ready to be a rule baseline: owner names the manifest recorded are added to
 * its users and groups where missing (home '' for users known only by name).
 */
export function baselineOf(manifest: Manifest): Machine {
  const machineCopy: Machine = { ...manifest.machine, users: [...manifest.machine.users], groups: [...manifest.machine.groups] };
  for (const [id, name] of Object.entries(manifest.owners.users)) {
    const uid = Number(id);
    if (Number.isSafeInteger(uid) && !machineCopy.users.some((user) => user.uid === uid)) machineCopy.users.push({ name, uid, gid: uid, home: '' });
  }
  for (const [id, name] of Object.entries(manifest.owners.groups)) {
    const gid = Number(id);
    if (Number.isSafeInteger(gid) && !machineCopy.groups.some((group) => group.gid === gid)) machineCopy.groups.push({ name, gid, members: [] });
  }
  return machineCopy;
}
