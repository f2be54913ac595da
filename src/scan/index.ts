// discover + collect: the only code that reads the scanned machine. Produces one serialisable Machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_GATEWAY_PORT, GATEWAY_LOCK_NAME, SQLITE_GATEWAY_LOCK, STATE_DIR_NAME, WORKSPACE_MARKERS } from '../knowledge/layout.js';
import type { GatewayLock, GatewayUser, GroupEntry, Home, Install, Machine, PasswdEntry, Runtime, ScanProblem, ServiceUnit, StrayWorkspace } from '../model.js';
import { findBackupArchives } from './archives.js';
import { decompressionBudget } from '../archive/budget.js';
import { collectInstall, type CollectContext } from './install.js';
import { dotenvSecretValues, parseDotenv } from './dotenv.js';
import { forgetResolvedPaths, hostPathInRoot, readMounts } from './links.js';
import { detectOldHomes, markArrivedWorkspaces } from './moved-home.js';
import { forgetRuntimeProbes, inspectPathRuntime, inspectServiceRuntime, probeLoopbackPorts, runtimeProbeProblems } from './runtime.js';
import { MAX_PASSWD_BYTES, assembleHome, assembleMachine, gatewayUserOf, usersOf } from './machine.js';
import { dirEntries, readTextCapped, type Reader } from './read.js';
import { resolveResonix, type Env } from './resolve.js';
import { maskSecrets } from '../knowledge/mask.js';
import { splitEnvForReport } from './secrets.js';
import { discoverServiceUnits, type RawServiceUnit } from './services.js';
import { sessionsBudget } from './session-refs.js';
import { DEFAULT_MAX_ENTRIES } from './walk.js';
import type { ProgressCounter } from '../progress.js';
import { collectAtPhaseEnd } from '../memory.js';

export interface ScanOptions {
  mode: 'live' | 'image';
  /** host path of the machine's root: '/' live, ROOTFS for an image */
  root: string;
  /** the process environment (live); ignored in image mode */
  env: Env;
  cwd?: string;
  /** --home: the home to inspect */
  home?: string;
  /** --state-dir: the state dir to inspect, as RESONIX_STATE_DIR would */
  stateDir?: string;
  profile?: string;
  /** --user: who runs the gateway */
  user?: string;
  /** extra globs where backup archives may be (this tool's config `archives`) */
  archivePatterns?: string[];
  /** --resonix-version: the Resonix version that will run, when it cannot be learned */
  resonixVersion?: string;
  /** at most this many inventory entries in all (DEFAULT_MAX_ENTRIES): bounds memory */
  maxEntries?: number;
  /** ticked as the scan goes (entries walked, bytes of nearby backups read); the CLI draws a progress line from it */
  progress?: ProgressCounter;
  /** keep what the walk's lstat said of each regular file (inode, links, blocks), for hashing that follows the scan */
  fileIdentities?: boolean;
  /** the decompression budget for all archives of the scan (default SCAN_DECOMPRESS_BYTES / SCAN_DECOMPRESS_MS) */
  archiveBudget?: { bytes: number; ms: number };
}

/** `--user NAME` names nobody in the machine's /etc/passwd (and is not a uid). */
export class UnknownUserError extends Error {
  constructor(readonly user: string) {
    super(`--user ${user}: no such user in the machine's /etc/passwd (give a name from it, or a uid)`);
  }
}

export interface ScanResult {
  machine: Machine;
  /** secret values seen while scanning: only for the masker, never serialised */
  secrets: Set<string>;
}

function readUsers(root: string): { users: PasswdEntry[]; groups: GroupEntry[] } {
  const passwd = readTextCapped(hostPathInRoot(root, '/etc/passwd'), MAX_PASSWD_BYTES);
  const group = readTextCapped(hostPathInRoot(root, '/etc/group'), MAX_PASSWD_BYTES);
  return usersOf(passwd.ok ? passwd.text : undefined, group.ok ? group.text : undefined);
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

function userByName(users: PasswdEntry[], name: string): PasswdEntry | undefined {
  if (/^\d+$/.test(name)) return users.find((user) => user.uid === Number(name));
  return users.find((user) => user.name === name);
}

function gatewayUserFor(
  options: ScanOptions,
  users: PasswdEntry[],
  groups: GroupEntry[],
  homeStat: fs.Stats | undefined,
  services: ServiceUnit[],
  sudoUser?: PasswdEntry,
): GatewayUser {
  const make = (entry: PasswdEntry | undefined, uid: number, gid: number, source: GatewayUser['source']): GatewayUser => gatewayUserOf(entry, uid, gid, groups, source);
  // an explicit --user wins over anything we infer
  if (options.user) {
    const entry = userByName(users, options.user);
    if (entry) return make(entry, entry.uid, entry.gid, 'flag');
    if (/^\d+$/.test(options.user)) return make(undefined, Number(options.user), Number(options.user), 'flag');
    throw new UnknownUserError(options.user);
  }
  const serviceUser = services.find((unit) => unit.user)?.user;
  if (serviceUser) {
    const entry = userByName(users, serviceUser);
    if (entry) return make(entry, entry.uid, entry.gid, 'service');
  }
  if (homeStat) {
    const entry = users.find((user) => user.uid === homeStat.uid);
    return make(entry, homeStat.uid, homeStat.gid, 'home-owner');
  }
  if (sudoUser) return make(sudoUser, sudoUser.uid, sudoUser.gid, 'current');
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  return make(users.find((user) => user.uid === uid), uid, gid, 'current');
}

/** Root and whoever runs the tool: owners whose files are taken at their word. */
function trustedOwner(stat: fs.Stats | undefined): boolean {
  return stat !== undefined && (stat.uid === 0 || stat.uid === (process.getuid?.() ?? 0)) && (stat.mode & 0o022) === 0;
}

/**
 * Whether the unit's User=/Group= decide who the gateway runs as. Only a system unit can switch users
 * (a user manager runs everything as its own user; launchd ignores a LaunchAgent's UserName), and only
 * when root wrote it: the file, its drop-ins and their dirs are root's (or the operator's) and writable by
 * nobody else. Otherwise a user could name `User=daemon` and have --fix treat daemon's home as the one to fix.
 */
function unitMaySwitchUser(root: string, raw: RawServiceUnit): boolean {
  if (raw.kind !== 'systemd-system' || raw.parsed.user === undefined) return false;
  const files = [raw.path, path.posix.dirname(raw.path), ...raw.dropIns, ...(raw.dropIns.length > 0 ? [`${raw.path}.d`] : [])];
  return files.every((file) => trustedOwner(lstatOrUndefined(hostPathInRoot(root, file))));
}

/** The gateway user as whom files outside the home are read (read.ts Reader). */
function readerFor(root: string, home: string, user: GatewayUser): Reader {
  const host = hostPathInRoot(root, home);
  let homeHost = host;
  try {
    homeHost = fs.realpathSync(host);
  } catch {
    // no home here: nothing lies inside it
  }
  return { uid: user.uid, gid: user.gid, groups: user.groups, homeHost };
}

function toServiceUnit(raw: RawServiceUnit, fallbackHome: string, users: PasswdEntry[], secrets: Set<string>, options: ScanOptions): ServiceUnit {
  const split = splitEnvForReport(raw.parsed.environment);
  for (const value of [...split.secretValues, ...raw.secretValues]) secrets.add(value);
  const switchesUser = unitMaySwitchUser(options.root, raw);
  const userHome = switchesUser && raw.parsed.user ? userByName(users, raw.parsed.user)?.home : undefined;
  const resolution = resolveResonix({
    // EnvironmentFile= values override Environment= in systemd: a state dir set there really moves
    env: raw.resolutionEnv,
    fallbackHome: userHome ?? raw.homePath ?? fallbackHome,
    fallbackHomeSource: 'passwd',
    ...(raw.parsed.workingDirectory ? { cwd: raw.parsed.workingDirectory } : {}),
  });
  const optional = new Set(raw.parsed.environmentFiles.filter((file) => file.optional).map((file) => file.path));
  const runtime = inspectServiceRuntime(
    options.root,
    {
      execStart: raw.parsed.execStart,
      ...(raw.parsed.workingDirectory ? { workingDirectory: raw.parsed.workingDirectory } : {}),
      environmentFiles: raw.environmentFiles.map((file) => ({ ...file, optional: optional.has(file.path) })),
      ...(raw.parsed.environment.RESONIX_SERVICE_VERSION ? { serviceVersion: raw.parsed.environment.RESONIX_SERVICE_VERSION } : {}),
    },
    { live: options.mode === 'live' },
  );
  return {
    kind: raw.kind,
    path: raw.path,
    ...(raw.size !== undefined ? { size: raw.size } : {}),
    name: raw.name,
    enabled: raw.enabled,
    execStart: raw.parsed.execStart.map((word) => maskSecrets(word, secrets)),
    ...(raw.parsed.workingDirectory ? { workingDirectory: raw.parsed.workingDirectory } : {}),
    ...(switchesUser && raw.parsed.user ? { user: raw.parsed.user } : {}),
    ...(switchesUser && raw.parsed.group ? { group: raw.parsed.group } : {}),
    env: split.env,
    envKeys: split.envKeys,
    secretEnvKeys: split.secretEnvKeys,
    environmentFiles: raw.environmentFiles,
    resolution,
    ...(raw.parsed.errors.length > 0 ? { parseError: raw.parsed.errors.join('; ') } : {}),
    ...(runtime.missingPaths.length > 0 ? { missingPaths: runtime.missingPaths } : {}),
    ...(runtime.nodeVersion ? { nodeVersion: runtime.nodeVersion } : {}),
    ...(runtime.resonixVersion ? { resonixVersion: runtime.resonixVersion } : {}),
  };
}


/** `~/.config/resonix/gateway.env`: loaded for the default state dir only (reference §5). */
function gatewayEnvFile(root: string, home: string, secrets: Set<string>): { gatewayEnvKeys?: string[] } {
  const read = readTextCapped(hostPathInRoot(root, path.posix.join(home, '.config/resonix/gateway.env')), 1024 * 1024);
  if (!read.ok) return {};
  const values = parseDotenv(read.text);
  for (const value of dotenvSecretValues(values)) secrets.add(value);
  return { gatewayEnvKeys: Object.keys(values).sort() };
}

/** `~/.resonix` and `~/.resonix-<profile>` dirs in a home. */
function stateDirsInHome(root: string, home: string): string[] {
  let names: string[];
  try {
    names = dirEntries(hostPathInRoot(root, home), (entry) => STATE_DIR_NAME.test(entry.name), MAX_NAMES_LOOKED).kept.map((entry) => entry.name);
  } catch {
    return [];
  }
  return names
    .filter((name) => lstatOrUndefined(hostPathInRoot(root, path.posix.join(home, name)))?.isDirectory())
    .sort()
    .map((name) => path.posix.join(home, name));
}

const MAX_WORKSPACE_PROBE_DIRS = 2000;
/** names looked at in one dir the scan only glances into (a home's top, a lock dir): past it, the rest are not */
const MAX_NAMES_LOOKED = 200_000;
/** gateway lock files read from one lock dir (a gateway holds one per config) */
const MAX_LOCKS = 64;

/** Visible dirs up to two levels below the home that look like agent workspaces. */
function findWorkspaceDirs(root: string, home: string): StrayWorkspace[] {
  const found: StrayWorkspace[] = [];
  let probed = 0;
  const probe = (dir: string, depth: number): void => {
    if (probed++ > MAX_WORKSPACE_PROBE_DIRS) return;
    let names: fs.Dirent[];
    try {
      names = dirEntries(hostPathInRoot(root, dir), (entry) => (entry.isFile() && WORKSPACE_MARKERS.has(entry.name)) || entry.isDirectory(), MAX_NAMES_LOOKED).kept;
    } catch {
      return;
    }
    const markers = names.filter((entry) => entry.isFile() && WORKSPACE_MARKERS.has(entry.name)).map((entry) => entry.name);
    // one marker suffices (issue 11): a workspace copied by `cp ~/*` may hold only AGENTS.md or SOUL.md
    if (depth > 0 && markers.length >= 1) {
      found.push({ path: dir, markers: markers.sort() });
      return;
    }
    if (depth >= 2) return;
    for (const entry of names) {
      if (entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== 'node_modules') probe(path.posix.join(dir, entry.name), depth + 1);
    }
  };
  probe(home, 0);
  return found;
}

function readLocks(options: ScanOptions, env: Env, uid: number, installs: Install[]): GatewayLock[] {
  if (options.mode !== 'live') return [];
  const locks: GatewayLock[] = [];
  const tmp = env.TMPDIR && env.TMPDIR.trim() !== '' ? env.TMPDIR : '/tmp';
  const lockDir = path.posix.join(tmp, `resonix-${uid}`);
  let names: string[] = [];
  try {
    names = dirEntries(hostPathInRoot(options.root, lockDir), (entry) => GATEWAY_LOCK_NAME.test(entry.name), MAX_NAMES_LOOKED).kept.map((entry) => entry.name);
  } catch {
    names = [];
  }
  for (const name of names.sort().slice(0, MAX_LOCKS)) {
    const lockPath = path.posix.join(lockDir, name);
    const read = readTextCapped(hostPathInRoot(options.root, lockPath), 64 * 1024);
    let pid: number | undefined;
    let configPath: string | undefined;
    if (read.ok) {
      try {
        const parsed = JSON.parse(read.text) as { pid?: unknown; configPath?: unknown };
        if (typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0) pid = parsed.pid;
        if (typeof parsed.configPath === 'string') configPath = parsed.configPath;
      } catch {
        // a torn lock file: keep it, without a pid
      }
    }
    locks.push({ path: lockPath, generation: 'file', ...(pid ? { pid, alive: isAlive(pid) } : {}), ...(configPath ? { configPath } : {}) });
  }
  for (const install of installs) {
    for (const entry of install.inventory.entries) {
      if (entry.type === 'file' && SQLITE_GATEWAY_LOCK.test(entry.path)) {
        locks.push({ path: path.posix.join(install.stateDir, entry.path), generation: 'sqlite' });
      }
    }
  }
  return locks;
}

/**
 * Who can reach a file through its parent dirs (each must be searchable): 'world' when every one has o+x,
 * 'group' when every one is searchable by the others or the file's group, else 'owner'. One lstat per parent.
 */
export function reachableBy(root: string, machinePath: string): 'world' | 'group' | 'owner' | undefined {
  const file = lstatOrUndefined(hostPathInRoot(root, machinePath));
  if (!file) return undefined;
  let world = true;
  let group = true;
  for (let dir = path.posix.dirname(machinePath); ; dir = path.posix.dirname(dir)) {
    const stat = lstatOrUndefined(hostPathInRoot(root, dir));
    if (!stat) return undefined;
    if ((stat.mode & 0o001) === 0) world = false;
    if ((stat.mode & 0o001) === 0 && !((stat.mode & 0o010) !== 0 && stat.gid === file.gid)) group = false;
    if (dir === '/' || dir === '.') break;
  }
  return world ? 'world' : group ? 'group' : 'owner';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface HomeTarget {
  path: string;
  env: Env;
  fallbackSource: 'flag' | 'os' | 'passwd';
  /** chosen as SUDO_USER's home */
  sudoUser?: PasswdEntry;
}

/**
 * Under `sudo` HOME is root's: the person meant is SUDO_USER — when this process runs as root, SUDO_USER names
 * a user of this machine other than root, and no --home was given (reference §12).
 */
export function sudoUserOf(env: Env, users: PasswdEntry[], uid: number): PasswdEntry | undefined {
  const name = env.SUDO_USER?.trim();
  if (uid !== 0 || !name || name === 'root') return undefined;
  const entry = users.find((user) => user.name === name);
  return entry && entry.uid !== 0 && entry.home !== '' && entry.home !== '/' ? entry : undefined;
}

function homeTargets(options: ScanOptions, users: PasswdEntry[]): HomeTarget[] {
  if (options.mode === 'live') {
    const env: Env = { ...options.env };
    if (options.home) {
      env.HOME = options.home;
      delete env.USERPROFILE;
    }
    if (options.stateDir) env.RESONIX_STATE_DIR = options.stateDir;
    const sudoUser = options.home ? undefined : sudoUserOf(options.env, users, process.getuid?.() ?? -1);
    if (sudoUser) {
      env.HOME = sudoUser.home;
      env.USER = sudoUser.name;
      env.LOGNAME = sudoUser.name;
      delete env.USERPROFILE;
      return [{ path: sudoUser.home, env, fallbackSource: 'passwd', sudoUser }];
    }
    const home = options.home ?? (env.HOME && env.HOME !== '' ? env.HOME : os.homedir());
    return [{ path: home, env, fallbackSource: options.home ? 'flag' : 'os' }];
  }
  // image: nothing of the host; every user whose home holds a .resonix* dir, or the one asked for
  const base: Env = {};
  if (options.stateDir) base.RESONIX_STATE_DIR = options.stateDir;
  if (options.home) return [{ path: options.home, env: { ...base, HOME: options.home }, fallbackSource: 'flag' }];
  const asked = options.user ? userByName(users, options.user) : undefined;
  const candidates = asked ? [asked] : users;
  const seen = new Set<string>();
  const targets: HomeTarget[] = [];
  for (const user of candidates) {
    if (seen.has(user.home) || user.home === '/' || user.home === '') continue;
    seen.add(user.home);
    const hasState = stateDirsInHome(options.root, user.home).length > 0;
    const hasUnits = lstatOrUndefined(hostPathInRoot(options.root, path.posix.join(user.home, '.config/systemd/user'))) !== undefined;
    if (asked || hasState || hasUnits) targets.push({ path: user.home, env: { ...base, HOME: user.home, USER: user.name }, fallbackSource: 'passwd' });
  }
  return targets;
}

/** The ports a gateway of these installs would listen on (config, unit env, defaults). */
function gatewayPorts(homes: Home[]): number[] {
  const ports = new Set<number>([DEFAULT_GATEWAY_PORT]);
  for (const home of homes) {
    for (const install of home.installs) if (install.config.port) ports.add(install.config.port);
    for (const unit of home.services) {
      const port = Number(unit.env.RESONIX_GATEWAY_PORT);
      if (Number.isInteger(port) && port > 0 && port < 65536) ports.add(port);
    }
    if (home.installs.some((install) => install.profile === 'dev')) ports.add(19001);
  }
  return [...ports].sort((a, b) => a - b);
}

async function machineRuntime(options: ScanOptions, units: RawServiceUnit[], homes: Home[]): Promise<Runtime> {
  const flag = options.resonixVersion ? { resonixVersionFlag: options.resonixVersion } : {};
  const runtime: Runtime = options.mode === 'live' ? inspectPathRuntime(options.env, flag) : options.resonixVersion ? { resonixVersion: options.resonixVersion, resonixSource: 'flag' } : {};
  if (!runtime.nodeRange || !runtime.schemaVersions || !runtime.resonixVersion) {
    // the package beside a service's entry script tells what the gateway will run (image mode has nothing else)
    for (const raw of units) {
      const service = inspectServiceRuntime(options.root, { execStart: raw.parsed.execStart, environmentFiles: [] }, { live: false });
      if (!service.resonixVersion) continue;
      if (!runtime.resonixVersion) Object.assign(runtime, { resonixVersion: service.resonixVersion, resonixSource: 'service-package' });
      if (runtime.resonixVersion !== service.resonixVersion) continue;
      if (!runtime.nodeRange && service.nodeRange) runtime.nodeRange = service.nodeRange;
      if (!runtime.schemaVersions && service.schemaVersions) runtime.schemaVersions = service.schemaVersions;
      break;
    }
  }
  if (options.mode === 'live') runtime.openPorts = await probeLoopbackPorts(gatewayPorts(homes));
  return runtime;
}

export async function scanMachine(options: ScanOptions): Promise<ScanResult> {
  forgetResolvedPaths();
  forgetRuntimeProbes();
  const secrets = new Set<string>();
  const problems: ScanProblem[] = [];
  const { users, groups } = readUsers(options.root);
  const targets = homeTargets(options, users);
  const discovered = await discoverServiceUnits({ root: options.root, homes: targets.map((target) => ({ path: target.path })), readSystemUnits: true });
  problems.push(...discovered.problems);
  const allUnits = discovered.units.map((raw) => ({ raw, unit: toServiceUnit(raw, targets[0]?.path ?? '/root', users, secrets, options) }));

  // system units whose user has no home target of its own still need one (image mode)
  if (options.mode === 'image' && !options.home) {
    for (const { unit } of allUnits) {
      const home = unit.resolution.home;
      if (!targets.some((target) => target.path === home)) targets.push({ path: home, env: { HOME: home }, fallbackSource: 'passwd' });
    }
  }

  const homes: Home[] = [];
  const mounts = options.mode === 'live' ? readMounts() : undefined;
  const entryBudget = { remaining: options.maxEntries ?? DEFAULT_MAX_ENTRIES };
  const sessions = sessionsBudget();
  for (const target of targets) {
    const context: CollectContext = {
      root: options.root,
      home: target.path,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      entryBudget,
      sessionsBudget: sessions,
      ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
      secrets,
      problems,
      followSymlinks: options.mode === 'live',
      ...(mounts ? { mounts } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.fileIdentities ? { fileIdentities: true } : {}),
    };
    const resolution = resolveResonix({
      env: target.env,
      fallbackHome: target.path,
      fallbackHomeSource: target.fallbackSource,
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (options.stateDir && resolution.stateDirSource === 'RESONIX_STATE_DIR') resolution.stateDirSource = 'flag';
    const services = allUnits
      .filter(({ raw, unit }) => raw.homePath === target.path || unit.resolution.home === target.path)
      .map(({ unit }) => unit);

    const stateDirs = new Map<string, Install['foundBy']>();
    stateDirs.set(resolution.stateDir, options.stateDir ? 'flag' : 'resolution');
    for (const dir of stateDirsInHome(options.root, resolution.home)) if (!stateDirs.has(dir)) stateDirs.set(dir, 'home-glob');
    if (resolution.home !== target.path) {
      for (const dir of stateDirsInHome(options.root, target.path)) if (!stateDirs.has(dir)) stateDirs.set(dir, 'home-glob');
    }
    for (const unit of services) if (!stateDirs.has(unit.resolution.stateDir)) stateDirs.set(unit.resolution.stateDir, 'service');

    const homeStat = lstatOrUndefined(hostPathInRoot(options.root, target.path));
    const gatewayUser = gatewayUserFor(options, users, groups, homeStat, services, target.sudoUser);
    context.reader = readerFor(options.root, target.path, gatewayUser);

    const installs: Install[] = [];
    for (const [stateDir, foundBy] of stateDirs) {
      const active = stateDir === resolution.stateDir;
      const servingUnit = services.find((unit) => unit.resolution.stateDir === stateDir);
      const configPath = active ? resolution.configPath : servingUnit?.resolution.configPath;
      const install = collectInstall(context, stateDir, { active, foundBy, ...(configPath ? { configPath } : {}) });
      install.servedBy = services.filter((unit) => unit.resolution.stateDir === stateDir).map((unit) => unit.path);
      installs.push(install);
    }
    const owner = homeStat ? users.find((user) => user.uid === homeStat.uid) : undefined;
    const oldHomes = detectOldHomes(options.root, target.path, [...new Set([target.path, resolution.home])], installs, services);
    const home = assembleHome({
      path: target.path,
      exists: homeStat?.isDirectory() ?? false,
      ...(homeStat ? { owner: { uid: homeStat.uid, gid: homeStat.gid } } : {}),
      ...(owner ? { user: owner.name } : {}),
      resolution,
      gatewayUser,
      installs,
      services,
      locks: readLocks(options, target.env, gatewayUser.uid, installs),
      workspaceDirs: findWorkspaceDirs(options.root, target.path),
      ...gatewayEnvFile(options.root, target.path, secrets),
      ...(target.sudoUser ? { sudoUser: target.sudoUser.name } : {}),
      oldHomes,
    });
    markArrivedWorkspaces(options.root, home);
    homes.push(home);
  }

  const archives = await findBackupArchives({
    root: options.root,
    homes: homes.map((home) => home.path),
    tmpDir: options.mode === 'live' ? (options.env.TMPDIR && options.env.TMPDIR !== '' ? options.env.TMPDIR : '/tmp') : '/tmp',
    patterns: options.archivePatterns ?? [],
    exclude: homes.flatMap((home) => home.installs.map((install) => install.stateDir)),
    problems,
    trustedUids: homes.map((home) => home.gatewayUser.uid),
    ...(options.archiveBudget ? { budget: decompressionBudget(options.archiveBudget.bytes, options.archiveBudget.ms) } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });

  for (const archive of archives) {
    const reach = reachableBy(options.root, archive.path);
    if (reach) archive.reachableBy = reach;
  }

  const runtime = await machineRuntime(options, discovered.units, homes);
  problems.push(...runtimeProbeProblems());
  const machine = assembleMachine({
    mode: options.mode,
    root: options.mode === 'live' ? '/' : options.root,
    users,
    groups,
    homes,
    archives,
    ...(options.mode === 'live' ? { processEnvKeys: Object.keys(options.env).filter((key) => options.env[key] !== undefined).sort() } : {}),
    runtime,
    problems,
  });
  // the walk's buffers and stats are dead now: what follows grows the heap from what the scan keeps
  collectAtPhaseEnd((options.maxEntries ?? DEFAULT_MAX_ENTRIES) - entryBudget.remaining);
  return { machine, secrets };
}
