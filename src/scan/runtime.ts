// Which Resonix build and which Node.js will run the gateway: calendar versions, the service's
// binaries (resolved inside the scanned root), the `node` / `resonix` on PATH (live only), and a
// bounded loopback port probe. Nothing from an image is ever executed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import semver, { type SemVer } from 'semver';
import { ENCRYPTION_TOOLS, type Runtime } from '../model.js';
import { hostPath } from './install.js';
import { resolveLink } from './links.js';
import { readTextCapped } from './read.js';

const EXEC_TIMEOUT_MS = 5000;
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 256 * 1024;
const MAX_PROBED_PORTS = 64;

// ---------------------------------------------------------------------------------------------
// Calendar versions

const CALVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/**
 * A Resonix calendar version (`2026.5.30`, `2026.5.30-beta.1`, `v2026.05.30`) as a SemVer, or
 * undefined. Leading zeros are dropped; a pre-release sorts before its release. For a version inside
 * other text (`resonix 2026.9.6 (abc123)`) use extractResonixVersion.
 */
export function parseResonixVersion(v: string): SemVer | undefined {
  const text = v.trim().replace(/^[vV]/, '');
  const match = CALVER.exec(text);
  if (match) {
    const [, major, minor, patch, pre, build] = match;
    const normalised = `${Number(major)}.${Number(minor)}.${Number(patch)}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`;
    const parsed = semver.parse(normalised);
    if (parsed) return parsed;
  }
  return undefined;
}

/** Orders calendar versions (`2026.10.1 > 2026.9.6`, `2026.5.30-beta.1 < 2026.5.30`); unparseable ones sort first. */
export function calverCompare(a: string, b: string): number {
  const left = parseResonixVersion(a);
  const right = parseResonixVersion(b);
  if (left && right) return semver.compare(left, right);
  if (left) return 1;
  if (right) return -1;
  return 0;
}

/** The first calendar version in a command's output (`resonix --version`). */
export function extractResonixVersion(output: string): string | undefined {
  for (const line of output.split(/\r?\n/)) {
    const match = /(?:^|[^0-9A-Za-z.])v?(\d{4}\.\d{1,2}\.\d{1,2}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?)/.exec(line);
    const parsed = match?.[1] ? parseResonixVersion(match[1]) : undefined;
    if (parsed) return parsed.version;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Paths inside the scanned root

/**
 * Resolves every symlink of an absolute machine path inside `root` (absolute link targets are
 * re-rooted, `..` never leaves the root), like realpath(3) in a chroot. Undefined when the path
 * does not exist, is not absolute, or loops.
 */
export function resolveInRoot(root: string, machinePath: string): string | undefined {
  if (!machinePath.startsWith('/')) return undefined;
  if (path.resolve(root) === '/') {
    try {
      return fs.realpathSync(machinePath);
    } catch {
      return undefined;
    }
  }
  // one resolver for the whole scan (links.ts): component by component, never leaving the root
  const resolved = resolveLink(root, machinePath);
  return resolved.ok ? resolved.target : undefined;
}

function statInRoot(root: string, machinePath: string): { real: string; stat: fs.Stats } | undefined {
  const real = resolveInRoot(root, machinePath);
  if (real === undefined) return undefined;
  try {
    return { real, stat: fs.statSync(hostPath(root, real)) };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The Resonix package

export interface ResonixPackage {
  /** machine path of the package.json */
  path: string;
  version?: string;
  nodeRange?: string;
  schemaVersions?: { state?: number; agent?: number };
}

function readJsonInRoot(root: string, machinePath: string): unknown {
  const read = readTextCapped(hostPath(root, machinePath), MAX_PACKAGE_JSON_BYTES);
  if (!read.ok) return undefined;
  try {
    return JSON.parse(read.text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function schemaNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Walks up from a file (machine path, symlinks resolved inside root) to the nearest package.json
 * whose name is `resonix`, and reads its version, engines.node and resonix.schemaVersions.
 */
export function findResonixPackage(root: string, fromFile: string): ResonixPackage | undefined {
  const real = resolveInRoot(root, fromFile);
  if (real === undefined) return undefined;
  let dir = path.posix.dirname(real);
  for (;;) {
    const candidate = path.posix.join(dir, 'package.json');
    const parsed = readJsonInRoot(root, candidate);
    if (isRecord(parsed) && parsed.name === 'resonix') {
      const found: ResonixPackage = { path: candidate };
      if (typeof parsed.version === 'string' && parsed.version.trim() !== '') found.version = parsed.version.trim();
      const engines = parsed.engines;
      if (isRecord(engines) && typeof engines.node === 'string' && engines.node.trim() !== '') found.nodeRange = engines.node.trim();
      const resonix = parsed.resonix;
      const schemas = isRecord(resonix) ? resonix.schemaVersions : undefined;
      if (isRecord(schemas)) {
        const state = schemaNumber(schemas.state);
        const agent = schemaNumber(schemas.agent);
        if (state !== undefined || agent !== undefined) {
          found.schemaVersions = { ...(state !== undefined ? { state } : {}), ...(agent !== undefined ? { agent } : {}) };
        }
      }
      return found;
    }
    if (dir === '/') return undefined;
    dir = path.posix.dirname(dir);
  }
}

// ---------------------------------------------------------------------------------------------
// Node.js versions

const NODE_NAME = /^(node|nodejs)(\d+(\.\d+)*)?(\.exe)?$/i;
const BUN_NAME = /^bunx?(\.exe)?$/i;

/** A binary name that is Node.js (`node`, `nodejs`, `node22`). */
export function looksLikeNode(binary: string): boolean {
  return NODE_NAME.test(path.posix.basename(binary));
}

/** A binary name that is Bun, which Resonix does not support for the gateway. */
export function looksLikeBun(binary: string): boolean {
  return BUN_NAME.test(path.posix.basename(binary));
}

/**
 * The Node.js version a binary's path names: `/v22.19.0/` (nvm, fnm), `/22.19.0/` (volta, asdf,
 * mise, n, Homebrew Cellar), `/node-v24.1.0-linux-x64/` (nodejs.org tarball) give a full version;
 * `node@22` (Homebrew opt) only a major (`"22"`).
 */
export function nodeVersionFromPath(binaryPath: string): string | undefined {
  const parts = binaryPath.split('/').filter((part) => part !== '');
  for (const part of parts) {
    const tarball = /^node-v(\d+\.\d+\.\d+)(?:-|$)/.exec(part);
    if (tarball?.[1]) return tarball[1];
  }
  if (/node/i.test(binaryPath)) {
    for (const part of parts) {
      const full = /^v?(\d+\.\d+\.\d+)(?:_\d+)?$/.exec(part);
      if (full?.[1]) return full[1];
    }
  }
  for (const part of parts) {
    const major = /^node@(\d+)$/.exec(part);
    if (major?.[1]) return major[1];
  }
  return undefined;
}

/** NODE_MAJOR/MINOR/PATCH_VERSION of `<prefix>/include/node/node_version.h` (binary at `<prefix>/bin/node`). */
export function nodeVersionFromHeader(root: string, binaryPath: string): string | undefined {
  const prefix = path.posix.dirname(path.posix.dirname(binaryPath));
  const header = resolveInRoot(root, path.posix.join(prefix, 'include/node/node_version.h'));
  if (header === undefined) return undefined;
  const read = readTextCapped(hostPath(root, header), MAX_HEADER_BYTES);
  if (!read.ok) return undefined;
  const field = (name: string): string | undefined => new RegExp(`^\\s*#\\s*define\\s+NODE_${name}_VERSION\\s+(\\d+)\\s*$`, 'm').exec(read.text)?.[1];
  const major = field('MAJOR');
  const minor = field('MINOR');
  const patch = field('PATCH');
  return major !== undefined && minor !== undefined && patch !== undefined ? `${Number(major)}.${Number(minor)}.${Number(patch)}` : undefined;
}

/** `<binary> --version` (no shell, 5 s timeout), when its output is a Node.js version. */
function runNodeVersion(binary: string): string | undefined {
  try {
    const output = execFileSync(binary, ['--version'], {
      encoding: 'utf8',
      timeout: EXEC_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: {},
      maxBuffer: 64 * 1024,
      windowsHide: true,
    });
    const match = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(output.trim());
    return match?.[1];
  } catch {
    return undefined;
  }
}

function inferNodeVersion(root: string, given: string, real: string | undefined): string | undefined {
  const candidates = real !== undefined && real !== given ? [real, given] : [given];
  const full = (version: string | undefined): boolean => version !== undefined && /^\d+\.\d+\.\d+/.test(version);
  for (const candidate of candidates) {
    const version = nodeVersionFromPath(candidate);
    if (full(version)) return version;
  }
  for (const candidate of candidates) {
    const version = nodeVersionFromHeader(root, candidate);
    if (version !== undefined) return version;
  }
  for (const candidate of candidates) {
    const version = nodeVersionFromPath(candidate);
    if (version !== undefined) return version;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// A service unit's runtime

export interface ServiceRuntimeInput {
  execStart: string[];
  workingDirectory?: string;
  /** `optional` (systemd `EnvironmentFile=-…`) files are never reported missing */
  environmentFiles: { path: string; exists: boolean; optional?: boolean }[];
}

export interface ServiceRuntime {
  missingPaths: string[];
  nodeVersion?: string;
  resonixVersion?: string;
  nodeRange?: string;
  schemaVersions?: { state?: number; agent?: number };
}

const SCRIPT = /\.(js|mjs|cjs)$/;
const NODE_OPTIONS_WITH_VALUE = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);

/** The word `/usr/bin/env [-opts] [VAR=val…] node …` runs. */
function envTarget(argv: string[]): string | undefined {
  for (const word of argv.slice(1)) {
    if (word.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    return word;
  }
  return undefined;
}

/**
 * What a service's ExecStart runs, checked inside `root`: the paths that do not exist, the Node.js
 * version of its binary, and the Resonix package of its entry script. In live mode the node binary
 * is asked (`--version`, no shell, 5 s); in image mode nothing is executed and the version comes
 * from the binary's path or `<prefix>/include/node/node_version.h`.
 */
export function inspectServiceRuntime(root: string, unit: ServiceRuntimeInput, opts: { live: boolean }): ServiceRuntime {
  const missing: string[] = [];
  const result: ServiceRuntime = { missingPaths: missing };
  const argv = unit.execStart;
  const first = argv[0];
  const checkExists = (machinePath: string | undefined): string | undefined => {
    if (machinePath === undefined || !machinePath.startsWith('/')) return undefined;
    const found = statInRoot(root, machinePath);
    if (!found && !missing.includes(machinePath)) missing.push(machinePath);
    return found?.real;
  };

  let nodeBinary: string | undefined;
  let nodeReal: string | undefined;
  if (first !== undefined) {
    const firstReal = checkExists(first);
    if (path.posix.basename(first) === 'env') nodeBinary = envTarget(argv);
    else if (!SCRIPT.test(first) && !looksLikeBun(first) && (looksLikeNode(first) || (firstReal !== undefined && looksLikeNode(firstReal)))) {
      nodeBinary = first;
      nodeReal = firstReal;
    }
    if (nodeBinary !== undefined && nodeBinary !== first) nodeReal = checkExists(nodeBinary);
  }

  // the entry script: the first script argument (not a --require/--import value), else a `resonix` launcher run directly
  const workingDirectory = unit.workingDirectory;
  let entry: string | undefined;
  for (let index = 1; index < argv.length; index++) {
    const word = argv[index]!;
    if (NODE_OPTIONS_WITH_VALUE.has(word)) {
      index += 1;
      continue;
    }
    if (SCRIPT.test(word)) {
      entry = word;
      break;
    }
  }
  if (entry !== undefined && !entry.startsWith('/') && workingDirectory?.startsWith('/')) entry = path.posix.join(workingDirectory, entry);
  let entryReal: string | undefined;
  if (entry !== undefined) entryReal = checkExists(entry);
  else if (first !== undefined && (SCRIPT.test(first) || path.posix.basename(first) === 'resonix')) entryReal = resolveInRoot(root, first);

  if (workingDirectory !== undefined) checkExists(workingDirectory);
  for (const file of unit.environmentFiles) {
    if (file.optional) continue;
    checkExists(file.path);
  }

  if (entryReal !== undefined) {
    const pkg = findResonixPackage(root, entryReal);
    if (pkg?.version !== undefined) result.resonixVersion = pkg.version;
    if (pkg?.nodeRange !== undefined) result.nodeRange = pkg.nodeRange;
    if (pkg?.schemaVersions !== undefined) result.schemaVersions = pkg.schemaVersions;
  }

  if (nodeBinary !== undefined && nodeBinary.startsWith('/')) {
    let version: string | undefined;
    if (opts.live && path.resolve(root) === '/' && nodeReal !== undefined) version = runNodeVersion(nodeBinary);
    version ??= inferNodeVersion(root, nodeBinary, nodeReal);
    if (version !== undefined) result.nodeVersion = version;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// `node` and `resonix` on PATH (live only)

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

function definedEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((pair): pair is [string, string] => pair[1] !== undefined));
}

/**
 * The `node` and `resonix` this user's shell would run (live scans only): node's version, and the
 * Resonix version, engines.node and schema versions from the package.json of the real `resonix`
 * script, else from `resonix --version`. A `--resonix-version` flag wins.
 */
export function inspectPathRuntime(env: Record<string, string | undefined>, opts: { resonixVersionFlag?: string } = {}): Runtime {
  const runtime: Runtime = {};
  const nodePath = whichOnPath('node', env.PATH);
  if (nodePath !== undefined) {
    runtime.nodePath = nodePath;
    const real = resolveInRoot('/', nodePath);
    const version = runNodeVersion(nodePath) ?? inferNodeVersion('/', nodePath, real);
    if (version !== undefined) runtime.nodeVersion = version;
  }

  let pkg: ResonixPackage | undefined;
  const resonixPath = whichOnPath('resonix', env.PATH);
  if (resonixPath !== undefined) {
    const real = resolveInRoot('/', resonixPath);
    pkg = real !== undefined ? findResonixPackage('/', real) : undefined;
    let version = pkg?.version;
    if (version === undefined) {
      try {
        const output = execFileSync(resonixPath, ['--version'], {
          encoding: 'utf8',
          timeout: EXEC_TIMEOUT_MS,
          stdio: ['ignore', 'pipe', 'ignore'],
          env: definedEnv(env),
          maxBuffer: 256 * 1024,
          windowsHide: true,
        });
        version = extractResonixVersion(output);
      } catch {
        version = undefined;
      }
    }
    if (version !== undefined) {
      runtime.resonixVersion = version;
      runtime.resonixSource = 'path';
    } else runtime.resonixSource = 'unknown';
  }

  const flag = opts.resonixVersionFlag?.trim();
  if (flag) {
    const parsed = parseResonixVersion(flag);
    const flagVersion = parsed?.version ?? flag;
    // the package's range and schemas describe another build than the one the flag names
    if (pkg && !(pkg.version !== undefined && parsed && calverCompare(pkg.version, flagVersion) === 0)) pkg = undefined;
    runtime.resonixVersion = flagVersion;
    runtime.resonixSource = 'flag';
  }
  if (pkg?.nodeRange !== undefined) runtime.nodeRange = pkg.nodeRange;
  if (pkg?.schemaVersions !== undefined) runtime.schemaVersions = pkg.schemaVersions;
  // what the audit plan may encrypt the archives with: found by stat on PATH, never run
  const tools = ENCRYPTION_TOOLS.filter((tool) => whichOnPath(tool, env.PATH) !== undefined);
  if (tools.length > 0) runtime.encryptionTools = tools;
  return runtime;
}

// ---------------------------------------------------------------------------------------------
// Loopback ports

function probePort(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (accepted: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** The ports (of at most 64 distinct valid ones) that accept a TCP connection on 127.0.0.1 within `timeoutMs`. */
export async function probeLoopbackPorts(ports: number[], timeoutMs = 300): Promise<number[]> {
  const unique = [...new Set(ports)].filter((port) => Number.isInteger(port) && port > 0 && port < 65536).slice(0, MAX_PROBED_PORTS);
  const bounded = Math.max(1, Math.min(timeoutMs, 10_000));
  const accepted = await Promise.all(unique.map((port) => probePort(port, bounded)));
  return unique.filter((_, index) => accepted[index]);
}
