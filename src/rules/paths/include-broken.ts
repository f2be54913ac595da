import path from 'node:path';
import type { IncludeCheck, Install, Rule, RuleReport } from '../../model.js';
import { installsOf, isInside, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'paths/include-broken',
    title: 'A $include is missing, outside the config dir, circular or too deep',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'copy/config-only', relation: 'names-path-under' }, { rule: 'perms/unreadable', relation: 'inside' }],
    description:
      "Checks each `$include` of resonix.json and of the files it includes: the target must exist, resolve (after symlinks) inside the config's own dir, not include itself again, and sit no deeper than 10 levels.",
    why: 'Resonix refuses the whole config when an include is missing, escapes the config dir, loops or nests too deep: the gateway does not start.',
    fix: 'Copy the include file next to resonix.json (a real file, not a symlink out of the dir) and point the `$include` at it; break cycles.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      for (const check of install.config.includeChecks ?? []) {
        const report = reportFor(install, check);
        if (report) reports.push(report);
      }
    }
    return reports;
  },
};
export default rule;

const editor = (file: string): string => `"\${EDITOR:-vi}" ${sh(file)}`;

function reportFor(install: Install, check: IncludeCheck): RuleReport | undefined {
  const configDir = path.posix.dirname(install.config.path);
  const name = path.posix.basename(check.resolved.replace(/\\/g, '/'));
  // never suggest copying over the config itself
  const copy = path.posix.join(configDir, path.posix.join(configDir, name) === install.config.path ? `include-${name}` : name);
  const where = `${check.from} includes ${JSON.stringify(check.value)}`;
  const base = { path: check.resolved, install: install.id, evidence: [`$include = ${check.value}`, `resolved = ${check.resolved}`, `from = ${check.from}`] };
  const repoint = isInside(check.resolved, configDir) ? [] : [editor(check.from)];
  if (!check.exists) {
    return {
      ...base,
      message: `${where}, but ${check.resolved} does not exist: Resonix refuses the config and the gateway does not start.`,
      fix: {
        summary: `Copy the include file from the old machine next to resonix.json${repoint.length > 0 ? ` and change the $include in ${check.from} to ./${path.posix.basename(copy)}` : ''}.`,
        commands: [`scp <old-host>:${sh(check.resolved)} ${sh(copy)}`, `chmod 600 ${sh(copy)}`, ...repoint],
      },
    };
  }
  if (check.cycle) {
    return {
      ...base,
      message: `${where}, which closes an include cycle: Resonix rejects circular includes and the gateway does not start.`,
      fix: { summary: `Remove the $include of ${check.value} from ${check.from} (merge what it needs directly).`, commands: [editor(check.from)] },
    };
  }
  if (check.tooDeep) {
    return {
      ...base,
      message: `${where}, nested deeper than Resonix's limit of 10 includes: the config is refused.`,
      fix: { summary: `Flatten the include chain: merge ${check.value} into ${check.from} or include it from a file higher up.`, commands: [editor(check.from)] },
    };
  }
  if (check.outside) {
    // a symlink inside the dir is replaced by a copy of its target; a path outside is copied in and re-pointed
    const inPlace = isInside(check.resolved, configDir);
    return {
      ...base,
      message: `${where}, which resolves outside ${configDir}${inPlace ? ' through a symlink' : ''}: Resonix only accepts includes inside the config's own dir and refuses the config.`,
      fix: inPlace
        ? {
            summary: 'Replace the symlink with a real copy of the file it points to.',
            commands: [`cp ${sh(check.resolved)} ${sh(`${check.resolved}.copy`)}`, `mv ${sh(`${check.resolved}.copy`)} ${sh(check.resolved)}`, `chmod 600 ${sh(check.resolved)}`],
          }
        : {
            summary: `Copy the file next to resonix.json and change the $include in ${check.from} to ./${path.posix.basename(copy)}.`,
            commands: [`cp ${sh(check.resolved)} ${sh(copy)}`, `chmod 600 ${sh(copy)}`, editor(check.from)],
          },
    };
  }
  return undefined;
}
