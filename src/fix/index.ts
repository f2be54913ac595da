// The only code that writes to the scanned machine. It applies the typed actions findings carry
// (chmod, chown, mkdir) and nothing else: it never deletes, never opens a file's contents, never
// follows a symlink, never acts outside a state dir, workspace or backup the scan found, and checks
// every action before applying any, so a missing permission stops it before it half-applies.
//
// The scanned home is written by someone who may be hostile, and --fix often runs as root, so a path
// the config or a unit names is not trusted for being named. An action may touch only what lies inside
// the gateway user's home (the home the scan was pointed at, or the one /etc/passwd gives that user),
// or inside a state dir the operator named (--state-dir, RESONIX_STATE_DIR of the tool's own
// environment) whose every ancestor is owned by root or that user and writable by nobody else, or a
// backup archive found in such a dir. Both are established by walking the path one component at a
// time without following any link (O_PATH|O_NOFOLLOW relative to the opened parent on Linux, lstat
// elsewhere), at planning time and again right before each action. Whatever fails that is not applied:
// the plan lists it as refused, with the command to run by hand.
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../knowledge/paths.js';
import type { Finding, FixAction, Home, Machine, Report } from '../model.js';
import { sh } from '../knowledge/shell.js';
import { octal } from '../knowledge/text.js';

export class FixError extends Error {}

export interface PlannedFix {
  action: FixAction;
  /** the shell command that does the same */
  command: string;
  ruleId: string;
}

/** A fix --fix will not apply, and why; its command is for the operator to run after checking the path. */
export interface RefusedFix extends PlannedFix {
  reason: string;
}

export function commandOf(action: FixAction): string {
  switch (action.kind) {
    case 'chmod':
      return `chmod ${octal(action.mode ?? 0)} ${sh(action.path)}`;
    case 'chown':
      return `chown -h${action.recursive ? 'R' : ''} ${action.uid}:${action.gid} ${sh(action.path)}`;
    case 'mkdir':
      return `mkdir -m ${octal(action.mode ?? 0o700)} ${sh(action.path)}`;
  }
}

/** Two rules may ask for different modes on one path: the owner keeps what either grants, others get what both allow. */
function mergeModes(a: number, b: number): number {
  return ((a | b) & 0o7700) | (a & b & 0o077);
}

/**
 * Every action of the report's unsuppressed root findings (the safe part of the plan: a folded finding is
 * fixed through its cause), in report order, each path once (chmods on one path
 * merged). `--fix-dry-run` prints exactly this. `rawActions` (the engine's, beside the report) hold the real
 * paths to act on; without them the report's own (masked) actions are used.
 */
export function planFixes(report: Report, rawActions?: ReadonlyMap<Finding, readonly FixAction[]>): PlannedFix[] {
  const plan: PlannedFix[] = [];
  const byKey = new Map<string, PlannedFix>();
  for (const finding of report.findings) {
    if (finding.suppressed || finding.causedBy) continue;
    const shown = finding.fix?.actions ?? [];
    // the real paths, for applying; the shown (masked) ones, for printing
    const raw = rawActions?.get(finding) ?? shown;
    raw.forEach((action, index) => {
      const display = shown[index] ?? action;
      const key = `${action.kind}\0${action.path}`;
      const earlier = byKey.get(key);
      if (earlier && action.kind === 'chmod' && earlier.action.mode !== action.mode) {
        const mode = mergeModes(earlier.action.mode ?? 0, action.mode ?? 0);
        earlier.action = { ...earlier.action, mode };
        earlier.command = commandOf({ ...display, mode });
        return;
      }
      if (earlier) return;
      const item = { action, command: commandOf(display), ruleId: finding.ruleId };
      byKey.set(key, item);
      plan.push(item);
    });
  }
  return plan;
}

function partsOf(relative: string): string[] {
  return relative.split('/').filter((part) => part !== '' && part !== '.');
}

/** The places a fix may touch at most: the state dirs, workspaces and backups the scan found. */
export function allowedRoots(machine: Machine): string[] {
  const roots: string[] = [];
  for (const home of machine.homes) {
    for (const install of home.installs) {
      if (install.inventory.exists) roots.push(install.stateDir);
      for (const workspace of install.workspaces) if (workspace.inventory.exists) roots.push(workspace.path);
    }
  }
  for (const archive of machine.archives) roots.push(archive.path);
  return roots;
}

// --- walking without following links -------------------------------------------------------------

// O_PATH opens an entry without opening its contents (no read permission needed, no side effects on
// FIFOs or devices); `/proc/self/fd/N/name` then names a child of exactly the dir opened as N, and
// chmod/chown of `/proc/self/fd/N` act on exactly the inode opened, the nearest Node comes to
// openat/fchmodat. Where that is missing, paths are used and every action is bracketed by lstat checks.
const O_PATH = process.platform === 'linux' && ['x64', 'arm64', 'ia32', 'arm', 'riscv64', 's390x', 'ppc64'].includes(process.arch) ? 0o10000000 : 0;
let procFd: boolean | undefined;
function useFds(): boolean {
  procFd ??= O_PATH !== 0 && fs.existsSync('/proc/self/fd');
  return procFd;
}

/** Tests: `false` takes the path-and-lstat way other systems take; undefined goes back to detecting. */
export function setFdWalk(enabled: boolean | undefined): void {
  procFd = enabled === true ? O_PATH !== 0 && fs.existsSync('/proc/self/fd') : enabled;
}

/** One entry reached without following a link: `at` names exactly it for chmod/chown/readdir. */
interface Ref {
  at: string;
  /** the path as the operator would write it on the host (for messages and the path fallback) */
  host: string;
  stat: fs.Stats;
  fd?: number;
}

function openTop(host: string): Ref {
  if (useFds()) {
    const fd = fs.openSync(host, O_PATH | fs.constants.O_DIRECTORY);
    return { at: `/proc/self/fd/${fd}`, host, stat: fs.fstatSync(fd), fd };
  }
  return { at: host, host, stat: fs.statSync(host) };
}

/** The child `name` of the dir `parent`, the link itself when it is one. */
function openChild(parent: Ref, name: string): Ref {
  const host = path.join(parent.host, name);
  if (useFds()) {
    const fd = fs.openSync(`${parent.at}/${name}`, O_PATH | fs.constants.O_NOFOLLOW);
    return { at: `/proc/self/fd/${fd}`, host, stat: fs.fstatSync(fd), fd };
  }
  const at = path.join(parent.at, name);
  return { at, host, stat: fs.lstatSync(at) };
}

function close(ref: Ref | undefined): void {
  if (ref?.fd !== undefined) fs.closeSync(ref.fd);
}

/** Without fds, a path is only as good as the last look at it: the same inode, still no link. */
function recheck(ref: Ref): void {
  if (ref.fd !== undefined) return;
  const now = fs.lstatSync(ref.at);
  if (now.isSymbolicLink() || now.ino !== ref.stat.ino || now.dev !== ref.stat.dev) throw new FixError(`${ref.host} was swapped during the fix`);
}

/** Refusals found while walking, said in the user's words. */
class Refusal extends Error {}

function errnoOf(error: unknown): string {
  return error instanceof FixError || error instanceof Refusal ? error.message : ((error as NodeJS.ErrnoException).code ?? 'failed');
}

/**
 * Descends from `top` through `parts`, every component a real dir (never a link); `checkDir` judges
 * each dir passed through. Returns the dir holding the last part and the last part's own entry (or
 * undefined when it does not exist and `missingOk`).
 */
function walk(top: Ref, parts: string[], checkDir: (ref: Ref) => void, missingOk = false): { parent: Ref; target: Ref | undefined } {
  let current = top;
  try {
    checkDir(current);
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index]!;
      if (part === '..') throw new Refusal(`the path goes up (..)`);
      let next: Ref;
      try {
        next = openChild(current, part);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && index === parts.length - 1 && missingOk) return { parent: current, target: undefined };
        throw new Refusal(code === 'ENOENT' ? `${path.join(current.host, part)} does not exist` : `${path.join(current.host, part)} cannot be reached (${code ?? 'failed'})`);
      }
      if (next.stat.isSymbolicLink()) {
        close(next);
        throw new Refusal(`${next.host} is a symlink${index === parts.length - 1 ? '' : ' in a parent of the path'}; --fix never follows one`);
      }
      if (index === parts.length - 1) return { parent: current, target: next };
      if (!next.stat.isDirectory()) {
        close(next);
        throw new Refusal(`${next.host} is not a directory`);
      }
      checkDir(next);
      if (current !== top) close(current);
      current = next;
    }
    return { parent: current, target: undefined };
  } catch (error) {
    if (current !== top) close(current);
    throw error;
  }
}

// --- where a fix may act -----------------------------------------------------------------------

interface Zone {
  /** machine path of the zone's top */
  machinePath: string;
  /** trusted host dir the walk starts from */
  hostTop: string;
  /** hostTop's inode when the zone was drawn: a top swapped since then is refused */
  topStat: fs.Stats;
  /** components from hostTop to the zone's top, each checked as an ancestor */
  prefix: string[];
  /** who may own a dir on the way (root and the gateway user) */
  owners: Set<number>;
  /** a single file (a backup): the target must be it, owned by one of `owners` */
  exact: boolean;
  what: string;
}

/**
 * A machine path of an image as a host path: the plain join under the root, `..` kept from climbing above it.
 * No link is resolved here, and none needs to be: this only names where a home's walk starts, realpath then
 * resolves it and the zone is dropped unless it lands inside the real root (a link in the image that points
 * outside, or an absolute one, cannot widen what --fix may touch), and below that top every component is
 * opened with O_NOFOLLOW.
 */
function inRoot(root: string, machinePath: string): string {
  return path.join(root, path.posix.resolve('/', machinePath));
}

function realRootOf(machine: Machine): string {
  return machine.root === '/' ? '/' : fs.realpathSync(machine.root);
}

/** The homes the operator pointed the scan at, and the gateway users' own homes from passwd. */
function trustedHomes(machine: Machine): { home: Home; paths: string[] }[] {
  return machine.homes.map((home) => {
    const paths = new Set<string>();
    // live: the home came from --home, HOME or the OS; in an image a unit may have named it, so only passwd counts
    if (machine.mode === 'live' || machine.users.some((user) => user.home === home.path)) paths.add(home.path);
    const own = machine.users.find((user) => user.uid === home.gatewayUser.uid);
    if (own) paths.add(own.home);
    return { home, paths: [...paths].filter((item) => path.posix.isAbsolute(item) && path.posix.normalize(item) !== '/') };
  });
}

function homeZones(machine: Machine, realRoot: string): Zone[] {
  const zones: Zone[] = [];
  for (const { home, paths } of trustedHomes(machine)) {
    for (const homePath of paths) {
      let hostTop: string;
      let topStat: fs.Stats;
      try {
        // live: a link on the way to the home (/home -> /usr/home) counts only when root or the operator owns it,
        // since whoever owns a link can point it anywhere; an image's links are bounded by its root instead
        hostTop = machine.root === '/' ? resolveThroughTrustedLinks(homePath, operatorUids()) : fs.realpathSync(inRoot(machine.root, homePath));
        topStat = fs.statSync(hostTop);
      } catch {
        continue;
      }
      if (machine.root !== '/' && !isInside(hostTop, realRoot)) continue;
      if (!topStat.isDirectory()) continue;
      const owners = new Set([0, home.gatewayUser.uid]);
      const what = `the home of ${home.gatewayUser.name ?? `uid ${home.gatewayUser.uid}`}`;
      zones.push({ machinePath: homePath, hostTop, topStat, prefix: [], owners, exact: false, what });
      // the same home under its resolved name (a home reached through /home -> /usr/home)
      const resolved = machine.root === '/' ? hostTop : `/${path.relative(realRoot, hostTop)}`;
      if (resolved !== homePath) zones.push({ machinePath: resolved, hostTop, topStat, prefix: [], owners, exact: false, what });
    }
  }
  return zones;
}

/** State dirs the operator named (not a config or unit), and backups the scan found in fixed places. */
function namedZones(machine: Machine, realRoot: string): Zone[] {
  const zones: Zone[] = [];
  let topStat: fs.Stats;
  try {
    topStat = fs.statSync(realRoot);
  } catch {
    return zones;
  }
  const gatewayUids = new Set([0, ...machine.homes.map((home) => home.gatewayUser.uid)]);
  for (const home of machine.homes) {
    for (const install of home.installs) {
      const byOperator = install.foundBy === 'flag' || (machine.mode === 'live' && install.foundBy === 'resolution' && install.active);
      if (!byOperator || !install.inventory.exists) continue;
      zones.push({ machinePath: install.stateDir, hostTop: realRoot, topStat, prefix: partsOf(install.stateDir), owners: new Set([0, home.gatewayUser.uid]), exact: false, what: 'the state dir you named' });
    }
  }
  for (const archive of machine.archives) {
    zones.push({ machinePath: archive.path, hostTop: realRoot, topStat, prefix: partsOf(archive.path), owners: gatewayUids, exact: true, what: 'a backup the scan found' });
  }
  return zones;
}

/** Root and whoever runs the tool: the only owners whose links and dirs above a zone are taken as they are. */
function operatorUids(): Set<number> {
  return new Set([0, process.getuid?.() ?? 0]);
}

/**
 * realpath, one component at a time, refusing a link that someone other than `linkOwners` owns
 * (a user who owns `/data/alice` as a link could point it at /etc).
 */
export function resolveThroughTrustedLinks(machinePath: string, linkOwners: Set<number>): string {
  let pending = partsOf(machinePath);
  let resolved = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved = path.dirname(resolved);
      continue;
    }
    const next = path.join(resolved, part);
    const stat = fs.lstatSync(next);
    if (!stat.isSymbolicLink()) {
      resolved = next;
      continue;
    }
    if (!linkOwners.has(stat.uid)) throw new Refusal(`${next} is a symlink owned by uid ${stat.uid}`);
    if (++hops > 40) throw new Refusal(`${machinePath}: too many levels of symlinks`);
    const target = fs.readlinkSync(next);
    pending = [...partsOf(target), ...pending];
    if (path.isAbsolute(target)) resolved = '/';
  }
  return resolved;
}

/**
 * A zone's top reached from `/` one component at a time without following a link, every dir above it
 * root's, the operator's or the gateway user's and writable by nobody else (sticky dirs aside), and still
 * the inode the zone was drawn on: a top swapped for a link or another dir since then is refused.
 */
function openZoneTop(zone: Zone): Ref {
  const owners = new Set([...zone.owners, ...operatorUids()]);
  let current = openTop('/');
  try {
    for (const part of partsOf(zone.hostTop)) {
      const { uid, mode } = current.stat;
      if (!owners.has(uid)) throw new Refusal(`${current.host} belongs to uid ${uid}, neither root nor the gateway user`);
      if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) throw new Refusal(`${current.host} is writable by others (${octal(mode & 0o7777)})`);
      const next = openChild(current, part);
      close(current);
      current = next;
      if (current.stat.isSymbolicLink()) throw new Refusal(`${current.host} became a symlink since it was checked; --fix never follows one`);
      if (!current.stat.isDirectory()) throw new Refusal(`${current.host} is not a directory`);
    }
    if (current.stat.ino !== zone.topStat.ino || current.stat.dev !== zone.topStat.dev) throw new Refusal(`${zone.hostTop} was replaced since it was checked`);
    return current;
  } catch (error) {
    close(current);
    throw error;
  }
}

function ancestorCheck(zone: Zone): (ref: Ref) => void {
  return (ref) => {
    const { uid, mode } = ref.stat;
    if (!zone.owners.has(uid)) throw new Refusal(`${ref.host} belongs to uid ${uid}, neither root nor the gateway user`);
    // sticky dirs (/tmp) let nobody else rename what is in them
    if ((mode & 0o022) !== 0 && (mode & 0o1000) === 0) throw new Refusal(`${ref.host} is writable by others (${octal(mode & 0o7777)})`);
  };
}

/** Why the scanned machine named this root, for a refusal's words. */
function provenance(machine: Machine, target: string): string {
  for (const home of machine.homes) {
    for (const install of home.installs) {
      for (const workspace of install.workspaces) {
        if (workspace.source === 'config' && isInside(target, workspace.path) && !isInside(workspace.path, install.stateDir)) return `a workspace named only by the scanned config (${install.config.path ?? install.stateDir})`;
      }
      if (isInside(target, install.stateDir)) {
        if (install.foundBy === 'service') return `a state dir named only by the unit ${install.servedBy[0] ?? 'file'}`;
        return `the state dir ${install.stateDir}`;
      }
    }
  }
  return 'a path the scan found';
}

interface Located {
  zone: Zone;
  parent: Ref;
  target: Ref | undefined;
}

/**
 * Finds the zone the action's path lies in and walks to it; throws Refusal with the reason when no
 * zone holds it. The caller closes parent and target.
 */
function locate(machine: Machine, zones: Zone[], action: FixAction): Located {
  const target = path.posix.normalize(action.path);
  if (!path.posix.isAbsolute(target)) throw new Refusal('the path is not absolute');
  if (!allowedRoots(machine).some((root) => isInside(target, root))) throw new Refusal('the path is not inside a state dir, workspace or backup that was scanned');
  const candidates = zones.filter((zone) => (zone.exact ? target === zone.machinePath : isInside(target, zone.machinePath))).sort((a, b) => b.machinePath.length - a.machinePath.length);
  const homes = [...new Set(zones.filter((zone) => zone.prefix.length === 0).map((zone) => zone.machinePath))];
  if (candidates.length === 0) {
    throw new Refusal(`${provenance(machine, target)}, outside ${homes.length > 0 ? `the gateway user's home (${homes.join(', ')})` : "any home the tool trusts"}; --fix changes nothing there`);
  }
  let first: Refusal | undefined;
  for (const zone of candidates) {
    let top: Ref | undefined;
    try {
      top = openZoneTop(zone);
      const parts = [...zone.prefix, ...partsOf(path.posix.relative(zone.machinePath, target))];
      const check = ancestorCheck(zone);
      if (parts.length === 0) {
        // the action is on the zone's top itself (a home)
        const self = openZoneTop(zone);
        return { zone, parent: top, target: self };
      }
      let depth = 0;
      const { parent, target: found } = walk(top, parts, (ref) => {
        // the zone's own ancestors must be root's or the user's (an image's ROOTFS is the operator's);
        // inside the zone only links are refused
        const index = depth++;
        if (index === 0 && zone.hostTop !== '/') return;
        if (index < zone.prefix.length) check(ref);
      }, action.kind === 'mkdir');
      if (zone.exact && found && !zone.owners.has(found.stat.uid)) {
        close(found);
        throw new Refusal(`the backup belongs to uid ${found.stat.uid}, neither root nor a gateway user`);
      }
      if (parent !== top) close(top);
      return { zone, parent, target: found };
    } catch (error) {
      close(top);
      if (!(error instanceof Refusal)) throw error;
      first ??= new Refusal(`${error.message} (inside ${zone.what})`);
    }
  }
  throw first!;
}

function closeLocated(located: Located): void {
  close(located.target);
  close(located.parent);
}

/** What is wrong with acting on this entry itself, whatever zone it is in. */
function entryRefusal(action: FixAction, target: Ref | undefined): string | undefined {
  if (action.kind === 'mkdir') return undefined;
  if (!target) return 'the path does not exist';
  if (target.stat.isSymbolicLink()) return 'the path is a symlink';
  if (!target.stat.isDirectory() && target.stat.nlink > 1) return `the file has ${target.stat.nlink} hard links: changing it would change the other names too`;
  if (!target.stat.isDirectory() && !target.stat.isFile()) return 'the path is neither a file nor a directory';
  return undefined;
}

function zonesOf(machine: Machine): Zone[] {
  const realRoot = realRootOf(machine);
  return [...homeZones(machine, realRoot), ...namedZones(machine, realRoot)];
}

/**
 * Splits the plan into what --fix will apply and what it refuses (with the reason), by walking every
 * path now. `--fix-dry-run` and `--fix` both print this split, so the dry run shows exactly what --fix does.
 */
export function confinePlan(machine: Machine, plan: PlannedFix[]): { apply: PlannedFix[]; refused: RefusedFix[] } {
  const zones = zonesOf(machine);
  const apply: PlannedFix[] = [];
  const refused: RefusedFix[] = [];
  for (const item of plan) {
    try {
      const located = locate(machine, zones, item.action);
      const reason = entryRefusal(item.action, located.target);
      closeLocated(located);
      if (reason) refused.push({ ...item, reason });
      else apply.push(item);
    } catch (error) {
      if (!(error instanceof Refusal)) refused.push({ ...item, reason: `it cannot be checked (${errnoOf(error)})` });
      else refused.push({ ...item, reason: error.message });
    }
  }
  return { apply, refused };
}

// --- applying --------------------------------------------------------------------------------

function checkPermission(action: FixAction, stat: fs.Stats, uid: number, shown: string): void {
  if (uid === 0) return;
  if (action.kind === 'chown' && (action.uid !== uid || stat.uid !== uid || action.recursive)) {
    throw new FixError(`cannot \`${shown}\` as uid ${uid}: run the fix as root (sudo), or run the command shown`);
  }
  if (action.kind === 'chmod' && stat.uid !== uid) {
    throw new FixError(`cannot \`${shown}\`: the path belongs to uid ${stat.uid}, not to you (uid ${uid}); run the fix as root`);
  }
}

/** Checks every action first; throws FixError before anything is changed. */
export function preflight(machine: Machine, plan: PlannedFix[], uid: number): void {
  const zones = zonesOf(machine);
  for (const { action, command } of plan) {
    let located: Located;
    try {
      located = locate(machine, zones, action);
    } catch (error) {
      throw new FixError(`refusing \`${command}\`: ${errnoOf(error)}`);
    }
    try {
      const reason = entryRefusal(action, located.target);
      if (reason) throw new FixError(`refusing \`${command}\`: ${reason}`);
      if (located.target) checkPermission(action, located.target.stat, uid, command);
    } finally {
      closeLocated(located);
    }
  }
}

function chmodRef(ref: Ref, mode: number): boolean {
  if ((ref.stat.mode & 0o7777) === mode) return false;
  recheck(ref);
  fs.chmodSync(ref.at, mode);
  recheck(ref);
  return true;
}

const MAX_DEPTH = 256;

interface TreeResult {
  changed: number;
  /** hard-linked files left alone */
  linked: number;
}

/**
 * chown -h (and -R): never a link, never another file system mounted below, never a file with a second
 * name; every entry opened by name from its already-opened parent, so a link planted mid-way is seen.
 * `result` counts as it goes, so a failure deep down still says truthfully what was changed.
 */
function chownTree(top: Ref, uid: number, gid: number, recursive: boolean, result: TreeResult): void {
  const device = top.stat.dev;
  const visit = (ref: Ref, depth: number): void => {
    const { stat } = ref;
    if (stat.isSymbolicLink() || stat.dev !== device) return;
    if (!stat.isDirectory() && stat.nlink > 1) {
      result.linked += 1;
      return;
    }
    if (stat.uid !== uid || stat.gid !== gid) {
      recheck(ref);
      fs.chownSync(ref.at, uid, gid);
      result.changed += 1;
    }
    if (!recursive || !stat.isDirectory()) return;
    if (depth >= MAX_DEPTH) throw new FixError(`it goes more than ${MAX_DEPTH} levels deep`);
    recheck(ref);
    for (const name of fs.readdirSync(ref.at)) {
      const child = openChild(ref, name);
      try {
        visit(child, depth + 1);
      } finally {
        close(child);
      }
    }
  };
  visit(top, 0);
}

export interface AppliedFix extends PlannedFix {
  changed: number;
  /** hard-linked files a chown left alone */
  linked?: number;
}

function describeApplied(fixes: AppliedFix[]): string {
  return fixes.length === 0 ? '' : `: ${fixes.map((fix) => fix.command).join('; ')}`;
}

/**
 * Applies the plan (after preflight). Each path is walked again right before acting on it; a fix that
 * fails anyway stops the run with a FixError that says how many fixes and entries were changed, and which.
 * Running it twice changes nothing the second time.
 */
export function applyFixes(machine: Machine, plan: PlannedFix[], uid = process.getuid?.() ?? 0): AppliedFix[] {
  preflight(machine, plan, uid);
  const zones = zonesOf(machine);
  const applied: AppliedFix[] = [];
  for (const item of plan) {
    const { action } = item;
    const result: TreeResult = { changed: 0, linked: 0 };
    let located: Located | undefined;
    try {
      try {
        located = locate(machine, zones, action);
      } catch (error) {
        if (error instanceof Refusal) throw new FixError(`refused now: ${error.message}`);
        throw error;
      }
      const reason = entryRefusal(action, located.target);
      if (reason) throw new FixError(`refused now: ${reason}`);
      const target = located.target;
      if (action.kind === 'chmod') result.changed = chmodRef(target!, action.mode ?? 0o600) ? 1 : 0;
      else if (action.kind === 'chown') chownTree(target!, action.uid ?? uid, action.gid ?? uid, action.recursive === true, result);
      else if (!target) {
        recheck(located.parent);
        fs.mkdirSync(`${located.parent.at}/${path.posix.basename(action.path)}`, { mode: action.mode ?? 0o700 });
        result.changed = 1;
      }
    } catch (error) {
      const done = applied.filter((fix) => fix.changed > 0);
      const partly = result.changed > 0 ? `, after changing ${result.changed} entr${result.changed === 1 ? 'y' : 'ies'} in it` : ', having changed nothing in it';
      const left = plan.length - applied.length - 1;
      throw new FixError(
        `\`${item.command}\` failed (${errnoOf(error)})${partly}; ${done.length} of ${plan.length} fix${plan.length === 1 ? '' : 'es'} applied before it${describeApplied(done)}${left > 0 ? `; ${left} not tried` : ''}`,
      );
    } finally {
      if (located) closeLocated(located);
    }
    applied.push({ ...item, changed: result.changed, ...(result.linked > 0 ? { linked: result.linked } : {}) });
  }
  return applied;
}
