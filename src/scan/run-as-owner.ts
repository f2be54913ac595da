// The one place that runs a program a scanned machine may control (`node --version`, `resonix
// --version`, `git`, later `resonix doctor`). A program runs with the rights of the one user who
// controls it — who owns it or any dir above it — and never with more: as root only when root alone
// owns the file and every dir above it and none of them is group- or other-writable; a program only
// root controls, on a path that crosses a sticky shared dir (/tmp), runs as nobody. Anything else
// (two owners, a dir anyone may write, set-id bits) does not run, and the caller is told why.
// Always: a fixed environment, no stdin, a short timeout, capped output, never in image mode, and
// nothing it started outlives the call: it runs in a process group of its own, killed whole on return.
import { spawnSync, type SpawnSyncOptionsWithBufferEncoding } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { octal } from '../knowledge/text.js';
import { parsePasswd } from './passwd.js';

export const RUN_TIMEOUT_MS = 5000;
export const RUN_MAX_OUTPUT_BYTES = 64 * 1024;
/** the most any caller may ask for (`resonix doctor --lint` runs dozens of checks: it gets up to 120 s) */
export const MAX_TIMEOUT_MS = 120_000;
/** the PATH every program gets: never the scanned user's */
export const FIXED_PATH = '/usr/local/bin:/usr/bin:/bin';
const NOBODY = 65534;

export interface Identity {
  uid: number;
  gid: number;
}

export interface RunRequest {
  /** absolute host path of the program; symlinks are resolved and the real file is what runs */
  binary: string;
  args: string[];
  /** `image` scans run nothing, ever */
  scanMode: 'live' | 'image';
  /**
   * Run as this user (e.g. the gateway user for `resonix doctor`). Refused unless every owner of the
   * program and of `inputs` is this user or root. Without it: the one user who controls them.
   */
  as?: Identity;
  /**
   * Host paths the program will read and trust (a repository's .git, a state dir): their owners and the
   * dirs above them count like the program's. Each must be a regular file or a dir, reached without
   * a symlink.
   */
  inputs?: string[];
  /** absolute host dir to start in (default `/`); it counts as an input */
  cwd?: string;
  /** at most 120 s (default 5 s); the program and everything it started are killed with SIGKILL after it */
  timeoutMs?: number;
  /** per stream (default 64 KiB): past it the program and its group are killed and the output marked truncated */
  maxOutputBytes?: number;
  /** fixed variables the caller chose (never the scanned machine's environment); PATH and LC_ALL are set unless given */
  env?: Record<string, string>;
}

export type RunResult =
  | {
      ran: true;
      /** who it ran as */
      uid: number;
      gid: number;
      status: number | null;
      signal: NodeJS.Signals | null;
      stdout: Buffer;
      stderr: Buffer;
      timedOut: boolean;
      truncated: boolean;
      /** a spawn error (ENOENT, EACCES, …) other than the timeout and the output cap */
      errorCode?: string;
    }
  | { ran: false; reason: string };

interface Trust {
  /** non-root uids that can change what runs or what it reads */
  owners: Set<number>;
  /** true when a dir on the way is group- or other-writable (even if sticky) */
  shared: boolean;
}

type ChainResult = { ok: true; real: string } | { ok: false; reason: string };

/**
 * Walks `real` from `/`, lstat per component: adds every owner to `trust.owners`, and refuses a
 * component that someone else may replace (a dir above it writable by group or others without the
 * sticky bit) or change (the last component writable by group or others).
 */
function checkChain(hostPath: string, trust: Trust, what: 'program' | 'input'): ChainResult {
  if (!path.isAbsolute(hostPath)) return { ok: false, reason: `${hostPath} is not an absolute path` };
  let real: string;
  try {
    real = fs.realpathSync(hostPath);
  } catch (error) {
    return { ok: false, reason: `${hostPath}: ${(error as NodeJS.ErrnoException).code ?? 'cannot resolve'}` };
  }
  const parts = real.split('/').filter(Boolean);
  let current = '/';
  let parent: fs.Stats | undefined;
  for (let index = 0; index <= parts.length; index++) {
    if (index > 0) current = path.posix.join(current, parts[index - 1]!);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(current);
    } catch (error) {
      return { ok: false, reason: `${current}: ${(error as NodeJS.ErrnoException).code ?? 'cannot stat'}` };
    }
    const last = index === parts.length;
    // the path was just resolved: a link now means someone is swapping it
    if (stat.isSymbolicLink()) return { ok: false, reason: `${current} changed while it was checked` };
    if (!last && !stat.isDirectory()) return { ok: false, reason: `${current} is not a directory` };
    if (stat.uid !== 0) trust.owners.add(stat.uid);
    if (parent !== undefined && (parent.mode & 0o022) !== 0) {
      trust.shared = true;
      // a sticky dir lets only an entry's owner (or the dir's) rename or remove it; both are counted already
      if ((parent.mode & 0o1000) === 0) {
        const dir = path.posix.dirname(current);
        return { ok: false, reason: `${dir} is writable by ${(parent.mode & 0o002) !== 0 ? 'anyone' : 'its group'} (mode ${octal(parent.mode)}): anyone who can write it can replace ${current}` };
      }
    }
    if (last) {
      if ((stat.mode & 0o022) !== 0) return { ok: false, reason: `${current} is writable by ${(stat.mode & 0o002) !== 0 ? 'anyone' : 'its group'} (mode ${octal(stat.mode)})` };
      if (what === 'program') {
        if (!stat.isFile()) return { ok: false, reason: `${current} is not a regular file` };
        if ((stat.mode & 0o6000) !== 0) return { ok: false, reason: `${current} is set-user-ID or set-group-ID (mode ${octal(stat.mode)})` };
        if ((stat.mode & 0o111) === 0) return { ok: false, reason: `${current} is not executable` };
      } else if (!stat.isFile() && !stat.isDirectory()) return { ok: false, reason: `${current} is not a regular file or directory` };
    }
    parent = stat;
  }
  return { ok: true, real };
}

let passwdCache: { uid: number; gid: number; name: string }[] | undefined;

/** The host's accounts (the tool runs on the host: a uid means the same user as the kernel sees it). */
function hostAccounts(): { uid: number; gid: number; name: string }[] {
  if (passwdCache) return passwdCache;
  try {
    const fd = fs.openSync('/etc/passwd', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.size > 4 * 1024 * 1024) passwdCache = [];
      else passwdCache = parsePasswd(fs.readFileSync(fd, 'utf8'));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    passwdCache = [];
  }
  return passwdCache;
}

/** A uid's primary gid from the host's /etc/passwd, else nogroup (never a group the user may not hold). */
export function primaryGid(uid: number): number {
  return hostAccounts().find((entry) => entry.uid === uid)?.gid ?? NOBODY;
}

function nobody(): Identity {
  const entry = hostAccounts().find((item) => item.name === 'nobody');
  return entry ? { uid: entry.uid, gid: entry.gid } : { uid: NOBODY, gid: NOBODY };
}

export type RunPlan = { ok: true; binary: string; cwd: string; as: Identity } | { ok: false; reason: string };

/** Who `request` would run as, and the real program and dir, or why it must not run. Runs nothing. */
export function planRun(request: RunRequest): RunPlan {
  if (request.scanMode !== 'live') return { ok: false, reason: 'an image scan runs nothing from the image' };
  const trust: Trust = { owners: new Set(), shared: false };
  const program = checkChain(request.binary, trust, 'program');
  if (!program.ok) return program;
  const cwd = request.cwd ?? '/';
  const inputs = [...(request.inputs ?? []), cwd];
  for (const input of inputs) {
    const checked = checkChain(input, trust, 'input');
    if (!checked.ok) return checked;
  }
  const me = process.getuid?.() ?? 0;
  const owners = [...trust.owners].sort((a, b) => a - b);
  let as: Identity;
  if (request.as) {
    const others = owners.filter((uid) => uid !== request.as!.uid);
    if (others.length > 0) return { ok: false, reason: `${program.real} or what it reads is owned by uid ${others.join(', ')}, not by uid ${request.as.uid} it would run as` };
    if (request.as.uid === 0 && trust.shared) return { ok: false, reason: `${program.real} would run as root, but a dir above it or what it reads is writable by others` };
    as = request.as;
  } else if (owners.length > 1) {
    return { ok: false, reason: `${program.real} and what it reads are controlled by more than one user (uid ${owners.join(', ')})` };
  } else if (owners.length === 1) {
    as = { uid: owners[0]!, gid: primaryGid(owners[0]!) };
  } else if (me !== 0) {
    // only root controls it: the tool's own (unprivileged) user may run it
    as = { uid: me, gid: process.getgid?.() ?? me };
  } else {
    as = trust.shared ? nobody() : { uid: 0, gid: 0 };
  }
  if (as.uid !== me && me !== 0) return { ok: false, reason: `${program.real} would have to run as uid ${as.uid}, and this tool runs as uid ${me}, which cannot switch users` };
  return { ok: true, binary: program.real, cwd: fs.realpathSync(cwd), as };
}

/**
 * Runs a program of the scanned machine with no more rights than the user who controls it (see the
 * file comment), or says why it did not. Never throws.
 */
export function runAsOwner(request: RunRequest): RunResult {
  let plan: RunPlan;
  try {
    plan = planRun(request);
  } catch (error) {
    return { ran: false, reason: (error as NodeJS.ErrnoException).code ?? 'cannot check the program' };
  }
  if (!plan.ok) return { ran: false, reason: plan.reason };
  const me = process.getuid?.() ?? 0;
  const timeout = Math.max(1, Math.min(request.timeoutMs ?? RUN_TIMEOUT_MS, MAX_TIMEOUT_MS));
  const maxBuffer = Math.max(1, request.maxOutputBytes ?? RUN_MAX_OUTPUT_BYTES);
  const env = { PATH: FIXED_PATH, LC_ALL: 'C', ...request.env };
  const switching = plan.as.uid !== me || (me === 0 && plan.as.gid !== (process.getgid?.() ?? 0));
  const options: SpawnSyncOptionsWithBufferEncoding & { detached: boolean } = {
    cwd: plan.cwd,
    env,
    encoding: 'buffer',
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer,
    windowsHide: true,
    // setsid(): the program leads a process group of its own, so whatever it forks can be killed with
    // it. spawnSync honours `detached` (node's spawn_sync.cc reads it) though its typings leave it out;
    // the tests check that the program leads its group.
    detached: true,
    // libuv drops supplementary groups (setgroups(0)) before setgid/setuid
    ...(switching ? { uid: plan.as.uid, gid: plan.as.gid } : {}),
  };
  const result = spawnSync(plan.binary, request.args, options);
  killGroup(result.pid);
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  const truncated = code === 'ENOBUFS';
  const timedOut = code === 'ETIMEDOUT' || (!truncated && result.signal === 'SIGKILL' && result.error !== undefined);
  return {
    ran: true,
    uid: plan.as.uid,
    gid: plan.as.gid,
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? Buffer.alloc(0),
    stderr: result.stderr ?? Buffer.alloc(0),
    timedOut,
    truncated,
    ...(code !== undefined && !truncated && !timedOut ? { errorCode: code } : {}),
  };
}

/**
 * Kills what is left of the program's process group: a child it forked (`sleep 1000 &`, a daemon it
 * started) would otherwise go on running as its owner after we return. spawnSync never waits on a
 * pipe such a child holds beyond the timeout or the output cap: at either it closes our ends and
 * returns, and this kills the holder. Only a process that left the group itself (setsid) escapes.
 * The group's id is the program's pid; a new, unrelated group can take it only once every member is
 * gone, in the moment between spawnSync reaping the program and this call.
 */
function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing of it is left
  }
}

/** The first executable regular file `name` in the absolute dirs of PATH (empty and relative entries are skipped). */
export function whichOnPath(name: string, pathValue: string | undefined): string | undefined {
  for (const dir of (pathValue ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (!fs.statSync(candidate).isFile()) continue;
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not there, or not executable: keep looking
    }
  }
  return undefined;
}
