import path from 'node:path';
import semver from 'semver';
import type { Home, Install, Machine, Rule, RuleReport, ServiceUnit } from '../../model.js';
import { calverCompare, parseResonixVersion } from '../../scan/runtime.js';
import { installsOf } from '../lib.js';
import { profileFlag } from './downgrade.js';

export const rule: Rule = {
  meta: {
    id: 'version/node-unsupported',
    title: 'Node.js is missing or too old for this Resonix',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'versions',
    verdict: 'migration',
    fixStep: 'runtime',
    causedBy: [{ rule: 'paths/foreign-home', relation: 'under-old-home' }],
    description:
      'The Node.js the gateway will run (the service\'s ExecStart binary, else `node` on PATH) does not satisfy the engines.node range of the installed Resonix (else of the release that last wrote the config), is missing, or is Bun.',
    why: 'Resonix refuses to start on a Node.js outside its engines range, and a service whose node binary does not exist crash-loops; Bun is not supported for the gateway.',
    fix: 'Install a supported Node.js (e.g. `nvm install 24`) and reinstall the service: `resonix gateway install --force`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    const served = new Set<string>();
    for (const home of machine.homes) {
      for (const unit of home.services) {
        const install = installOfUnit(home, unit);
        if (install) served.add(install.id);
        const binary = unit.execStart[0];
        if (binary === undefined) continue;
        const requirement = requirementFor(machine, install, unit);
        const base = { path: unit.path, ...(install ? { install: install.id } : {}) };
        if (/^bunx?$/.test(path.posix.basename(binary))) {
          reports.push({
            ...base,
            message: `The service ${unit.name} runs the gateway with Bun (${binary}): Resonix does not support Bun for the gateway.`,
            evidence: [`ExecStart: ${binary}`],
            fix: serviceFix(requirement?.range, unit),
          });
          continue;
        }
        if (unit.missingPaths?.includes(binary)) {
          reports.push({
            ...base,
            message: `The service ${unit.name} runs ${binary}, which does not exist on this machine: the gateway will not start.`,
            evidence: [`ExecStart: ${binary} (missing)`],
            fix: serviceFix(requirement?.range, unit),
          });
          continue;
        }
        if (unit.nodeVersion === undefined || requirement === undefined) continue;
        if (nodeSatisfies(unit.nodeVersion, requirement.range) !== 'too-old') continue;
        reports.push({
          ...base,
          message: `The service ${unit.name} runs Node.js ${unit.nodeVersion}, but ${requirement.source} needs ${requirement.range}: the gateway will refuse to start.`,
          evidence: [`ExecStart: ${binary}`, `Node.js ${unit.nodeVersion}`, `required: ${requirement.range} (${requirement.source})`],
          fix: serviceFix(requirement.range, unit),
        });
      }
    }

    // installs no service runs start from a shell: the `node` on PATH
    const runtime = machine.runtime;
    const unserved = [...installsOf(machine)].filter(({ install }) => install.inventory.exists && !served.has(install.id) && install.servedBy.length === 0);
    if (runtime && unserved.length > 0) {
      const written = unserved
        .map(({ install }) => install)
        .filter((install) => install.config.lastTouchedVersion !== undefined && parseResonixVersion(install.config.lastTouchedVersion))
        .sort((a, b) => calverCompare(b.config.lastTouchedVersion!, a.config.lastTouchedVersion!));
      const requirement = requirementFor(machine, written[0] ?? unserved[0]?.install, undefined);
      const only = unserved.length === 1 ? unserved[0]!.install : undefined;
      const where = only ? { install: only.id } : {};
      const major = (requirement ? wantedMajor(requirement.range) : undefined) ?? 24;
      const pathFix = {
        summary: `Install a supported Node.js (${requirement?.range ?? `Node ${major}`}) and make it the default \`node\`.`,
        commands: [`nvm install ${major} && nvm alias default ${major}`, 'node --version'],
      };
      if (machine.mode === 'live' && runtime.resonixSource === 'path' && runtime.nodePath === undefined && runtime.nodeVersion === undefined) {
        reports.push({
          ...where,
          message: 'Resonix is installed but there is no `node` on PATH: neither the resonix CLI nor the gateway can run.',
          fix: pathFix,
        });
      } else if (runtime.nodeVersion !== undefined && requirement && nodeSatisfies(runtime.nodeVersion, requirement.range) === 'too-old') {
        reports.push({
          ...where,
          ...(runtime.nodePath ? { path: runtime.nodePath } : {}),
          message: `\`node\` on PATH is Node.js ${runtime.nodeVersion}, but ${requirement.source} needs ${requirement.range}: Resonix will refuse to start.`,
          evidence: [`${runtime.nodePath ?? 'node'}: ${runtime.nodeVersion}`, `required: ${requirement.range} (${requirement.source})`],
          fix: pathFix,
        });
      }
    }
    return reports;
  },
};
export default rule;

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

interface Requirement {
  range: string;
  /** where the range comes from, in words */
  source: string;
}

type Verdict = 'ok' | 'too-old' | 'unknown';

/** Whether a Node version (`22.19.0`, `v24.1.0`, or a bare major `22` from a `node@22` path) satisfies a range. */
export function nodeSatisfies(version: string, range: string): Verdict {
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

function wantedMajor(range: string): number | undefined {
  try {
    return semver.minVersion(range)?.major;
  } catch {
    return undefined;
  }
}

function requirementFor(machine: Machine, install: Install | undefined, unit: ServiceUnit | undefined): Requirement | undefined {
  const runtime = machine.runtime;
  const runtimeVersion = runtime?.resonixVersion;
  const unitVersion = unit?.resonixVersion;
  // a service running another build than the one on PATH: the PATH package's range is not its range
  const unitDiffers = unitVersion !== undefined && runtimeVersion !== undefined && calverCompare(unitVersion, runtimeVersion) !== 0;
  if (runtime?.nodeRange && semver.validRange(runtime.nodeRange) !== null && !unitDiffers) {
    return { range: runtime.nodeRange, source: `engines.node of the installed Resonix${runtimeVersion ? ` ${runtimeVersion}` : ''}` };
  }
  const installed = unitVersion ?? runtimeVersion;
  const byInstalled = installed !== undefined ? nodeRangeForResonix(installed) : undefined;
  if (installed !== undefined && byInstalled !== undefined) return { range: byInstalled, source: `Resonix ${installed}` };
  const written = install?.config.lastTouchedVersion;
  const byWritten = written !== undefined ? nodeRangeForResonix(written) : undefined;
  if (written !== undefined && byWritten !== undefined) return { range: byWritten, source: `Resonix ${written}, which last wrote the config` };
  return undefined;
}

function installOfUnit(home: Home, unit: ServiceUnit): Install | undefined {
  return home.installs.find((install) => install.servedBy.includes(unit.path) || install.stateDir === unit.resolution.stateDir);
}

function serviceFix(range: string | undefined, unit: ServiceUnit): { summary: string; commands: string[] } {
  const major = (range ? wantedMajor(range) : undefined) ?? 24;
  const flag = profileFlag(unit.resolution.profile);
  return {
    summary: `Install a supported Node.js (${range ?? `Node ${major}`}), then reinstall the service from a shell where \`node\` is that version, so the unit points at it. A system Node (distribution or nodejs.org) is sturdier in a service than a version manager's.`,
    commands: [`nvm install ${major} && resonix${flag} gateway install --force`, `resonix${flag} gateway status`],
  };
}
