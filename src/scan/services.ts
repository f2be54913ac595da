// Finds the gateway's service units (systemd user/system units, launchd agents) and reads them.
// Paths are machine paths; files are read through `root`. Resolution is left to the caller.
import { constants, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ScanProblem, ServiceUnit } from '../model.js';
import { dotenvSecretValues, parseDotenv, parseDotenvKeys } from './dotenv.js';
import { hostPathInRoot } from './links.js';
import { SAFE_ENV_KEYS } from '../knowledge/mask.js';
import { secretArgValues, splitEnvForReport } from './secrets.js';
import { parseSystemdUnitFiles, type ParsedUnit, type UnitFileText } from './systemd.js';

export const MAX_UNIT_BYTES = 1024 * 1024;

export interface RawServiceUnit {
  kind: ServiceUnit['kind'];
  /** machine path of the unit file */
  path: string;
  /** bytes of the unit file (not its drop-ins) */
  size?: number;
  name: string;
  enabled: boolean;
  parsed: ParsedUnit;
  /** launchd Label */
  label?: string;
  /** the home whose directory the unit was found in (absent for system units) */
  homePath?: string;
  /** drop-ins read after the unit (`<unit>.d/*.conf`), machine paths */
  dropIns: string[];
  environmentFiles: { path: string; exists: boolean; keys: string[] }[];
  /**
   * the unit's Environment= overlaid with the non-secret values of its EnvironmentFile=s, which
   * systemd lets override Environment=: what to resolve the state dir from
   */
  resolutionEnv: Record<string, string>;
  /** raw secret values seen in the unit and its environment files: for the masker only */
  secretValues: string[];
}

export interface DiscoverServiceOptions {
  root: string;
  homes: { path: string }[];
  readSystemUnits: boolean;
}

interface Context {
  root: string;
  problems: ScanProblem[];
}

const SYSTEMD_UNIT = /^resonix-gateway.*\.service$/;
const LAUNCHD_AGENT = /^ai\.resonix\..*\.plist$/;
const SYSTEM_UNIT_DIR = '/etc/systemd/system';

export async function discoverServiceUnits(
  opts: DiscoverServiceOptions,
): Promise<{ units: RawServiceUnit[]; problems: ScanProblem[] }> {
  const context: Context = { root: opts.root, problems: [] };
  const units: RawServiceUnit[] = [];
  for (const home of new Set(opts.homes.map((entry) => entry.path))) {
    const userDir = path.posix.join(home, '.config/systemd/user');
    for (const name of await listDir(context, userDir, SYSTEMD_UNIT)) {
      const unit = await readSystemdUnit(context, 'systemd-user', userDir, name, home);
      if (unit) units.push(unit);
    }
    const agentDir = path.posix.join(home, 'Library/LaunchAgents');
    for (const name of await listDir(context, agentDir, LAUNCHD_AGENT)) {
      const unit = await readLaunchAgent(context, agentDir, name, home);
      if (unit) units.push(unit);
    }
  }
  if (opts.readSystemUnits) {
    for (const name of await listDir(context, SYSTEM_UNIT_DIR, SYSTEMD_UNIT)) {
      const unit = await readSystemdUnit(context, 'systemd-system', SYSTEM_UNIT_DIR, name);
      if (unit) units.push(unit);
    }
  }
  return { units, problems: context.problems };
}

async function readSystemdUnit(
  context: Context,
  kind: 'systemd-user' | 'systemd-system',
  dir: string,
  name: string,
  homePath?: string,
): Promise<RawServiceUnit | undefined> {
  const unitPath = path.posix.join(dir, name);
  const bytes = await readCappedBytes(context, unitPath);
  if (bytes === undefined) return undefined;
  const text = bytes.toString('utf8');
  const dropIns = await readDropIns(context, `${unitPath}.d`);
  const files: UnitFileText[] = [{ text }, ...dropIns.map((dropIn) => ({ text: dropIn.text, name: dropIn.path }))];
  const parsed = parseSystemdUnitFiles(files, { specifiers: specifiersFor(name, homePath) });
  const wantsTargets = new Set([...(kind === 'systemd-system' ? ['multi-user.target'] : []), 'default.target', ...parsed.wantedBy]);
  const environmentFiles = await readEnvironmentFiles(context, parsed);
  return {
    kind,
    path: unitPath,
    size: bytes.length,
    name,
    enabled: await anyEntryExists(context, [...wantsTargets].map((target) => path.posix.join(dir, `${target}.wants`, name))),
    parsed,
    ...(homePath !== undefined ? { homePath } : {}),
    dropIns: dropIns.map((dropIn) => dropIn.path),
    environmentFiles: environmentFiles.map(({ path: file, exists, keys }) => ({ path: file, exists, keys })),
    resolutionEnv: { ...parsed.environment, ...Object.assign({}, ...environmentFiles.map((file) => file.safeValues)) },
    secretValues: unique([
      ...splitEnvForReport(parsed.environment).secretValues,
      ...environmentFiles.flatMap((file) => file.secretValues),
      ...secretArgValues(parsed.execStart),
    ]),
  };
}

/**
 * Specifiers systemd fills from the manager, not from User=: a system unit's %h is /root
 * (systemd.unit(5)). The user name of a user manager is not known here, so %u stays as written.
 */
function specifiersFor(name: string, homePath: string | undefined): Record<string, string> {
  const stem = name.replace(/\.service$/, '');
  const at = stem.indexOf('@');
  return {
    n: name,
    N: stem,
    p: at >= 0 ? stem.slice(0, at) : stem,
    i: at >= 0 ? stem.slice(at + 1) : '',
    h: homePath ?? '/root',
    ...(homePath === undefined ? { u: 'root', U: '0' } : {}),
  };
}

async function readDropIns(context: Context, dir: string): Promise<{ path: string; text: string }[]> {
  const dropIns: { path: string; text: string }[] = [];
  for (const name of await listDir(context, dir, /\.conf$/)) {
    const file = path.posix.join(dir, name);
    const text = await readCapped(context, file);
    if (text !== undefined) dropIns.push({ path: file, text });
  }
  return dropIns;
}

interface EnvironmentFileRead {
  path: string;
  exists: boolean;
  keys: string[];
  safeValues: Record<string, string>;
  secretValues: string[];
}

async function readEnvironmentFiles(context: Context, parsed: ParsedUnit): Promise<EnvironmentFileRead[]> {
  const reads: EnvironmentFileRead[] = [];
  for (const { path: file } of parsed.environmentFiles) {
    const read: EnvironmentFileRead = { path: file, exists: false, keys: [], safeValues: {}, secretValues: [] };
    reads.push(read);
    if (!file.startsWith('/')) {
      context.problems.push({ path: file, code: 'unresolved-path', message: 'EnvironmentFile= path with an unexpanded specifier' });
      continue;
    }
    // unlike a unit, an environment file is often a symlink (to /run/secrets/…): follow it, inside the root
    const host = hostPathInRoot(context.root, file, { followLast: true });
    read.exists = (await lstatOrUndefined(host)) !== undefined;
    if (!read.exists) continue;
    const text = await readCapped(context, file, host);
    if (text === undefined) continue;
    const values = parseDotenv(text);
    const split = splitEnvForReport(values);
    read.keys = parseDotenvKeys(text);
    read.secretValues = [...new Set([...split.secretValues, ...dotenvSecretValues(values)])];
    read.safeValues = Object.fromEntries(Object.entries(values).filter(([key]) => SAFE_ENV_KEYS.has(key) && key in split.env));
  }
  return reads;
}

async function readLaunchAgent(context: Context, dir: string, name: string, homePath: string): Promise<RawServiceUnit | undefined> {
  const plistPath = path.posix.join(dir, name);
  const bytes = await readCappedBytes(context, plistPath);
  if (bytes === undefined) return undefined;
  const size = bytes.length;
  // plist (with xmldom) costs ~50 ms to load: only machines with a launchd agent pay it
  const { parseLaunchdPlist } = await import('./plist.js');
  const parsed = parseLaunchdPlist(bytes);
  return {
    kind: 'launchd',
    path: plistPath,
    size,
    name: parsed.label ?? name.replace(/\.plist$/, ''),
    // agents in ~/Library/LaunchAgents are loaded at login; RunAtLoad/KeepAlive decide whether they start
    enabled: !parsed.disabled && (parsed.runAtLoad || parsed.keepAlive),
    parsed,
    ...(parsed.label !== undefined ? { label: parsed.label } : {}),
    homePath,
    dropIns: [],
    environmentFiles: [],
    resolutionEnv: { ...parsed.environment },
    secretValues: unique([...splitEnvForReport(parsed.environment).secretValues, ...secretArgValues(parsed.execStart)]),
  };
}

async function anyEntryExists(context: Context, machinePaths: string[]): Promise<boolean> {
  for (const machinePath of machinePaths) {
    // lstat: a dangling symlink in a .wants dir still means "enabled"
    if ((await lstatOrUndefined(hostPathInRoot(context.root, machinePath))) !== undefined) return true;
  }
  return false;
}

async function listDir(context: Context, machineDir: string, pattern: RegExp): Promise<string[]> {
  try {
    const names = await fs.readdir(hostPathInRoot(context.root, machineDir));
    return names.filter((name) => pattern.test(name)).sort();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      context.problems.push({ path: machineDir, code: 'unreadable-dir', message: `cannot list: ${code ?? String(error)}` });
    }
    return [];
  }
}

async function readCapped(context: Context, machinePath: string, host?: string): Promise<string | undefined> {
  const bytes = await readCappedBytes(context, machinePath, host);
  return bytes === undefined ? undefined : bytes.toString('utf8');
}

/** A regular file's bytes, or undefined with a problem recorded. Never follows a final symlink. */
async function readCappedBytes(context: Context, machinePath: string, knownHost?: string): Promise<Buffer | undefined> {
  const problem = (code: string, message: string) => {
    context.problems.push({ path: machinePath, code, message });
    return undefined;
  };
  const host = knownHost ?? (hostPathInRoot(context.root, machinePath));
  const stat = await lstatOrUndefined(host);
  if (!stat) return problem('unreadable-file', 'cannot stat');
  if (!stat.isFile()) return problem('not-regular-file', `not a regular file (${stat.isSymbolicLink() ? 'symlink' : 'special file'}), not read`);
  let handle: fs.FileHandle | undefined;
  try {
    // O_NONBLOCK: if the file was swapped for a FIFO after lstat, open must not hang
    handle = await fs.open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const opened = await handle.stat();
    if (!opened.isFile()) return problem('not-regular-file', 'changed to a non-regular file during the scan');
    if (opened.size > MAX_UNIT_BYTES) return problem('too-large', `${opened.size} bytes, limit ${MAX_UNIT_BYTES}`);
    const buffer = Buffer.alloc(MAX_UNIT_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead;
    }
    if (length > MAX_UNIT_BYTES) return problem('too-large', `grew past ${MAX_UNIT_BYTES} bytes while reading`);
    return buffer.subarray(0, length);
  } catch (error) {
    return problem('unreadable-file', `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  } finally {
    await handle?.close();
  }
}

async function lstatOrUndefined(host: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(host);
  } catch {
    return undefined;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))];
}
