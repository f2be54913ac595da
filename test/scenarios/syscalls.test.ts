// Read-only and lock-free at the syscall level: every command but --fix runs under strace while a gateway
// (a real sqlite3 process) holds an EXCLUSIVE lock on a WAL database in the state dir. The trace must show
// no lock taken (fcntl F_SETLK*, flock), nothing opened for writing or created, removed, renamed or re-moded
// in the machine outside its temp dir and the --out file, and no FIFO, socket or device node opened. The
// gateway then commits as if nothing happened.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';
import { cleanupMachines, expectNoLeak, machineFrom, type Machine } from './run.js';

afterAll(cleanupMachines);

// strace logs: outside the scanned trees, in a dir of this run's own (never a fixed name in the shared /tmp)
let logDir: string | undefined;
const logFile = (name: string): string => path.join((logDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-strace-'))), name);
afterAll(() => {
  if (logDir) fs.rmSync(logDir, { recursive: true, force: true });
});

// CI installs both (.ci/run), so there a missing tool fails the test; elsewhere it says why it does not run.
// A sandbox that forbids ptrace (some container seccomp profiles) cannot trace at all: that skips everywhere.
const tools = hasTool('strace') && hasTool('sqlite3');
const ptraceRefused = tools && spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status !== 0;
if (!tools && !process.env.CI) console.warn('syscalls.test.ts skipped: needs strace and sqlite3 (apt-get install strace sqlite3)');
if (ptraceRefused) console.warn('syscalls.test.ts skipped: strace cannot trace here (ptrace refused by the sandbox)');

// every call that can open, change or lock a file; -y names each fd (and AT_FDCWD) by its path, -xx prints
// every string as \xNN bytes, so non-UTF-8 and escaped names decode exactly
const TRACED =
  'trace=open,openat,openat2,creat,fcntl,flock,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,chmod,fchmod,fchmodat,chown,fchown,lchown,fchownat,' +
  'utime,utimes,futimesat,utimensat,truncate,ftruncate,symlink,symlinkat,link,linkat,mknod,mknodat,setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr';
const STRACE = ['-f', '-qq', '-y', '-xx', '-s', '8192', '-e', TRACED];
const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
const LOCK_COMMANDS = /F_SETLKW?|F_OFD_SETLKW?|F_SETLEASE/;
const OPENS = /^(open|openat|openat2|creat)$/;
const READ_ONLY_CALLS = /^(open|openat|openat2|fcntl|flock)$/;

interface Call {
  name: string;
  args: string;
  /** every file the call names, as absolute host paths (latin1: the bytes one to one) */
  paths: string[];
}

const decode = (hex: string): string => Buffer.from(hex.replace(/\\x/g, ''), 'hex').toString('latin1');

/**
 * The calls of an `strace -f -y -xx` log. A path argument relative to a dir fd or AT_FDCWD is joined to the
 * path -y shows for it; a bare fd (fchmod(3</path>)) names its path. Unfinished/resumed halves: the first half
 * carries all the arguments, the resumed half none (skipped).
 */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (!match) continue;
    const [, name, args] = match as unknown as [string, string, string];
    const paths: string[] = [];
    // dirfd<path>, "name" pairs, and lone "name" or fd<path> arguments, in order
    const token = /(?:(?:AT_FDCWD|\d+)<((?:\\x[0-9a-f]{2})*)>(?:, "((?:\\x[0-9a-f]{2})*)")?)|"((?:\\x[0-9a-f]{2})*)"/g;
    const head = args.split(') = ')[0]!;
    for (let found = token.exec(head); found; found = token.exec(head)) {
      const [, base, relative, lone] = found;
      if (lone !== undefined) paths.push(decode(lone));
      else if (relative === undefined) paths.push(decode(base!));
      else {
        const name = decode(relative);
        paths.push(name.startsWith('/') ? name : name === '' ? decode(base!) : `${decode(base!)}/${name}`);
      }
    }
    calls.push({ name, args, paths });
  }
  return calls;
}

/** What an open of `file` reached: the entry itself, or a symlink's target when the open followed links. */
function openedKind(file: string, followed: boolean): string {
  try {
    const bytes = Buffer.from(file, 'latin1');
    const stat = followed ? fs.statSync(bytes) : fs.lstatSync(bytes);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFIFO() ? 'fifo' : stat.isSocket() ? 'socket' : 'device';
  } catch {
    return 'absent';
  }
}

/**
 * Locks taken anywhere; inside the machine (bar its temp dir and `allowed`): opens for writing, any call
 * that changes a file (create, remove, rename, link, mode, owner, times, size, xattrs), and opens of FIFOs,
 * sockets or devices.
 */
function violationsOf(calls: Call[], machine: Pick<Machine, 'root' | 'path'>, allowed: string[]): string[] {
  const inMachine = (file: string): boolean => file.startsWith(`${machine.root}/`) && !file.startsWith(`${machine.path('tmp')}/`) && !allowed.includes(file);
  const violations: string[] = [];
  for (const call of calls) {
    if (call.name === 'flock' || (call.name === 'fcntl' && LOCK_COMMANDS.test(call.args))) violations.push(`lock: ${call.name} ${call.paths.join(' ')}`);
    // symlink(target, linkpath): the target is only text
    const named = call.name === 'symlink' || call.name === 'symlinkat' ? call.paths.slice(1) : call.paths;
    for (const file of named.filter(inMachine)) {
      if (OPENS.test(call.name)) {
        if (call.name === 'creat' || WRITE_FLAGS.test(call.args)) violations.push(`write-open: ${file}`);
        const kind = openedKind(file, !/O_NOFOLLOW/.test(call.args));
        if (kind === 'fifo' || kind === 'socket' || kind === 'device') violations.push(`opened a ${kind}: ${file}`);
      } else if (!READ_ONLY_CALLS.test(call.name)) {
        violations.push(`${call.name}: ${file}`);
      }
    }
  }
  return violations;
}

/** A sqlite3 shell holding an exclusive transaction open, as a running gateway does while it writes. */
async function gatewayHolding(database: string): Promise<{ shell: ChildProcessWithoutNullStreams; send: (sql: string, marker: string) => Promise<void>; output: () => string }> {
  const shell = spawn('sqlite3', [database]);
  let output = '';
  shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const send = (sql: string, marker: string): Promise<void> =>
    new Promise((resolve, reject) => {
      shell.stdin.write(`${sql}\n.print ${marker}\n`);
      const started = Date.now();
      const poll = setInterval(() => {
        if (output.includes(marker)) {
          clearInterval(poll);
          if (/error|database is locked|SQLITE_BUSY/i.test(output)) reject(new Error(`sqlite3: ${output}`));
          else resolve();
        } else if (Date.now() - started > 10_000) {
          clearInterval(poll);
          reject(new Error(`sqlite3 did not answer: ${output}`));
        }
      }, 20);
    });
  await send("PRAGMA journal_mode=WAL; PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE IF NOT EXISTS turns(text); BEGIN EXCLUSIVE; INSERT INTO turns VALUES('one');", 'HOLDING');
  return { shell, send, output: () => output };
}

function traced(machine: Machine, log: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}:${process.env.PATH}`, ...machine.env, TMPDIR: machine.path('tmp') };
  const run = spawnSync('strace', [...STRACE, '-o', log, process.execPath, CLI_PATH, ...args], { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.runIf((tools || process.env.CI) && !ptraceRefused)('system calls of a scan', () => {
  it('the checker itself catches a lock, writes by absolute and relative path, a FIFO with a non-UTF-8 name, a rename in, an fchmod and an unlink', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const state = path.join(machine.home, '.resonix');
    // a FIFO whose name holds a byte that is not UTF-8 and a newline
    const oddFifo = Buffer.concat([Buffer.from(`${state}/pipe-`), Buffer.from([0xff, 0x0a, 0x78])]);
    expect(spawnSync('bash', ['-c', "mkfifo $'pipe-\\xff\\nx'"], { cwd: state }).status).toBe(0);
    expect(fs.lstatSync(oddFifo).isFIFO()).toBe(true);
    fs.writeFileSync(machine.path('tmp/staged.txt'), 'x');
    const log = logFile('strace-self-test.log');
    const script = [
      `const fs = require('node:fs');`,
      `fs.closeSync(fs.openSync(Buffer.from(${JSON.stringify(oddFifo.toString('base64'))}, 'base64'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));`,
      `fs.writeFileSync(${JSON.stringify(path.join(state, 'new.txt'))}, 'x');`,
      `process.chdir(${JSON.stringify(path.join(state, 'agents'))}); fs.writeFileSync('relative.txt', 'x');`,
      `fs.renameSync(${JSON.stringify(machine.path('tmp/staged.txt'))}, ${JSON.stringify(path.join(state, 'moved-in.txt'))});`,
      `const fd = fs.openSync(${JSON.stringify(path.join(state, 'resonix.json'))}, 'r'); fs.fchmodSync(fd, 0o644); fs.closeSync(fd);`,
      `fs.unlinkSync(${JSON.stringify(path.join(state, 'update-check.json'))});`,
      `require('node:child_process').spawnSync('flock', [${JSON.stringify(path.join(state, 'cron/jobs.json'))}, 'true']);`,
    ].join('\n');
    const run = spawnSync('strace', [...STRACE, '-o', log, process.execPath, '-e', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const found = violationsOf(parseTrace(fs.readFileSync(log, 'utf8')), machine, []).join('\n');
    expect(found).toContain(`opened a fifo: ${oddFifo.toString('latin1')}`);
    expect(found).toMatch(/write-open: .*\/\.resonix\/new\.txt/);
    expect(found).toMatch(/write-open: .*\/\.resonix\/agents\/relative\.txt/);
    expect(found).toMatch(/rename\w*: .*\/\.resonix\/moved-in\.txt/);
    expect(found).toMatch(/fchmod: .*\/\.resonix\/resonix\.json/);
    expect(found).toMatch(/unlink\w*: .*\/update-check\.json/);
    expect(found).toMatch(/lock: flock .*jobs\.json/);
  });

  it('take no lock, write nothing outside the temp dir and --out, open no FIFO, socket or device, while a gateway holds its database', async () => {
    const machine = await machineFrom('healthy-sqlite-2026.9');
    const state = path.join(machine.home, '.resonix');
    const database = path.join(state, 'state', 'resonix.sqlite');
    fs.rmSync(database, { force: true });
    fs.rmSync(`${database}-wal`, { force: true });
    fs.rmSync(`${database}-shm`, { force: true });
    expect(spawnSync('mkfifo', [path.join(state, 'pipe')]).status).toBe(0);
    fs.symlinkSync('/dev/zero', path.join(state, 'zero'));
    fs.symlinkSync('pipe', path.join(state, 'to-pipe'));
    // a device node needs CAP_MKNOD (root in CI); without it the FIFO, socket and links still count
    spawnSync('mknod', [path.join(state, 'null-device'), 'c', '1', '3']);
    const server = net.createServer().listen(path.join(state, 'gateway.sock'));
    await new Promise((resolve) => server.once('listening', resolve));
    const gateway = await gatewayHolding(database);
    // the lock is real: another SQLite reader is refused while the gateway holds it
    expect(spawnSync('sqlite3', [database, 'SELECT count(*) FROM turns;'], { encoding: 'utf8' }).stderr).toMatch(/locked|busy/i);
    const out = machine.path('tmp/old.manifest.json');
    const archive = machine.path('tmp/backup.tgz');
    spawnSync('tar', ['czf', archive, '-C', machine.home, '.resonix']);
    expect(fs.statSync(archive).size).toBeGreaterThan(1000);
    const commands: { args: string[]; writes: string[] }[] = [
      { args: ['verify', '--home', machine.home, '--format', 'json'], writes: [] },
      { args: ['audit', '--home', machine.home, '--format', 'sarif'], writes: [] },
      { args: ['snapshot', '--home', machine.home, '--out', out], writes: [out] },
      { args: ['verify', '--home', machine.home, '--against', out, '--format', 'json'], writes: [] },
      { args: ['image', machine.root, '--format', 'json'], writes: [] },
      { args: ['inspect', archive, '--format', 'json'], writes: [] },
      { args: ['verify', '--home', machine.home, '--against', archive, '--format', 'json'], writes: [] },
    ];
    try {
      for (const [index, command] of commands.entries()) {
        const log = logFile(`strace-${index}.log`);
        const run = traced(machine, log, command.args);
        const label = command.args.slice(0, 2).join(' ');
        expect(run.status, `${label}: ${run.stderr}`).toBeLessThan(2);
        expectNoLeak(run.stdout + run.stderr, machine);
        const calls = parseTrace(fs.readFileSync(log, 'utf8'));
        // the trace saw the scan itself: the state dir's config (or the archive) was opened
        const read = command.args[0] === 'inspect' ? archive : path.join(state, 'resonix.json');
        expect(calls.some((call) => OPENS.test(call.name) && call.paths.includes(read)), `${label} opened ${read}`).toBe(true);
        const violations = violationsOf(calls, machine, command.writes);
        expect(violations, label).toEqual([]);
      }
      // the gateway never noticed: its transaction commits and the data is there
      await gateway.send("INSERT INTO turns VALUES('two'); COMMIT; SELECT 'rows=' || count(*) FROM turns;", 'DONE');
      expect(gateway.output()).toContain('rows=2');
    } finally {
      gateway.shell.stdin.end();
      gateway.shell.kill();
      server.close();
    }
  });
});
