// Resolving a symlink inside a machine root without ever leaving it: an image's absolute link
// `/opt/x` means ROOTFS/opt/x, never the host's /opt/x. Component by component, lstat only.
import fs from 'node:fs';
import path from 'node:path';

const MAX_HOPS = 40;

/** A machine path joined under the root as it is: only for paths whose components were checked. */
function joined(root: string, machinePath: string): string {
  return root === '/' ? machinePath : path.join(root, machinePath);
}

export type LinkResolution = { ok: true; target: string } | { ok: false; reason: 'missing' | 'loop' | 'unreadable' };

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
      return { ok: false, reason: code === 'EACCES' ? 'unreadable' : 'missing' };
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

const resolvedParents = new Map<string, string | null>();

/** A host path that does not exist, for a machine path whose links lead nowhere (missing, a loop). */
function unresolvable(root: string, normal: string): string {
  return path.join(root, '.resonix-migrate-unresolvable-parent', normal);
}

/**
 * The host path of a machine path. Live (root '/'), the path itself. In an image, every directory above
 * the last component is resolved inside ROOTFS, so `ROOTFS/home -> /srv/home` means ROOTFS/srv/home and
 * never the host's /srv/home; the last component is left as it is (lstat sees a link as a link) unless
 * `followLast` asks for it to be followed too (an EnvironmentFile= that is a link). A parent that cannot be
 * resolved maps to a path that does not exist.
 */
export function hostPathInRoot(root: string, machinePath: string, options: { followLast?: boolean } = {}): string {
  if (path.resolve(root) === '/') {
    if (!options.followLast) return machinePath;
    try {
      return fs.realpathSync(machinePath);
    } catch {
      return machinePath;
    }
  }
  const normal = path.posix.resolve('/', machinePath);
  if (options.followLast) {
    const whole = resolveLink(root, normal);
    return whole.ok ? path.join(root, whole.target) : unresolvable(root, normal);
  }
  const parent = path.posix.dirname(normal);
  const key = `${root}\0${parent}`;
  let resolved = resolvedParents.get(key);
  if (resolved === undefined) {
    const result = parent === '/' ? { ok: true as const, target: '/' } : resolveLink(root, parent);
    resolved = result.ok ? result.target : null;
    resolvedParents.set(key, resolved);
  }
  if (resolved === null) return unresolvable(root, normal);
  return path.join(root, resolved, path.posix.basename(normal));
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
