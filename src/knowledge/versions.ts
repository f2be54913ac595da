// Resonix and Node.js versions as Resonix names them: calendar versions (`2026.5.30`), the Node.js ranges its
// releases declare, the release that brought the SQLite layout, and which build an install runs. Pure: no IO.
import semver, { type SemVer } from 'semver';
import type { Home, Install, Machine } from '../model.js';
import { servicesFor } from './layout.js';

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

/** The first release with the SQLite layout (reference §3). */
export const SQLITE_LAYOUT_SINCE = '2026.5.30';

/** The Resonix this machine runs for `install`: the runtime's, else the version of a serving unit's package. */
export function installedResonixVersion(machine: Machine, home: Home, install: Install): string | undefined {
  const fromRuntime = machine.runtime?.resonixVersion;
  if (fromRuntime !== undefined && parseResonixVersion(fromRuntime)) return fromRuntime;
  return servicesFor(home, install).find((unit) => unit.resonixVersion !== undefined && parseResonixVersion(unit.resonixVersion))?.resonixVersion;
}

/**
 * Node.js ranges Resonix releases declare in package.json `engines.node` (reference §8, §11), used
 * when the installed package's own range cannot be read. A version gets the row of the newest
 * release at or below it (pre-releases sort before their release):
 *
 * | Resonix                  | engines.node                   |
 * | ------------------------ | ------------------------------ |
 * | up to 2026.5.x (< .5.28) | `>=22.14.0`                    |
 * | 2026.5.28 … < 2026.9.6   | `>=22.19.0`                    |
 * | 2026.9.6 and later       | `>=24.16.0 <25 \|\| >=26.1.0`  |
 *
 * Versions between the known releases get the last known range below them: requirements only grow,
 * so this never reports a Node that the release accepts.
 */
export const NODE_RANGES: readonly { from: string; range: string }[] = [
  { from: '2026.9.6', range: '>=24.16.0 <25 || >=26.1.0' },
  { from: '2026.5.28', range: '>=22.19.0' },
  { from: '0.0.0', range: '>=22.14.0' },
];

export function nodeRangeForResonix(version: string): string | undefined {
  if (!parseResonixVersion(version)) return undefined;
  return NODE_RANGES.find((row) => calverCompare(version, row.from) >= 0)?.range;
}

export type NodeVerdict = 'ok' | 'too-old' | 'unknown';

/** Whether a Node version (`22.19.0`, `v24.1.0`, or a bare major `22` from a `node@22` path) satisfies a range. */
export function nodeSatisfies(version: string, range: string): NodeVerdict {
  if (semver.validRange(range) === null) return 'unknown';
  const full = semver.clean(version);
  if (full !== null) return semver.satisfies(full, range, { includePrerelease: true }) ? 'ok' : 'too-old';
  const partial = /^v?(\d+)(?:\.(\d+))?$/.exec(version.trim());
  if (!partial) return 'unknown';
  const loose = partial[2] !== undefined ? `${partial[1]}.${partial[2]}.x` : `${partial[1]}.x`;
  try {
    // every release of that major/minor is outside the range: certainly unsupported; else we cannot tell
    return semver.intersects(range, loose, { includePrerelease: true }) ? 'unknown' : 'too-old';
  } catch {
    return 'unknown';
  }
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
