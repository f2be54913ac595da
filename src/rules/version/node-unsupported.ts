import path from 'node:path';
import semver from 'semver';
import { serviceCommand } from '../../knowledge/command.js';
import { installOfUnit } from '../../knowledge/layout.js';
import { calverCompare, nodeRangeForResonix, nodeSatisfies, parseResonixVersion } from '../../knowledge/versions.js';
import type { Home, Install, Machine, Rule, RuleReport, ServiceUnit } from '../../model.js';
import { installsOf } from '../lib.js';

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
            fix: serviceFix(requirement?.range, home, unit),
          });
          continue;
        }
        if (unit.missingPaths?.includes(binary)) {
          reports.push({
            ...base,
            message: `The service ${unit.name} runs ${binary}, which does not exist on this machine: the gateway will not start.`,
            evidence: [`ExecStart: ${binary} (missing)`],
            fix: serviceFix(requirement?.range, home, unit),
          });
          continue;
        }
        if (unit.nodeVersion === undefined || requirement === undefined) continue;
        if (nodeSatisfies(unit.nodeVersion, requirement.range) !== 'too-old') continue;
        reports.push({
          ...base,
          message: `The service ${unit.name} runs Node.js ${unit.nodeVersion}, but ${requirement.source} needs ${requirement.range}: the gateway will refuse to start.`,
          evidence: [`ExecStart: ${binary}`, `Node.js ${unit.nodeVersion}`, `required: ${requirement.range} (${requirement.source})`],
          fix: serviceFix(requirement.range, home, unit),
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

interface Requirement {
  range: string;
  /** where the range comes from, in words */
  source: string;
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

function serviceFix(range: string | undefined, home: Home, unit: ServiceUnit): { summary: string; commands: string[] } {
  const major = (range ? wantedMajor(range) : undefined) ?? 24;
  const cli = serviceCommand(home, unit);
  return {
    summary: `Install a supported Node.js (${range ?? `Node ${major}`}), then reinstall the service from a shell where \`node\` is that version, so the unit points at it. A system Node (distribution or nodejs.org) is sturdier in a service than a version manager's.`,
    commands: [`nvm install ${major} && ${cli} gateway install --force`, `${cli} gateway status`],
  };
}
