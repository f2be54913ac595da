// Which Resonix build and which Node.js will run the gateway (knowledge/versions.ts parses the versions): the service's
// binaries (resolved inside the scanned root), the `node` / `resonix` on PATH (live only), and a
// bounded loopback port probe. Versions are read, not asked: the package.json beside the entry
// script, the version a node binary embeds, its path, node_version.h, the unit's
// RESONIX_SERVICE_VERSION. Only when none tells, a live scan asks the binary — through runAsOwner,
// as the user who controls it, never as root for someone else's file. Nothing from an image runs.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { calverCompare, extractResonixVersion, nodeVersionFromPath, parseResonixVersion } from '../knowledge/versions.js';
import { BUDGET_CODE, ENCRYPTION_TOOLS, type Runtime, type ScanProblem } from '../model.js';
import { hostPathInRoot, resolveLink } from './links.js';
import { readTextCapped } from './read.js';
import { runAsOwner, whichOnPath } from './run-as-owner.js';

const EXEC_TIMEOUT_MS = 5000;
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;
const MAX_HEADER_BYTES = 256 * 1024;
const MAX_PROBED_PORTS = 64;

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
    return { real, stat: fs.statSync(hostPathInRoot(root, real)) };
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
  const read = readTextCapped(hostPathInRoot(root, machinePath), MAX_PACKAGE_JSON_BYTES);
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

/** NODE_MAJOR/MINOR/PATCH_VERSION of `<prefix>/include/node/node_version.h` (binary at `<prefix>/bin/node`). */
export function nodeVersionFromHeader(root: string, binaryPath: string): string | undefined {
  const prefix = path.posix.dirname(path.posix.dirname(binaryPath));
  const header = resolveInRoot(root, path.posix.join(prefix, 'include/node/node_version.h'));
  if (header === undefined) return undefined;
  const read = readTextCapped(hostPathInRoot(root, header), MAX_HEADER_BYTES);
  if (!read.ok) return undefined;
  const field = (name: string): string | undefined => new RegExp(`^\\s*#\\s*define\\s+NODE_${name}_VERSION\\s+(\\d+)\\s*$`, 'm').exec(read.text)?.[1];
  const major = field('MAJOR');
  const minor = field('MINOR');
  const patch = field('PATCH');
  return major !== undefined && minor !== undefined && patch !== undefined ? `${Number(major)}.${Number(minor)}.${Number(patch)}` : undefined;
}

// The version a real node binary carries in its read-only data: the inspector's `node.js/vX.Y.Z`
// (its /json/version "Browser") and process.release's `…/release/vX.Y.Z/node-vX.Y.Z.tar.gz`.
const EMBEDDED_MARKERS: { anchor: Buffer; parse: (text: string) => string | undefined }[] = [
  { anchor: Buffer.from('node.js/v'), parse: (text) => /^node\.js\/v(\d+\.\d+\.\d+)(?![0-9A-Za-z.])/.exec(text)?.[1] },
  {
    anchor: Buffer.from('/node-v'),
    parse: (text) => {
      const match = /^\/node-v(\d+\.\d+\.\d+)(?:-headers)?\.tar\.gz/.exec(text);
      return match?.[1];
    },
  },
];
/** the most of one binary read looking for its version (node's .rodata is ~50 MB; the marker sits near its start) */
export const MAX_BINARY_SCAN_BYTES = 160 * 1024 * 1024;
const SCAN_CHUNK = 1024 * 1024;
const MARKER_TAIL = 64;
const embeddedCache = new Map<string, string | null>();

/** The file range worth reading in an ELF: its `.rodata` section, when the section table says where. */
function elfReadOnlyRange(fd: number, size: number): { start: number; end: number } | undefined {
  const head = Buffer.alloc(64);
  if (fs.readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = head[4] === 2;
  const little = head[5] === 1;
  const u16 = (buf: Buffer, at: number): number => (little ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (buf: Buffer, at: number): number => (little ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const addr = (buf: Buffer, at: number): number => (is64 ? Number(little ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at)) : u32(buf, at));
  const shoff = addr(head, is64 ? 0x28 : 0x20);
  const shentsize = u16(head, is64 ? 0x3a : 0x2e);
  const shnum = u16(head, is64 ? 0x3c : 0x30);
  const shstrndx = u16(head, is64 ? 0x3e : 0x32);
  if (shnum === 0 || shnum > 4096 || shentsize < (is64 ? 64 : 40) || shstrndx >= shnum || shoff + shnum * shentsize > size) return undefined;
  const table = Buffer.alloc(shnum * shentsize);
  if (fs.readSync(fd, table, 0, table.length, shoff) !== table.length) return undefined;
  const section = (index: number): { name: number; offset: number; size: number } => {
    const at = index * shentsize;
    return { name: u32(table, at), offset: addr(table, at + (is64 ? 0x18 : 0x10)), size: addr(table, at + (is64 ? 0x20 : 0x14)) };
  };
  const names = section(shstrndx);
  if (names.size > 1024 * 1024 || names.offset + names.size > size) return undefined;
  const strings = Buffer.alloc(names.size);
  fs.readSync(fd, strings, 0, names.size, names.offset);
  for (let index = 0; index < shnum; index++) {
    const item = section(index);
    const end = strings.indexOf(0, item.name);
    if (strings.toString('latin1', item.name, end < 0 ? undefined : end) === '.rodata' && item.offset + item.size <= size) return { start: item.offset, end: item.offset + item.size };
  }
  return undefined;
}

/**
 * The file range of a Mach-O's `__TEXT,__cstring` (where C string constants live), in a thin 64-bit
 * binary or the first slice of a universal one.
 */
function machoCStringRange(fd: number, size: number): { start: number; end: number } | undefined {
  const head = Buffer.alloc(32);
  if (fs.readSync(fd, head, 0, 32, 0) < 32) return undefined;
  let base = 0;
  if (head.readUInt32BE(0) === 0xcafebabe) {
    // universal: big-endian fat_arch records; the first slice carries the same strings as the others
    const count = head.readUInt32BE(4);
    if (count === 0 || count > 16) return undefined;
    base = head.readUInt32BE(16);
    if (base + 32 > size || fs.readSync(fd, head, 0, 32, base) < 32) return undefined;
  }
  if (head.readUInt32LE(0) !== 0xfeedfacf) return undefined;
  const ncmds = head.readUInt32LE(16);
  const sizeofcmds = head.readUInt32LE(20);
  if (ncmds > 4096 || sizeofcmds > 4 * 1024 * 1024 || base + 32 + sizeofcmds > size) return undefined;
  const commands = Buffer.alloc(sizeofcmds);
  if (fs.readSync(fd, commands, 0, sizeofcmds, base + 32) !== sizeofcmds) return undefined;
  const name = (at: number): string => commands.toString('latin1', at, at + 16).replace(/\0.*$/s, '');
  for (let at = 0, index = 0; index < ncmds && at + 8 <= commands.length; index++) {
    const cmd = commands.readUInt32LE(at);
    const cmdsize = commands.readUInt32LE(at + 4);
    if (cmdsize < 8 || at + cmdsize > commands.length) return undefined;
    // LC_SEGMENT_64 __TEXT: its 80-byte section records follow the 72-byte command
    if (cmd === 0x19 && name(at + 8) === '__TEXT') {
      const nsects = commands.readUInt32LE(at + 64);
      for (let sect = 0; sect < nsects && at + 72 + (sect + 1) * 80 <= at + cmdsize; sect++) {
        const record = at + 72 + sect * 80;
        if (name(record) !== '__cstring') continue;
        const start = base + commands.readUInt32LE(record + 48);
        const end = start + Number(commands.readBigUInt64LE(record + 40));
        return end <= size ? { start, end } : undefined;
      }
    }
    at += cmdsize;
  }
  return undefined;
}

function scanForMarker(fd: number, start: number, end: number): string | undefined {
  const buffer = Buffer.alloc(SCAN_CHUNK + MARKER_TAIL);
  let kept = 0;
  for (let at = start; at < end; ) {
    const want = Math.min(SCAN_CHUNK, end - at);
    const read = fs.readSync(fd, buffer, kept, want, at);
    if (read <= 0) break;
    const view = buffer.subarray(0, kept + read);
    for (const marker of EMBEDDED_MARKERS) {
      for (let hit = view.indexOf(marker.anchor); hit >= 0; hit = view.indexOf(marker.anchor, hit + 1)) {
        const version = marker.parse(view.toString('latin1', hit, Math.min(view.length, hit + MARKER_TAIL)));
        if (version !== undefined) return version;
      }
    }
    at += read;
    // keep the tail: a marker may straddle two chunks
    kept = Math.min(MARKER_TAIL, view.length);
    view.copy(buffer, 0, view.length - kept);
  }
  return undefined;
}

/**
 * The Node.js version embedded in a node binary (ELF or Mach-O), read, never run: a bounded
 * streaming read of at most MAX_BINARY_SCAN_BYTES (only an ELF's .rodata or a Mach-O's
 * __TEXT,__cstring when their headers say where), regular files only.
 */
export function nodeVersionFromBinary(hostFile: string): string | undefined {
  let fd: number;
  try {
    // lstat first: never open a FIFO or a device; O_NONBLOCK in case it is swapped for one
    if (!fs.lstatSync(hostFile).isFile()) return undefined;
    fd = fs.openSync(hostFile, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const cached = embeddedCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const range = elfReadOnlyRange(fd, stat.size) ?? machoCStringRange(fd, stat.size) ?? { start: 0, end: stat.size };
    const version = scanForMarker(fd, range.start, Math.min(range.end, range.start + MAX_BINARY_SCAN_BYTES));
    if (embeddedCache.size > 64) embeddedCache.clear();
    embeddedCache.set(key, version ?? null);
    return version;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

const NODE_VERSION_OUTPUT = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;

/**
 * Distinct node binaries one scan may ask for `--version` (issue 10): each ask may take EXEC_TIMEOUT_MS, and a home
 * can name a different binary in each of its units. A real machine has one or two (the unit's, the PATH's).
 */
export const MAX_ASKED_BINARIES = 8;

interface Probes {
  /** what `--version` said, per binary as it is on disk (host path, dev:ino, size, mtime, ctime); null: nothing usable */
  said: Map<string, string | null>;
  /** binaries that ran (a refused one costs nothing and does not count) */
  ran: number;
  /** binaries not asked: MAX_ASKED_BINARIES had run */
  skipped: Set<string>;
}

let probes: Probes = { said: new Map(), ran: 0, skipped: new Set() };

/**
 * Starts a scan's probes afresh: within a scan each distinct node binary is asked once, however many units
 * name it, and at most MAX_ASKED_BINARIES run. The scan calls it when it starts (scan/index.ts).
 */
export function forgetRuntimeProbes(): void {
  probes = { said: new Map(), ran: 0, skipped: new Set() };
}

/** The EBUDGET problem of the binaries this scan did not ask, if any. */
export function runtimeProbeProblems(): ScanProblem[] {
  const [first] = probes.skipped;
  if (first === undefined) return [];
  const count = probes.skipped.size;
  const why = `the scan runs at most ${MAX_ASKED_BINARIES} distinct node binaries (each may take ${EXEC_TIMEOUT_MS / 1000} s)`;
  const message = count === 1 ? `${first} was not asked for its Node.js version: ${why}` : `${count} node binaries were not asked for their Node.js version (${first} the first): ${why}`;
  return [{ path: first, code: BUDGET_CODE, message }];
}

/** `<binary> --version`, asked once per scan and binary (probes), as the binary's owner (runAsOwner). */
function runNodeVersion(binary: string): string | undefined {
  let key: string;
  try {
    const stat = fs.statSync(binary);
    key = `${binary}\0${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch {
    return undefined;
  }
  const said = probes.said.get(key);
  if (said !== undefined) return said ?? undefined;
  if (probes.ran >= MAX_ASKED_BINARIES) {
    probes.skipped.add(binary);
    return undefined;
  }
  const result = runAsOwner({ binary, args: ['--version'], scanMode: 'live', timeoutMs: EXEC_TIMEOUT_MS, maxOutputBytes: 64 * 1024 });
  if (result.ran) probes.ran += 1;
  const version = result.ran && result.status === 0 && !result.truncated ? NODE_VERSION_OUTPUT.exec(result.stdout.toString('utf8').trim())?.[1] : undefined;
  probes.said.set(key, version ?? null);
  return version;
}

/**
 * A node binary's version without running it where possible: the version embedded in the binary,
 * a full version in its path, `node_version.h` beside it; then (live scans of `/` only) the binary
 * asked as its owner; last a bare major from the path (`node@22`).
 */
function inferNodeVersion(root: string, given: string, real: string | undefined, opts: { mayRun: boolean }): string | undefined {
  const candidates = real !== undefined && real !== given ? [real, given] : [given];
  const full = (version: string | undefined): boolean => version !== undefined && /^\d+\.\d+\.\d+/.test(version);
  if (real !== undefined) {
    const version = nodeVersionFromBinary(hostPathInRoot(root, real));
    if (version !== undefined) return version;
  }
  for (const candidate of candidates) {
    const version = nodeVersionFromPath(candidate);
    if (full(version)) return version;
  }
  for (const candidate of candidates) {
    const version = nodeVersionFromHeader(root, candidate);
    if (version !== undefined) return version;
  }
  if (opts.mayRun && path.resolve(root) === '/' && real !== undefined) {
    const version = runNodeVersion(real);
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
  /** the unit's RESONIX_SERVICE_VERSION (what `gateway install` wrote): used when the entry script's package has no version */
  serviceVersion?: string;
}

export interface ServiceRuntime {
  missingPaths: string[];
  nodeVersion?: string;
  resonixVersion?: string;
  nodeRange?: string;
  schemaVersions?: { state?: number; agent?: number };
}

export const SCRIPT = /\.(js|mjs|cjs)$/;
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
 * version of its binary, and the Resonix package of its entry script. Node's version is read from
 * the binary, its path or `<prefix>/include/node/node_version.h`; only in live mode, and only when
 * none of those tells, is the binary asked (`--version`, as its owner: runAsOwner). In image mode
 * nothing is executed.
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
  const entry = entryScriptOf(argv, workingDirectory);
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
    // an entry script that is there but whose package does not say: the version that installed the unit
    const declared = unit.serviceVersion !== undefined ? parseResonixVersion(unit.serviceVersion) : undefined;
    if (result.resonixVersion === undefined && declared) result.resonixVersion = declared.version;
  }

  if (nodeBinary !== undefined && nodeBinary.startsWith('/')) {
    const version = inferNodeVersion(root, nodeBinary, nodeReal, { mayRun: opts.live });
    if (version !== undefined) result.nodeVersion = version;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// `node` and `resonix` on PATH (live only)


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
    try {
      runtime.nodeSize = fs.statSync(nodePath).size;
    } catch {
      // gone since PATH was searched: no size
    }
    const version = inferNodeVersion('/', nodePath, real, { mayRun: true });
    if (version !== undefined) runtime.nodeVersion = version;
  }

  let pkg: ResonixPackage | undefined;
  const resonixPath = whichOnPath('resonix', env.PATH);
  if (resonixPath !== undefined) {
    const real = resolveInRoot('/', resonixPath);
    pkg = real !== undefined ? findResonixPackage('/', real) : undefined;
    let version = pkg?.version;
    if (version === undefined && real !== undefined) {
      // no package.json to read: ask it, as its owner, with nothing of the scanned environment
      const result = runAsOwner({ binary: real, args: ['--version'], scanMode: 'live', timeoutMs: EXEC_TIMEOUT_MS, maxOutputBytes: 256 * 1024 });
      if (result.ran && result.status === 0 && !result.truncated) version = extractResonixVersion(result.stdout.toString('utf8'));
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

/** The entry script a node command line runs: its first script argument (not a --require/--import value), made absolute against the working directory. */
export function entryScriptOf(argv: readonly string[], workingDirectory: string | undefined): string | undefined {
  for (let index = 1; index < argv.length; index++) {
    const word = argv[index]!;
    if (NODE_OPTIONS_WITH_VALUE.has(word)) {
      index += 1;
      continue;
    }
    if (!SCRIPT.test(word)) continue;
    return !word.startsWith('/') && workingDirectory?.startsWith('/') ? path.posix.join(workingDirectory, word) : word;
  }
  return undefined;
}
