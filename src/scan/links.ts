// Resolving a symlink inside a machine root without ever leaving it: an image's absolute link
// `/opt/x` means ROOTFS/opt/x, never the host's /opt/x. Component by component, lstat only.
import fs from 'node:fs';
import path from 'node:path';
import { hostPath } from './install.js';

const MAX_HOPS = 40;

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
      stat = fs.lstatSync(hostPath(root, candidate));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { ok: false, reason: code === 'EACCES' ? 'unreadable' : 'missing' };
    }
    if (!stat.isSymbolicLink()) {
      resolved = candidate;
      continue;
    }
    if (++hops > MAX_HOPS) return { ok: false, reason: 'loop' };
    const target = fs.readlinkSync(hostPath(root, candidate));
    const rest = target.split('/').filter(Boolean);
    if (target.startsWith('/')) resolved = '/';
    pending = [...rest, ...pending];
  }
  return { ok: true, target: resolved };
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
