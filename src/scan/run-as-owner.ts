// The one place that runs a program a scanned machine may control (`node --version`, `resonix
// --version`, `git`, later `resonix doctor`). A program runs with the rights of the one user who
// controls it — who owns it or any dir above it — and never with more: as root only when root alone
// owns the file and every dir above it and none of them is group- or other-writable; a program only
// root controls, on a path that crosses a sticky shared dir (/tmp), runs as nobody. Anything else
// (two owners, a dir anyone may write, set-id bits) does not run, and the caller is told why.
// What the kernel and the program look up by name count like the program: a script's `#!`
// interpreter (and the program `#!/usr/bin/env X` finds on PATH), and every dir of the PATH it gets.
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

/** what the kernel reads of a file to find its `#!` line (BINPRM_BUF_SIZE) */
const SHEBANG_BYTES = 256;
/** as the kernel's path walk (MAXSYMLINKS) */
const MAX_LINKS = 40;

type LookUp = { ok: true; found: false } | { ok: true; found: true; real: string; stat: fs.Stats } | { ok: false; reason: string };

function writableBy(mode: number): string {
  return (mode & 0o002) !== 0 ? 'anyone' : 'its group';
}

/**
 * Looks `written` up the way the kernel does when it resolves a name at exec time (an interpreter, a
 * PATH entry): component by component, following symlinks. Every entry looked up adds its owner to
 * `trust.owners`, and a lookup someone else could redirect is refused: an entry in a dir writable by
 * group or others without the sticky bit, or a name that is not there in a dir writable by group or
 * others (sticky or not, anyone may create it). Nothing is opened; a link is only read.
 */
function lookUp(written: string, trust: Trust): LookUp {
  if (!path.isAbsolute(written)) return { ok: false, reason: `${written} is not an absolute path` };
  const pending = written.split('/').filter(Boolean).reverse();
  let current = '/';
  let links = 0;
  try {
    let stat = fs.lstatSync(current);
    if (stat.uid !== 0) trust.owners.add(stat.uid);
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '.') continue;
      if (name === '..') {
        // `current` never holds a link: its parent is the real one
        current = path.posix.dirname(current);
        stat = fs.lstatSync(current);
        continue;
      }
      // ENOTDIR: nothing is there; who may replace `current` is counted already
      if (!stat.isDirectory()) return { ok: true, found: false };
      const next = path.posix.join(current, name);
      const open = (stat.mode & 0o022) !== 0;
      let entry: fs.Stats;
      try {
        entry = fs.lstatSync(next);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
        if (open) return { ok: false, reason: `${current} is writable by ${writableBy(stat.mode)} (mode ${octal(stat.mode)}): anyone who can write it can create ${next}` };
        return { ok: true, found: false };
      }
      if (open) {
        trust.shared = true;
        if ((stat.mode & 0o1000) === 0) return { ok: false, reason: `${current} is writable by ${writableBy(stat.mode)} (mode ${octal(stat.mode)}): anyone who can write it can replace ${next}` };
      }
      if (entry.uid !== 0) trust.owners.add(entry.uid);
      if (entry.isSymbolicLink()) {
        if (++links > MAX_LINKS) return { ok: false, reason: `${written}: too many symbolic links` };
        const target = fs.readlinkSync(next);
        if (target.startsWith('/')) {
          current = '/';
          stat = fs.lstatSync(current);
        }
        pending.push(...target.split('/').filter(Boolean).reverse());
        continue;
      }
      current = next;
      stat = entry;
    }
    return { ok: true, found: true, real: current, stat };
  } catch (error) {
    return { ok: false, reason: `${current}: ${(error as NodeJS.ErrnoException).code ?? 'cannot look it up'}` };
  }
}

type SearchPath = { ok: true; dirs: string[] } | { ok: false; reason: string };

/**
 * The PATH the program gets (`FIXED_PATH` unless the caller set one): a script may run anything by
 * name from it, so each dir counts like the program's, and none may be writable by group or others
 * (sticky or not: anyone could add a name to it). A dir that is not there passes when nobody else can
 * create it.
 */
function checkSearchPath(value: string, trust: Trust): SearchPath {
  const dirs = value.split(':');
  for (const dir of dirs) {
    if (!path.isAbsolute(dir)) return { ok: false, reason: `its PATH entry "${dir}" is not an absolute dir: it would look programs up where it runs` };
    const found = lookUp(dir, trust);
    if (!found.ok) return { ok: false, reason: `its PATH dir ${found.reason}` };
    if (found.found && found.stat.isDirectory() && (found.stat.mode & 0o022) !== 0) {
      return { ok: false, reason: `its PATH dir ${found.real} is writable by ${writableBy(found.stat.mode)} (mode ${octal(found.stat.mode)}): anyone who can write it can put a program on its PATH` };
    }
  }
  return { ok: true, dirs };
}

type Shebang = { script: false } | { script: true; interpreter: string; arg?: string } | { script: true; unreadable: string };

/**
 * A file's `#!` line as Linux's binfmt_script reads it: at most the first 256 bytes; the interpreter
 * ends at a space, tab or NUL, and the rest of the line (spaces and tabs trimmed) is one argument.
 * A line the kernel would not run (no interpreter, or one cut off by the 256 bytes) is `unreadable`.
 */
function parseShebang(head: Buffer): Shebang {
  if (head.length < 2 || head[0] !== 0x23 || head[1] !== 0x21) return { script: false };
  // the kernel's buffer: zero-filled past the file's end, its last byte never part of the line
  const buf = Buffer.alloc(SHEBANG_BYTES);
  head.copy(buf, 0, 0, SHEBANG_BYTES);
  const bufEnd = SHEBANG_BYTES - 1;
  const spaceTab = (at: number): boolean => buf[at] === 0x20 || buf[at] === 0x09;
  const terminator = (at: number): boolean => spaceTab(at) || buf[at] === 0x00;
  const skipSpaceTab = (from: number, to: number): number => {
    while (from < to && spaceTab(from)) from++;
    return from;
  };
  let end = buf.indexOf(0x0a);
  if (end < 0) {
    // no newline: the kernel runs it only if the interpreter's name ends within the buffer
    const name = skipSpaceTab(2, bufEnd);
    let stop = name;
    while (stop < bufEnd && !terminator(stop)) stop++;
    if (name === bufEnd || stop === bufEnd) return { script: true, unreadable: 'its #! line is longer than the kernel reads (256 bytes)' };
    end = bufEnd;
  }
  while (end > 2 && spaceTab(end - 1)) end--;
  const start = skipSpaceTab(2, end);
  let stop = start;
  while (stop < end && !terminator(stop)) stop++;
  if (stop === start) return { script: true, unreadable: 'its #! line names no interpreter' };
  const interpreter = buf.subarray(start, stop).toString('latin1');
  if (stop === end || buf[stop] === 0x00) return { script: true, interpreter };
  const argStart = skipSpaceTab(stop, end);
  let argEnd = buf.indexOf(0x00, argStart);
  if (argEnd < 0 || argEnd > end) argEnd = end;
  return argStart < argEnd ? { script: true, interpreter, arg: buf.subarray(argStart, argEnd).toString('latin1') } : { script: true, interpreter };
}

/** The `#!` line of a file the chain check passed: opened without following a link, never a FIFO. */
function readShebang(real: string): Shebang {
  let fd: number;
  try {
    fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (error) {
    return { script: true, unreadable: `its first line cannot be read (${(error as NodeJS.ErrnoException).code ?? 'cannot open'})` };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return { script: true, unreadable: 'it is no longer a regular file' };
    const head = Buffer.alloc(SHEBANG_BYTES);
    const length = fs.readSync(fd, head, 0, SHEBANG_BYTES, 0);
    return parseShebang(head.subarray(0, length));
  } catch (error) {
    return { script: true, unreadable: `its first line cannot be read (${(error as NodeJS.ErrnoException).code ?? 'cannot read'})` };
  } finally {
    fs.closeSync(fd);
  }
}

/** A file the kernel resolves by name when it execs: looked up as it will be, then checked like the program. */
function checkNamedProgram(written: string, trust: Trust): ChainResult {
  const found = lookUp(written, trust);
  if (!found.ok) return found;
  if (!found.found) return { ok: false, reason: `${written}: ENOENT` };
  const checked = checkChain(found.real, trust, 'program');
  if (!checked.ok) return checked;
  const shebang = readShebang(checked.real);
  // the kernel follows a few levels of `#!`; one is all that is checked, so one is all that runs
  if (shebang.script) return { ok: false, reason: `${checked.real} is itself a script: an interpreter that is a script is not run` };
  return checked;
}

/** `env`'s one argument from a `#!/usr/bin/env X` line: the program it runs, found as env's execvp will. */
function checkEnvTarget(name: string | undefined, dirs: string[], trust: Trust): ChainResult {
  // env reads `-…` as options (`-S` splits and may name anything) and `A=B` as a variable
  if (name === undefined) return { ok: false, reason: '`#!…env` names no program' };
  if (name.startsWith('-') || name.includes('=')) return { ok: false, reason: `\`#!…env ${name}\`: env options and variables are not followed` };
  if (name.includes('/')) {
    if (!path.isAbsolute(name)) return { ok: false, reason: `\`#!…env ${name}\` names a relative path` };
    return checkNamedProgram(name, trust);
  }
  for (const dir of dirs) {
    const found = lookUp(path.posix.join(dir, name), trust);
    if (!found.ok) return found;
    // execvp goes on past what it cannot exec (EACCES)
    if (!found.found || !found.stat.isFile() || (found.stat.mode & 0o111) === 0) continue;
    return checkNamedProgram(path.posix.join(dir, name), trust);
  }
  return { ok: false, reason: `\`#!…env ${name}\`: ${name} is not on its PATH` };
}

/**
 * When `program` is a script: its interpreter, and for `#!…/env X` the X on `dirs` (the program's PATH),
 * add their owners to `trust` and pass the program's own checks, or it does not run.
 */
function checkInterpreter(program: string, dirs: string[], trust: Trust): { ok: true } | { ok: false; reason: string } {
  const shebang = readShebang(program);
  if (!shebang.script) return { ok: true };
  const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason: `${program} is a script, and ${reason}` });
  if ('unreadable' in shebang) return refuse(shebang.unreadable);
  const interpreter = checkNamedProgram(shebang.interpreter, trust);
  if (!interpreter.ok) return refuse(`its interpreter cannot run: ${interpreter.reason}`);
  // the name decides for a multi-call binary (busybox), the file for a link to coreutils' env
  const isEnv = path.posix.basename(shebang.interpreter) === 'env' || path.posix.basename(interpreter.real) === 'env';
  if (!isEnv) return { ok: true };
  const target = checkEnvTarget(shebang.arg, dirs, trust);
  return target.ok ? { ok: true } : refuse(`the program its env runs cannot run: ${target.reason}`);
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
  // what it runs by name: its PATH's dirs and its interpreter. Their owners join the program's, so the
  // uid is decided below exactly as for the program alone: root's script whose interpreter is alice's
  // runs as alice (the one user who controls what runs), never as root; two users refuse.
  const searchPath = checkSearchPath(request.env?.PATH ?? FIXED_PATH, trust);
  if (!searchPath.ok) return searchPath;
  const interpreter = checkInterpreter(program.real, searchPath.dirs, trust);
  if (!interpreter.ok) return interpreter;
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
