// Resolving a symlink inside a machine root without ever leaving it: an image's absolute link
// `/opt/x` means ROOTFS/opt/x, never the host's /opt/x. Component by component, lstat only.
import fs from 'node:fs';
import path from 'node:path';

const MAX_HOPS = 40;

/** A machine path joined under the root as it is: only for paths whose components were checked. */
function joined(root: string, machinePath: string): string {
  return root === '/' ? machinePath : path.join(root, machinePath);
}

export type LinkResolution =
  | { ok: true; target: string }
  | { ok: false; reason: 'missing' | 'loop' }
  /** `blocked`: the machine path as resolved up to the dir that cannot be searched, then the rest as given */
  | { ok: false; reason: 'unreadable'; blocked: string };

/** Follows `machinePath` (a symlink) to a machine path that exists, or says why it cannot. */
export function resolveLink(root: string, machinePath: string): LinkResolution {
  let pending = machinePath.split('/').filter(Boolean);
  let resolved = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved = path.posix.dirname(resolved);
      continue;
    }
    const candidate = path.posix.join(resolved, part);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(joined(root, candidate));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EACCES' ? { ok: false, reason: 'unreadable', blocked: path.posix.join(candidate, ...pending) } : { ok: false, reason: 'missing' };
    }
    if (!stat.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++hops > MAX_HOPS) return { ok: false, reason: 'loop' };
    const target = fs.readlinkSync(joined(root, candidate));
    const rest = target.split('/').filter(Boolean);
    if (target.startsWith('/')) resolved = '/';
    pending = [...rest, ...pending];
  }
  return { ok: true, target: resolved };
}

/** Resolved parent dirs of the current scan, by root and machine path (only successes: a failure is re-tried). */
const resolvedParents = new Map<string, string>();

/** Starts a scan with no remembered resolutions: the tree may have changed since the last one. */
export function forgetResolvedPaths(): void {
  resolvedParents.clear();
}

function resolveParent(root: string, parent: string): LinkResolution {
  if (parent === '/') return { ok: true, target: '/' };
  const key = `${root}\0${parent}`;
  const known = resolvedParents.get(key);
  if (known !== undefined) return { ok: true, target: known };
  const result = resolveLink(root, parent);
  if (result.ok) resolvedParents.set(key, result.target);
  return result;
}

/**
 * The host path for a resolution: the target; for a dir that cannot be searched, the path up to it and on
 * as given (the kernel then says EACCES there, and follows nothing past it); for a missing target or a loop,
 * a path that does not exist.
 */
function hostOf(root: string, resolution: LinkResolution, machinePath: string, tail = ''): string {
  if (resolution.ok) return path.join(root, resolution.target, tail);
  if (resolution.reason === 'unreadable') return path.join(root, resolution.blocked, tail);
  return path.join(root, '.resonix-migrate-unresolvable-parent', path.posix.resolve('/', machinePath));
}

/**
 * The host path of a machine path. Live (root '/'), the path itself. In an image, every directory above
 * the last component is resolved inside ROOTFS, so `ROOTFS/home -> /srv/home` means ROOTFS/srv/home and
 * never the host's /srv/home; the last component is left as it is (lstat sees a link as a link) unless
 * `followLast` asks for it to be followed too (an EnvironmentFile= that is a link). `..` goes up from where
 * the links led, as the kernel does. A parent that leads nowhere maps to a path that does not exist; one
 * that cannot be searched, to a path where the caller meets that EACCES.
 */
export function hostPathInRoot(root: string, machinePath: string, options: { followLast?: boolean } = {}): string {
  if (root === '/' || path.resolve(root) === '/') {
    if (!options.followLast) return machinePath;
    try {
      return fs.realpathSync(machinePath);
    } catch {
      return machinePath;
    }
  }
  const parts = machinePath.split('/').filter((part) => part !== '' && part !== '.');
  const last = parts[parts.length - 1];
  if (options.followLast || last === undefined || last === '..') return hostOf(root, resolveLink(root, `/${parts.join('/')}`), machinePath);
  return hostOf(root, resolveParent(root, `/${parts.slice(0, -1).join('/')}`), machinePath, last);
}

interface Mount {
  point: string;
  type: string;
}

/** The mounts of a live Linux machine, longest mount point first. */
export function readMounts(): Mount[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    const point = left?.split(' ')[4];
    const type = right?.split(' ')[0];
    if (point && type) mounts.push({ point: point.replace(/\\040/g, ' '), type });
  }
  return mounts.sort((a, b) => b.point.length - a.point.length);
}

export function fsTypeOf(mounts: Mount[], machinePath: string): string | undefined {
  return mounts.find((mount) => mount.point === '/' || machinePath === mount.point || machinePath.startsWith(`${mount.point}/`))?.type;
}
