// Where a finding points, independent of the machine it was found on: paths under the home, the state dir or an
// image's root are written $HOME/…, $STATEDIR/…, $ROOTFS/…, so a fingerprint (and a baseline or suppression that
// names it) and a SARIF location survive a move to another home path or another image build.
import { createHash } from 'node:crypto';
import type { Finding, Machine, Report } from '../model.js';

export type Roots = NonNullable<Report['roots']>;

/** The places paths are relative to, so fingerprints and SARIF locations survive a move between machines. */
export function rootsOf(machine: Machine): Roots {
  const home = machine.homes[0];
  const active = home?.installs.find((install) => install.active);
  return {
    ...(machine.mode === 'image' ? { ROOTFS: machine.root } : {}),
    ...(home ? { HOME: home.path } : {}),
    ...(active ? { STATEDIR: active.stateDir } : {}),
  };
}

/** A path with the longest matching root replaced by its name: /home/alice/.resonix/x → $STATEDIR/x. */
export function normalisePath(target: string, roots: Roots): string {
  const entries = Object.entries(roots).filter(([, root]) => root && root !== '/') as [string, string][];
  entries.sort((a, b) => b[1].length - a[1].length);
  for (const [name, root] of entries) {
    if (target === root) return `$${name}`;
    if (target.startsWith(`${root}/`)) return `$${name}/${target.slice(root.length + 1)}`;
  }
  return target;
}

export function fingerprintOf(finding: Pick<Finding, 'ruleId' | 'path' | 'message'>, roots: Roots): string {
  const target = finding.path !== undefined ? normalisePath(finding.path, roots) : finding.message.replace(/\d+/g, 'N');
  return createHash('sha256').update(`${finding.ruleId}\0${target}`).digest('hex').slice(0, 32);
}
