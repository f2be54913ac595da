// Read-only and lock-free at the syscall level: every command but --fix runs under strace while a gateway
// (a real sqlite3 process) holds an EXCLUSIVE lock on a WAL database in the state dir. The trace must show
// no lock taken (fcntl F_SETLK*, flock), nothing opened for writing or created, removed, renamed or re-moded
// in the machine outside its temp dir and the --out file, and no FIFO, socket or device node opened. The
// gateway then commits as if nothing happened.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/scenario.js';
import { cleanupMachines, expectNoLeak, machineFrom, type Machine } from './run.js';

afterAll(cleanupMachines);

const hasTool = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
// CI installs both (.ci/run), so there a missing tool fails the test; elsewhere it says why it does not run.
// A sandbox that forbids ptrace (some container seccomp profiles) cannot trace at all: that skips everywhere.
const tools = hasTool('strace') && hasTool('sqlite3');
const ptraceRefused = tools && spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status !== 0;
if (!tools && !process.env.CI) console.warn('syscalls.test.ts skipped: needs strace and sqlite3 (apt-get install strace sqlite3)');
if (ptraceRefused) console.warn('syscalls.test.ts skipped: strace cannot trace here (ptrace refused by the sandbox)');

const TRACED = 'trace=open,openat,openat2,creat,fcntl,flock,unlink,unlinkat,rename,renameat,renameat2,mkdir,mkdirat,rmdir,chmod,fchmodat,chown,lchown,fchownat,utimensat,truncate,symlink,symlinkat,link,linkat,mknod,mknodat';
const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
const LOCK_COMMANDS = /F_SETLKW?|F_OFD_SETLKW?|F_SETLEASE/;

interface Call {
  name: string;
  path?: string;
  args: string;
}

/** The calls of an strace -f log (unfinished/resumed halves are joined by keeping the first half's arguments). */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    const match = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (!match) continue;
    const [, name, args] = match as unknown as [string, string, string];
    const quoted = /"((?:[^"\\]|\\.)*)"/.exec(args);
    calls.push({ name, args, ...(quoted ? { path: quoted[1]!.replace(/\\(.)/g, '$1') } : {}) });
  }
  return calls;
}

/** What an open of `file` reached: the entry itself, or a symlink's target when the open followed links. */
function openedKind(file: string, followed: boolean): string {
  try {
    const stat = followed ? fs.statSync(file) : fs.lstatSync(file);
    return stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : stat.isFIFO() ? 'fifo' : stat.isSocket() ? 'socket' : 'device';
  } catch {
    return 'absent';
  }
}

/** Locks taken anywhere; writes, creations, removals, renames, mode/owner/time changes and opens of FIFOs, sockets or devices inside the machine (bar its temp dir and `allowed`). */
function violationsOf(calls: Call[], machine: Pick<Machine, 'root' | 'path'>, allowed: string[]): string[] {
  const inMachine = (file: string | undefined): file is string =>
    file !== undefined && file.startsWith(`${machine.root}/`) && !file.startsWith(`${machine.path('tmp')}/`) && !allowed.includes(file);
  const violations: string[] = [];
  for (const call of calls) {
    if (call.name === 'flock' || (call.name === 'fcntl' && LOCK_COMMANDS.test(call.args))) violations.push(`lock: ${call.name}(${call.args}`);
    if (!inMachine(call.path)) continue;
    if (/^(open|openat|openat2|creat)$/.test(call.name)) {
      if (call.name === 'creat' || WRITE_FLAGS.test(call.args)) violations.push(`write-open: ${call.path}`);
      const kind = openedKind(call.path, !/O_NOFOLLOW/.test(call.args));
      if (kind === 'fifo' || kind === 'socket' || kind === 'device') violations.push(`opened a ${kind}: ${call.path}`);
    } else if (!/^(fcntl|flock)$/.test(call.name)) {
      violations.push(`${call.name}: ${call.path}`);
    }
  }
  return violations;
}

/** A sqlite3 shell holding an exclusive transaction open, as a running gateway does while it writes. */
async function gatewayHolding(database: string): Promise<{ shell: ChildProcessWithoutNullStreams; send: (sql: string, marker: string) => Promise<void> }> {
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
  return { shell, send };
}

function traced(machine: Machine, log: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { PATH: `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}:${process.env.PATH}`, ...machine.env, TMPDIR: machine.path('tmp') };
  const run = spawnSync('strace', ['-f', '-qq', '-s', '4096', '-e', TRACED, '-o', log, process.execPath, CLI_PATH, ...args], { env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe.runIf((tools || process.env.CI) && !ptraceRefused)('system calls of a scan', () => {
  it('the checker itself catches a lock, a write, a FIFO opened and a file removed', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const state = path.join(machine.home, '.resonix');
    expect(spawnSync('mkfifo', [path.join(state, 'pipe')]).status).toBe(0);
    const log = path.join(path.dirname(machine.root), 'strace-self-test.log');
    const script = [
      `const fs = require('node:fs');`,
      `fs.closeSync(fs.openSync(${JSON.stringify(path.join(state, 'pipe'))}, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));`,
      `fs.writeFileSync(${JSON.stringify(path.join(state, 'new.txt'))}, 'x');`,
      `fs.unlinkSync(${JSON.stringify(path.join(state, 'update-check.json'))});`,
      `require('node:child_process').spawnSync('flock', [${JSON.stringify(path.join(state, 'resonix.json'))}, 'true']);`,
    ].join('\n');
    expect(spawnSync('strace', ['-f', '-qq', '-s', '4096', '-e', TRACED, '-o', log, process.execPath, '-e', script]).status).toBe(0);
    const found = violationsOf(parseTrace(fs.readFileSync(log, 'utf8')), machine, []).join('\n');
    expect(found).toMatch(/opened a fifo: .*\/pipe/);
    expect(found).toMatch(/write-open: .*\/new\.txt/);
    expect(found).toMatch(/unlink.*: .*\/update-check\.json/);
    expect(found).toMatch(/lock: flock/);
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
        const log = path.join(path.dirname(machine.root), `strace-${index}.log`);
        const run = traced(machine, log, command.args);
        const label = command.args.slice(0, 2).join(' ');
        expect(run.status, `${label}: ${run.stderr}`).toBeLessThan(2);
        expectNoLeak(run.stdout + run.stderr, machine);
        const calls = parseTrace(fs.readFileSync(log, 'utf8'));
        expect(calls.length, label).toBeGreaterThan(50);
        const violations = violationsOf(calls, machine, command.writes);
        expect(violations, label).toEqual([]);
      }
      // the gateway never noticed: its transaction commits and the data is there
      await gateway.send("INSERT INTO turns VALUES('two'); COMMIT; SELECT count(*) FROM turns;", 'DONE');
    } finally {
      gateway.shell.stdin.end();
      gateway.shell.kill();
      server.close();
    }
  });
});
