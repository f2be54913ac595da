// Follows a config's `$include`s the way Resonix does (reference §5): a path or a list of paths, `~` expanded,
// relative to the including file's dir, nested up to depth 10, cycles rejected, and each target must resolve
// (after symlinks) inside the top config's dir. Never throws: every problem becomes a flag on an IncludeCheck.
import fs from 'node:fs';
import path from 'node:path';
import { isInside } from '../knowledge/paths.js';
import JSON5 from 'json5';
import type { IncludeCheck } from '../model.js';
import { hostPathInRoot } from './links.js';
import { readTextCapped, type Reader } from './read.js';
import { summariseConfig } from './config-summary.js';

/** Resonix's own nesting limit. */
export const MAX_INCLUDE_DEPTH = 10;
const MAX_INCLUDE_BYTES = 8 * 1024 * 1024;
/** a diamond of includes could otherwise fan out without bound */
const MAX_CHECKS = 1000;
const MAX_SYMLINKS = 40;

const WINDOWS_ABSOLUTE = /^[A-Za-z]:[\\/]/;

function expand(value: string, fromDir: string, home: string): string {
  if (WINDOWS_ABSOLUTE.test(value)) return value;
  if (value === '~') return home;
  if (value.startsWith('~/')) return path.posix.join(home, value.slice(2));
  return path.posix.resolve(fromDir, value);
}

type Real = { ok: true; path: string } | { ok: false; missing: boolean };

const MISSING_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

function failure(error: unknown): Real {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return { ok: false, missing: MISSING_CODES.has(code) };
}

/**
 * The real machine path of `machinePath`, following symlinks inside `root`: an absolute link target in an
 * image means ROOTFS/target, not the host's file, so the walk is done by hand there.
 */
export function realMachinePath(root: string, machinePath: string): Real {
  if (WINDOWS_ABSOLUTE.test(machinePath)) return { ok: false, missing: true };
  if (root === '/') {
    try {
      return { ok: true, path: fs.realpathSync(machinePath) };
    } catch (error) {
      return failure(error);
    }
  }
  let pending = machinePath.split('/').filter((part) => part !== '');
  let resolved: string[] = [];
  let links = 0;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const candidate = `/${[...resolved, part].join('/')}`;
      const stat = fs.lstatSync(hostPathInRoot(root, candidate));
      if (!stat.isSymbolicLink()) {
        if (pending.length > 0 && !stat.isDirectory()) return { ok: false, missing: true };
        resolved.push(part);
        continue;
      }
      if (++links > MAX_SYMLINKS) return { ok: false, missing: true };
      const target = fs.readlinkSync(hostPathInRoot(root, candidate));
      if (target.startsWith('/')) resolved = [];
      pending = [...target.split('/').filter((item) => item !== ''), ...pending];
    }
  } catch (error) {
    return failure(error);
  }
  return { ok: true, path: `/${resolved.join('/')}` };
}

function collectIncludes(value: unknown, out: string[], depth = 0): void {
  if (depth > 64 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) collectIncludes(item, out, depth + 1);
    return;
  }
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (key === '$include') {
      for (const item of Array.isArray(child) ? child : [child]) if (typeof item === 'string') out.push(item);
      continue;
    }
    collectIncludes(child, out, depth + 1);
  }
}

/**
 * `$include` values of one included file; none when it cannot be read or parsed. Its secret values (the
 * same keys as in the config itself, and the whole text of a file that is no JSON5) go to `secrets`.
 */
function includesOf(root: string, realPath: string, secrets: Set<string> | undefined, reader?: Reader): string[] {
  const read = readTextCapped(hostPathInRoot(root, realPath), MAX_INCLUDE_BYTES, reader ? { reader } : {});
  if (!read.ok) return [];
  let parsed: unknown;
  try {
    parsed = JSON5.parse(read.text);
  } catch {
    if (secrets && read.text.trim().length >= 6 && read.text.length <= 4096) secrets.add(read.text.trim());
    return [];
  }
  if (secrets) for (const value of summariseConfig(parsed).secretValues) secrets.add(value);
  const found: string[] = [];
  collectIncludes(parsed, found);
  return found;
}

/** Follows the includes; `secrets` (when given) receives the secret values of every included file. */
export function checkIncludes(root: string, configPath: string, includes: string[], home: string, secrets?: Set<string>, reader?: Reader): IncludeCheck[] {
  const checks: IncludeCheck[] = [];
  try {
    const configDir = path.posix.dirname(configPath);
    const realConfig = realMachinePath(root, configPath);
    const realConfigDir = realMachinePath(root, configDir);
    const insideConfigDir = (real: string): boolean => isInside(real, configDir) || (realConfigDir.ok && isInside(real, realConfigDir.path));

    // `stack` holds the real paths of the files on the current include chain, the top config first
    const visit = (from: string, values: string[], depth: number, stack: string[]): void => {
      const fromDir = path.posix.dirname(from);
      for (const value of values) {
        if (checks.length >= MAX_CHECKS) return;
        const resolved = expand(value, fromDir, home);
        const real = realMachinePath(root, resolved);
        const check: IncludeCheck = {
          value,
          resolved,
          exists: real.ok || !real.missing,
          outside: real.ok ? !insideConfigDir(real.path) : false,
          cycle: real.ok && (stack.includes(real.path) || stack.includes(resolved)),
          from,
        };
        if (depth > MAX_INCLUDE_DEPTH) check.tooDeep = true;
        checks.push(check);
        if (!real.ok || check.cycle || check.tooDeep) continue;
        const nested = includesOf(root, real.path, secrets, reader);
        if (nested.length > 0) visit(resolved, nested, depth + 1, [...stack, real.path]);
      }
    };
    visit(configPath, includes, 1, [realConfig.ok ? realConfig.path : configPath, configPath]);
  } catch {
    // never throws: what was checked so far stands
  }
  return checks;
}
