// Finds the gateway's service units (systemd user/system units, launchd agents) and reads them.
// Paths are machine paths; files are read through `root`. Resolution is left to the caller.
import { constants, type Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BUDGET_CODE, type ScanProblem, type ServiceUnit } from '../model.js';
import { dotenvSecretValues, parseDotenv, parseDotenvKeys } from './dotenv.js';
import { hostPathInRoot } from './links.js';
import { SAFE_ENV_KEYS } from '../knowledge/mask.js';
import { secretArgValues, splitEnvForReport } from './secrets.js';
import { parseSystemdUnitFiles, type ParsedUnit, type UnitFileText } from './systemd.js';
import { NotReadableByOwnerError, readerMayRead, type Reader } from './read.js';

export const MAX_UNIT_BYTES = 1024 * 1024;

// Budgets for what a home can plant (issue 10). A real machine has a gateway unit or two, each with a drop-in or
// two and an environment file; every unit read also costs a runtime inspection (runtime.ts), which may ask its node
// for `--version`. Past a budget the rest is skipped, in name order (so the cut is the same on every run), and an
// EBUDGET problem says what was not read.
/** unit files and launchd plists read per scan: every home and /etc/systemd/system together (shared fairly: fairShares) */
export const MAX_UNITS = 64;
/** `<unit>.d/*.conf` drop-ins read per unit: the first in name order, the order systemd applies them in */
export const MAX_DROP_INS = 32;
/** EnvironmentFile= entries read per unit */
export const MAX_ENVIRONMENT_FILES = 16;
/** lines read per environment file (systemd reads it line by line; what follows the cut is not known) */
export const MAX_ENV_FILE_LINES = 1000;
/** WantedBy= targets per unit whose `.wants` dir is looked into (each is an lstat) */
export const MAX_WANTED_BY = 16;
/** bytes of every unit file, drop-in and environment file of one scan together (each is at most MAX_UNIT_BYTES) */
export const MAX_SERVICE_BYTES = 64 * 1024 * 1024;

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
  /** of MAX_SERVICE_BYTES */
  bytesLeft: number;
  /** the byte budget ran out and a problem says so (said once per scan) */
  bytesReported?: boolean;
}

/** Where gateway units may be: a home's systemd user dir or LaunchAgents, or the system unit dir. */
interface UnitSource {
  kind: ServiceUnit['kind'];
  dir: string;
  home?: string;
}

const SYSTEMD_UNIT = /^resonix-gateway.*\.service$/;
const LAUNCHD_AGENT = /^ai\.resonix\..*\.plist$/;
const SYSTEM_UNIT_DIR = '/etc/systemd/system';

export async function discoverServiceUnits(
  opts: DiscoverServiceOptions,
): Promise<{ units: RawServiceUnit[]; problems: ScanProblem[] }> {
  const context: Context = { root: opts.root, problems: [], bytesLeft: MAX_SERVICE_BYTES };
  const sources: UnitSource[] = [];
  for (const home of new Set(opts.homes.map((entry) => entry.path))) {
    sources.push({ kind: 'systemd-user', dir: path.posix.join(home, '.config/systemd/user'), home });
    sources.push({ kind: 'launchd', dir: path.posix.join(home, 'Library/LaunchAgents'), home });
  }
  if (opts.readSystemUnits) sources.push({ kind: 'systemd-system', dir: SYSTEM_UNIT_DIR });
  const listings = [];
  for (const source of sources) listings.push(await listDir(context, source.dir, source.kind === 'launchd' ? LAUNCHD_AGENT : SYSTEMD_UNIT, MAX_UNITS));
  // listed first, read after: a home that plants a thousand units cannot crowd out the system's or another home's
  const shares = fairShares(listings.map((listing) => listing.total), MAX_UNITS);
  const units: RawServiceUnit[] = [];
  for (const [index, source] of sources.entries()) {
    const { names, total } = listings[index]!;
    const share = shares[index]!;
    for (const name of names.slice(0, share)) {
      const unit = source.kind === 'launchd' ? await readLaunchAgent(context, source.dir, name, source.home!) : await readSystemdUnit(context, source.kind, source.dir, name, source.home);
      if (unit) units.push(unit);
    }
    if (total > share) {
      const what = source.kind === 'launchd' ? 'launch agents' : 'gateway units';
      cut(context, source.dir, `${source.dir} holds ${total} ${what}: only the first ${share} were read (the scan's unit limit, ${MAX_UNITS} for every home and ${SYSTEM_UNIT_DIR} together); the other ${total - share} were not checked`);
    }
  }
  return { units, problems: context.problems };
}

/**
 * `budget` split over sources that hold `totals` items: evenly, none given more than it holds, what one leaves
 * going to the others (max-min fair), an uneven remainder to the earlier ones. Pure and deterministic.
 */
export function fairShares(totals: readonly number[], budget: number): number[] {
  const shares = totals.map(() => 0);
  let left = Math.max(0, budget);
  let open = totals.flatMap((total, index) => (total > 0 ? [index] : []));
  while (left > 0 && open.length > 0) {
    const each = Math.max(1, Math.floor(left / open.length));
    for (const index of open) {
      const take = Math.min(each, totals[index]! - shares[index]!, left);
      shares[index]! += take;
      left -= take;
    }
    open = open.filter((index) => shares[index]! < totals[index]!);
  }
  return shares;
}

function cut(context: Context, machinePath: string, message: string): void {
  context.problems.push({ path: machinePath, code: BUDGET_CODE, message });
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
  const wantedBy = [...new Set(parsed.wantedBy)];
  if (wantedBy.length > MAX_WANTED_BY) {
    cut(context, unitPath, `${unitPath} names ${wantedBy.length} WantedBy= targets: only the first ${MAX_WANTED_BY} were looked into to tell whether it is enabled (the scan's limit per unit)`);
  }
  const wantsTargets = new Set([...(kind === 'systemd-system' ? ['multi-user.target'] : []), 'default.target', ...wantedBy.slice(0, MAX_WANTED_BY)]);
  const reader = kind === 'systemd-user' && homePath !== undefined ? await homeOwnerOf(context.root, homePath) : undefined;
  const environmentFiles = await readEnvironmentFiles(context, unitPath, parsed, reader);
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
  const { names, total } = await listDir(context, dir, /\.conf$/, MAX_DROP_INS);
  for (const name of names) {
    const file = path.posix.join(dir, name);
    const text = await readCapped(context, file);
    if (text !== undefined) dropIns.push({ path: file, text });
  }
  if (total > names.length) {
    cut(context, dir, `${dir} holds ${total} drop-ins: only the first ${names.length} were read (the scan's limit per unit); the other ${total - names.length} were not applied`);
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

/** The owner of a home, as whom its user manager reads environment files (supplementary groups not known here). */
async function homeOwnerOf(root: string, home: string): Promise<Reader | undefined> {
  const host = hostPathInRoot(root, home);
  try {
    const stat = await fs.stat(host);
    return { uid: stat.uid, gid: stat.gid, groups: [], homeHost: await fs.realpath(host) };
  } catch {
    return undefined;
  }
}

async function readEnvironmentFiles(context: Context, unitPath: string, parsed: ParsedUnit, reader?: Reader): Promise<EnvironmentFileRead[]> {
  const reads: EnvironmentFileRead[] = [];
  const named = parsed.environmentFiles.length;
  if (named > MAX_ENVIRONMENT_FILES) {
    cut(context, unitPath, `${unitPath} names ${named} environment files: only the first ${MAX_ENVIRONMENT_FILES} were read (the scan's limit per unit); the other ${named - MAX_ENVIRONMENT_FILES} were not checked`);
  }
  for (const { path: file } of parsed.environmentFiles.slice(0, MAX_ENVIRONMENT_FILES)) {
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
    // a user manager reads its units' environment files as that user: the tool, often root, reads no more
    if (reader && !readerMayRead(host, reader)) {
      context.problems.push({ path: file, code: 'EACCES', message: `${file} is not read: ${new NotReadableByOwnerError(reader.uid).message}` });
      continue;
    }
    const whole = await readCapped(context, file, host);
    if (whole === undefined) continue;
    const text = firstLines(whole, MAX_ENV_FILE_LINES);
    if (text.length < whole.length) {
      cut(context, file, `${file} has more than ${MAX_ENV_FILE_LINES} lines: only the first ${MAX_ENV_FILE_LINES} were read (the scan's limit per environment file); the rest was not checked`);
    }
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

/** `text` up to the end of its `max`th line (all of it when it has no more). */
function firstLines(text: string, max: number): string {
  let end = -1;
  for (let line = 0; line < max; line++) {
    end = text.indexOf('\n', end + 1);
    if (end < 0) return text;
  }
  return text.slice(0, end + 1);
}

/**
 * The first `limit` names in a dir that match, sorted, and how many match in all. Only `limit` names are ever
 * kept, however many a dir holds.
 */
async function listDir(context: Context, machineDir: string, pattern: RegExp, limit: number): Promise<{ names: string[]; total: number }> {
  const names: string[] = [];
  let total = 0;
  try {
    for await (const entry of await fs.opendir(hostPathInRoot(context.root, machineDir))) {
      if (!pattern.test(entry.name)) continue;
      total += 1;
      keepFirst(names, entry.name, limit);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      context.problems.push({ path: machineDir, code: 'unreadable-dir', message: `cannot list: ${code ?? String(error)}` });
    }
    return { names: [], total: 0 };
  }
  return { names, total };
}

/** Inserts `name` into the sorted `names` (the order Array.prototype.sort gives), keeping the first `limit`. */
function keepFirst(names: string[], name: string, limit: number): void {
  if (names.length >= limit && !(name < names[names.length - 1]!)) return;
  let low = 0;
  let high = names.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (names[middle]! < name) low = middle + 1;
    else high = middle;
  }
  names.splice(low, 0, name);
  if (names.length > limit) names.pop();
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
    // once one file did not fit, none after it is read: the cut is one place in the scan's order
    if (context.bytesReported || opened.size > context.bytesLeft) {
      if (!context.bytesReported) {
        context.bytesReported = true;
        cut(context, machinePath, `stopped reading service files at ${machinePath}: the scan's budget (${MAX_SERVICE_BYTES / 1024 / 1024} MiB for every unit file, drop-in and environment file) was spent; files past it were not read`);
      }
      return undefined;
    }
    const buffer = Buffer.alloc(MAX_UNIT_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead;
    }
    if (length > MAX_UNIT_BYTES) return problem('too-large', `grew past ${MAX_UNIT_BYTES} bytes while reading`);
    context.bytesLeft -= length;
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
