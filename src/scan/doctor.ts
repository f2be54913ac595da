// `--with-doctor`: runs the installed `resonix doctor --lint --json` for the install this scan checked, as the
// gateway user (never as root), through runAsOwner, and returns doctor's findings or why there are none.
// Which resonix: the one the Resonix version is learned from — the `resonix` on PATH, else the entry script
// of the service unit that serves the install (`<node> <entry> doctor --lint --json`). Live scans only:
// doctor's lint may write into the state dir (2026.5.28 wrote agents/main/agent/models.json), so this is
// never part of a read-only scan and never of an image.
import fs from 'node:fs';
import path from 'node:path';
import { parseDoctorLintOutput, type DoctorLintReport } from '../doctor-lint-shape.js';
import { isStrictlyInside } from '../knowledge/paths.js';
import { DOCTOR_PROBLEM_CODE, type Home, type Install, type Machine, type ScanProblem, type ServiceUnit } from '../model.js';
import { readHead } from './read.js';
import { FIXED_PATH, MAX_TIMEOUT_MS, runAsOwner, whichOnPath } from './run-as-owner.js';
import { SCRIPT, entryScriptOf, looksLikeBun, looksLikeNode } from './runtime.js';

export const DOCTOR_ARGS = ['doctor', '--lint', '--json'] as const;
export const DOCTOR_TIMEOUT_MS = 60_000;
export { MAX_TIMEOUT_MS as DOCTOR_MAX_TIMEOUT_MS };
/** doctor 2026.9.6 prints ~11 KiB with every check on; past this it is killed and reported */
export const DOCTOR_MAX_OUTPUT_BYTES = 1024 * 1024;

export interface DoctorOptions {
  /** the tool's own environment: its PATH is where `resonix` is looked for */
  env: Record<string, string | undefined>;
  timeoutMs?: number;
}

export type DoctorOutcome =
  | { ok: true; lint: DoctorLintReport; command: string; uid: number; install: Install }
  | { ok: false; reason: string; command?: string };

interface Command {
  binary: string;
  args: string[];
  /** files the program reads and trusts (the entry script) */
  inputs: string[];
  /** the dir of the node that runs it: first on PATH, so what it starts finds the same node */
  nodeDir?: string;
}


function realFile(file: string): string | undefined {
  try {
    const real = fs.realpathSync(file);
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** A `#!…node` script (what npm links as `resonix`): it needs a node to run it, since doctor's PATH is fixed. */
function isNodeScript(file: string): boolean {
  try {
    const head = readHead(file, 256).toString('latin1');
    return head.startsWith('#!') && /\bnode(js)?\b/.test(head.split('\n')[0] ?? '');
  } catch {
    return false;
  }
}

/** node beside a `resonix` link (nvm, a global npm prefix's bin), else on PATH. */
function nodeFor(linkDir: string | undefined, env: DoctorOptions['env']): string | undefined {
  const beside = linkDir !== undefined ? realFile(path.join(linkDir, 'node')) : undefined;
  if (beside !== undefined) return beside;
  const onPath = whichOnPath('node', env.PATH);
  return onPath !== undefined ? realFile(onPath) : undefined;
}

function scriptCommand(script: string, linkDir: string | undefined, env: DoctorOptions['env']): Command | { reason: string } {
  const node = nodeFor(linkDir, env);
  if (node === undefined) return { reason: `${script} is a Node.js script and no node was found beside it or on PATH` };
  return { binary: node, args: [script, ...DOCTOR_ARGS], inputs: [script], nodeDir: path.dirname(node) };
}

/** The `resonix` on the tool's PATH, as inspectPathRuntime finds it. */
function pathCommand(env: DoctorOptions['env']): Command | { reason: string } | undefined {
  const found = whichOnPath('resonix', env.PATH);
  if (found === undefined) return undefined;
  const real = realFile(found);
  if (real === undefined) return { reason: `${found} cannot be resolved` };
  if (isNodeScript(real)) return scriptCommand(real, path.dirname(found), env);
  return { binary: real, args: [...DOCTOR_ARGS], inputs: [] };
}

/** What a unit's ExecStart runs: `<node> [options] <entry.js> gateway …`, or a `resonix` launcher run directly. */
function serviceCommand(unit: ServiceUnit, env: DoctorOptions['env']): Command | { reason: string } | undefined {
  const argv = unit.execStart;
  const first = argv[0];
  if (first === undefined || !first.startsWith('/')) return undefined;
  if (path.posix.basename(first) === 'resonix' || SCRIPT.test(first)) {
    const real = realFile(first);
    if (real === undefined) return { reason: `${first} (the service's ExecStart) is not there` };
    return isNodeScript(real) || SCRIPT.test(real) ? scriptCommand(real, path.dirname(first), env) : { binary: real, args: [...DOCTOR_ARGS], inputs: [] };
  }
  const firstReal = realFile(first);
  if (looksLikeBun(first) || !(looksLikeNode(first) || (firstReal !== undefined && looksLikeNode(firstReal)))) return undefined;
  const entry = entryScriptOf(argv, unit.workingDirectory);
  if (entry === undefined || !entry.startsWith('/')) return { reason: `${unit.path} names no entry script an absolute path reaches` };
  const entryReal = realFile(entry);
  if (firstReal === undefined) return { reason: `${first} (the service's node) is not there` };
  if (entryReal === undefined) return { reason: `${entry} (the service's entry script) is not there` };
  return { binary: firstReal, args: [entryReal, ...DOCTOR_ARGS], inputs: [entryReal], nodeDir: path.dirname(firstReal) };
}

/** PATH first (what the user's `resonix doctor` runs), else the unit that serves the install (enabled first). */
function findCommand(home: Home, install: Install, env: DoctorOptions['env']): Command | { reason: string } {
  const onPath = pathCommand(env);
  if (onPath !== undefined) return onPath;
  const units = home.services.filter((unit) => unit.resolution.stateDir === install.stateDir).sort((a, b) => Number(b.enabled) - Number(a.enabled));
  let reason: string | undefined;
  for (const unit of units) {
    const command = serviceCommand(unit, env);
    if (command === undefined) continue;
    if ('binary' in command) return command;
    reason ??= command.reason;
  }
  return { reason: reason ?? `no resonix on PATH, and no service unit of ${install.stateDir} names a Resonix entry script` };
}

function isDir(file: string): boolean {
  try {
    return fs.lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.lstatSync(file).isFile();
  } catch {
    return false;
  }
}

/** The variables Resonix resolves this install from (reference §1), and nothing of the tool's own environment. */
function doctorEnv(home: Home, install: Install, command: Command): Record<string, string> {
  const resolution = home.resolution;
  const env: Record<string, string> = { HOME: home.path, NO_COLOR: '1', PATH: command.nodeDir ? `${command.nodeDir}:${FIXED_PATH}` : FIXED_PATH };
  const name = home.gatewayUser.name;
  if (name !== undefined) Object.assign(env, { USER: name, LOGNAME: name });
  if (resolution.resonixHome !== undefined) env.RESONIX_HOME = resolution.resonixHome;
  if (resolution.stateDirSource !== 'default') env.RESONIX_STATE_DIR = install.stateDir;
  if (resolution.configPathSource !== 'default') env.RESONIX_CONFIG_PATH = resolution.configPath;
  if (resolution.profile !== undefined) env.RESONIX_PROFILE = resolution.profile;
  return env;
}

function firstLine(buffer: Buffer): string {
  const line = buffer.toString('utf8').split(/\r?\n/).map((item) => item.trim()).find((item) => item !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * Runs `resonix doctor --lint --json` for the install the CLI uses in the scanned home, as its gateway user.
 * Never throws: a refusal, a failure, a timeout, garbage or too much output is `{ ok: false, reason }`.
 */
export function runDoctorLint(machine: Machine, options: DoctorOptions): DoctorOutcome {
  if (machine.mode !== 'live') return { ok: false, reason: 'an image scan runs nothing from the image' };
  const home = machine.homes[0];
  const install = home?.installs.find((item) => item.active);
  if (home === undefined || install === undefined) return { ok: false, reason: 'no home and state dir to lint' };
  const user = home.gatewayUser;
  if (user.uid === 0) return { ok: false, reason: 'the gateway user is root, and doctor never runs as root here: run `resonix doctor --lint` yourself' };
  const found = findCommand(home, install, options.env);
  if (!('binary' in found)) return { ok: false, reason: found.reason };
  const command = [found.binary, ...found.args].join(' ');
  if (!isDir(home.path)) return { ok: false, reason: `the home ${home.path} is not a directory`, command };
  const inputs = [...found.inputs];
  if (isDir(install.stateDir)) inputs.push(install.stateDir);
  const configPath = home.resolution.configPath;
  if (isFile(configPath) && !isStrictlyInside(configPath, install.stateDir)) inputs.push(configPath);
  const timeoutMs = Math.max(1, Math.min(options.timeoutMs ?? DOCTOR_TIMEOUT_MS, MAX_TIMEOUT_MS));
  const result = runAsOwner({
    binary: found.binary,
    args: found.args,
    scanMode: 'live',
    as: { uid: user.uid, gid: user.gid },
    inputs,
    cwd: home.path,
    env: doctorEnv(home, install, found),
    timeoutMs,
    maxOutputBytes: DOCTOR_MAX_OUTPUT_BYTES,
  });
  if (!result.ran) return { ok: false, reason: `not run: ${result.reason}`, command };
  if (result.timedOut) return { ok: false, reason: `it did not finish within ${timeoutMs / 1000} s and was stopped (--doctor-timeout)`, command };
  if (result.truncated) return { ok: false, reason: `it printed more than ${DOCTOR_MAX_OUTPUT_BYTES / 1024} KiB and was stopped`, command };
  if (result.errorCode !== undefined) return { ok: false, reason: `it could not start (${result.errorCode})`, command };
  const stderr = firstLine(result.stderr);
  if (result.signal !== null) return { ok: false, reason: `it was killed by ${result.signal}`, command };
  // doctor's lint: 0 nothing at or above --severity-min, 1 findings at or above it, 2 failure before findings
  if (result.status !== 0 && result.status !== 1) return { ok: false, reason: `it exited with ${result.status}${stderr ? `: ${stderr}` : ''}`, command };
  const parsed = parseDoctorLintOutput(result.stdout.toString('utf8'));
  if (!parsed.ok) return { ok: false, reason: `it printed no lint report (${parsed.reason})${stderr ? `: ${stderr}` : ''}`, command };
  return { ok: true, lint: parsed.lint, command, uid: result.uid, install };
}

/** A failed run as one line of the report. */
export function doctorProblem(outcome: Extract<DoctorOutcome, { ok: false }>): ScanProblem {
  return { path: outcome.command ?? 'resonix doctor --lint --json', code: DOCTOR_PROBLEM_CODE, message: `resonix doctor --lint --json gave no findings: ${outcome.reason}` };
}
