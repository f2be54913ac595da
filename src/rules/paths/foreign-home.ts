import path from 'node:path';
import type { FileInventory, Home, Install, Machine, Rule, RuleReport, ServiceUnit } from '../../model.js';
import { installsOf, isInside, joinPath, plural, sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'paths/foreign-home',
    title: 'Paths into another home or to missing places',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'config',
    causedBy: [{ rule: 'copy/config-only', relation: 'same-install' }, { rule: 'perms/unreadable', relation: 'inside' }],
    description:
      'Looks at every path-valued config key, the sessionFile and skillsSnapshot paths in sessions.json, the paths of the service units that run the install (ExecStart, WorkingDirectory, HOME, PATH, RESONIX_STATE_DIR, RESONIX_CONFIG_PATH) and absolute symlink targets, and flags those under another home (/Users/<x>, /home/<x>, C:\\Users\\<x>), or config paths to places known to be missing here.',
    why: 'Resonix uses absolute paths as they are: a workspace at /Users/alice/… on a /home/alice machine makes every message fail with ENOENT, old sessionFile paths are refused ("Session file path must be within sessions directory"), and a unit with the old node path crash-loops.',
    fix: 'Rewrite each path to `~/…` or its new place (`resonix config set`), run `resonix doctor --fix` with the gateway stopped for sessions.json, reinstall the service, re-point the symlinks.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const own = [home.path, home.resolution.home];
      reports.push(...configReport(home, install, own), ...sessionsReport(home, install, own));
      reports.push(...serviceReport(home, install, own), ...symlinkReport(machine, install, own));
    }
    return reports;
  },
};
export default rule;

const POSIX_HOME = /^(\/(?:Users|home)\/[^/]+)((?:\/.*)?)$/;
const WINDOWS_HOME = /^([A-Za-z]:[\\/]Users[\\/][^\\/]+)((?:[\\/].*)?)$/i;
/** dirs under /Users and /home that are nobody's home */
const NOT_A_HOME = /^(\/Users\/Shared|\/home\/linuxbrew|[a-z]:\/users\/(public|default|all users))$/i;

interface Foreign {
  /** the other home, e.g. /Users/alice */
  home: string;
  /** the rest of the path below it, '' or '/…' with forward slashes */
  rest: string;
}

const comparable = (value: string): string => value.replace(/\\/g, '/').replace(/\/+$/, '');

/** The other home `value` lies in, or undefined when it is not under a home or under this one. */
export function foreignHome(value: string, ownHomes: string[]): Foreign | undefined {
  const windows = WINDOWS_HOME.exec(value);
  const match = windows ?? POSIX_HOME.exec(value);
  if (!match) return undefined;
  const prefix = comparable(match[1]!);
  const same = (a: string, b: string): boolean => (windows ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (NOT_A_HOME.test(prefix) || ownHomes.some((own) => same(comparable(own), prefix))) return undefined;
  return { home: match[1]!, rest: match[2]!.replace(/\\/g, '/') };
}

const isAbsolutePath = (value: string): boolean => value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value);

/** The resonix command line that addresses this install. */
function cliFor(home: Home, install: Install): string {
  const env: string[] = [];
  let flags = '';
  if (install.profile && install.stateDir === path.posix.join(home.path, `.resonix-${install.profile}`)) flags = ` --profile ${sh(install.profile)}`;
  else if (install.stateDir !== path.posix.join(home.path, '.resonix')) env.push(`RESONIX_STATE_DIR=${sh(install.stateDir)}`);
  if (install.config.path !== path.posix.join(install.stateDir, 'resonix.json')) env.push(`RESONIX_CONFIG_PATH=${sh(install.config.path)}`);
  return [...env, `resonix${flags}`].join(' ');
}

const homesOf = (found: Foreign[]): string => [...new Set(found.map((item) => item.home))].join(', ');

/** Keys whose target Resonix creates when it is missing: a missing one is no loss. */
const CREATED_ON_DEMAND = /^(logging\.file|cron\.store|session\.store)$/;

function entryPaths(inventory: FileInventory): Set<string> {
  return new Set(inventory.entries.map((entry) => entry.path));
}

/** True only when the inventory or a workspace root shows that `absolute` is not on this machine. */
function knownMissing(install: Install, key: string, absolute: string): boolean {
  if (absolute.includes('{') || CREATED_ON_DEMAND.test(key)) return false;
  for (const workspace of install.workspaces) {
    if (!isInside(absolute, workspace.path)) continue;
    if (!workspace.inventory.exists) return true;
    if (workspace.inventory.truncated) return false;
    return !entryPaths(workspace.inventory).has(path.posix.relative(workspace.path, absolute));
  }
  // a workspace key that is no workspace root (agents.defaults.workspace as a parent): not judged
  if (/(^|\.)workspace$/.test(key)) return false;
  const inventory = install.inventory;
  if (!isInside(absolute, install.stateDir) || !inventory.exists || inventory.truncated) return false;
  return !entryPaths(inventory).has(path.posix.relative(install.stateDir, absolute));
}

function configReport(home: Home, install: Install, own: string[]): RuleReport[] {
  const secret = (key: string): boolean => install.config.inlineSecretKeys.some((item) => key === item || key.startsWith(`${item}.`) || key.startsWith(`${item}[`));
  const cli = cliFor(home, install);
  const foreign: Foreign[] = [];
  const missing: string[] = [];
  const evidence: string[] = [];
  const commands: string[] = [];
  for (const { key, value } of install.config.paths) {
    if (secret(key)) continue;
    const other = foreignHome(value, own);
    if (other) {
      foreign.push(other);
      evidence.push(`${key} = ${value}`);
      commands.push(`${cli} config set ${sh(key)} ${sh(`~${other.rest}`)}`);
      continue;
    }
    const tilde = value === '~' || value.startsWith('~/');
    if (!tilde && !value.startsWith('/')) continue;
    const absolute = path.posix.normalize(tilde ? path.posix.join(home.resolution.home, value.slice(1)) : value);
    if (!knownMissing(install, key, absolute)) continue;
    missing.push(key);
    evidence.push(`${key} = ${value} (missing)`);
    commands.push(`${cli} config set ${sh(key)} <new-path>`);
  }
  if (evidence.length === 0) return [];
  const parts = [
    ...(foreign.length > 0 ? [`${plural(foreign.length, 'path')} into another home (${homesOf(foreign)})`] : []),
    ...(missing.length > 0 ? [`${plural(missing.length, 'path')} to places missing on this machine`] : []),
  ];
  return [
    {
      message: `${install.config.path} holds ${parts.join(' and ')}: the gateway fails with ENOENT when it uses them.`,
      path: install.config.path,
      install: install.id,
      evidence: sample(evidence, 10),
      fix: {
        summary: 'Rewrite each path to `~/…` (portable) or to where the data now is on this machine, then check with doctor.',
        commands: [...commands, `${cli} doctor`],
      },
    },
  ];
}

function sessionsReport(home: Home, install: Install, own: string[]): RuleReport[] {
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const files: string[] = [];
  for (const refs of install.sessionRefs ?? []) {
    const before = evidence.length;
    for (const [label, values] of [['sessionFile', refs.sessionFiles], ['skillsSnapshot', refs.skillPaths]] as const) {
      for (const value of values) {
        const other = foreignHome(value, own);
        if (!other) continue;
        foreign.push(other);
        evidence.push(`${refs.file}: ${label} = ${value}`);
      }
    }
    if (evidence.length > before) files.push(refs.file);
  }
  if (files.length === 0) return [];
  const cli = cliFor(home, install);
  return [
    {
      message: `${plural(files.length, 'sessions.json file')} in ${install.stateDir} record ${plural(foreign.length, 'path')} in another home (${homesOf(foreign)}): Resonix refuses those sessions ("Session file path must be within sessions directory") and cached skills fail with ENOENT.`,
      path: joinPath(install.stateDir, files[0]!),
      install: install.id,
      evidence: sample(evidence, 10),
      fix: {
        summary:
          'Stop the gateway first, then `resonix doctor --fix` rewrites the sessionFile paths to this state dir; start the gateway again afterwards. skillsSnapshot paths are a cache of the old skill locations.',
        commands: [`${cli} gateway stop`, `${cli} doctor --fix`],
      },
    },
  ];
}

function servicePaths(unit: ServiceUnit): { label: string; value: string }[] {
  const found = unit.execStart.filter(isAbsolutePath).map((value) => ({ label: 'ExecStart', value }));
  if (unit.workingDirectory) found.push({ label: 'WorkingDirectory', value: unit.workingDirectory });
  for (const key of ['HOME', 'RESONIX_STATE_DIR', 'RESONIX_CONFIG_PATH', 'PATH'] as const) {
    const value = unit.env[key];
    if (value === undefined || unit.secretEnvKeys.includes(key)) continue;
    const values = key === 'PATH' ? value.split(':').filter(isAbsolutePath) : [value];
    for (const item of values) found.push({ label: `Environment ${key}`, value: item });
  }
  return found;
}

function serviceReport(home: Home, install: Install, own: string[]): RuleReport[] {
  const units = home.services.filter((unit) => unit.resolution.stateDir === install.stateDir);
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const flagged: ServiceUnit[] = [];
  for (const unit of units) {
    const before = evidence.length;
    for (const { label, value } of servicePaths(unit)) {
      const other = foreignHome(value, own);
      if (!other) continue;
      foreign.push(other);
      evidence.push(`${unit.name}: ${label} = ${value}`);
    }
    if (evidence.length > before) flagged.push(unit);
  }
  if (flagged.length === 0) return [];
  const cli = cliFor(home, install);
  const commands = flagged.some((unit) => unit.kind !== 'systemd-system') ? [`${cli} gateway install --force`] : [];
  for (const unit of flagged.filter((item) => item.kind === 'systemd-system')) {
    commands.push(`sudo systemctl edit --full ${sh(unit.name)}`, `sudo systemctl daemon-reload && sudo systemctl restart ${sh(unit.name)}`);
  }
  return [
    {
      message: `Service ${flagged.map((unit) => unit.name).join(', ')} runs with paths in another home (${homesOf(foreign)}): the gateway will not start (MODULE_NOT_FOUND, ENOENT) or will use the wrong home.`,
      path: flagged[0]!.path,
      install: install.id,
      evidence: sample(evidence, 10),
      fix: {
        summary: 'Reinstall the service so it uses this machine\'s node, entry script, HOME and state dir (system units: edit them by hand).',
        commands: [...commands, `${cli} doctor`],
      },
    },
  ];
}

function symlinkReport(machine: Machine, install: Install, own: string[]): RuleReport[] {
  const inventories = [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !isInside(inventory.root, install.stateDir))];
  const seen = new Set<string>();
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const commands: string[] = [];
  for (const inventory of inventories) {
    for (const entry of inventory.entries) {
      if (entry.type !== 'symlink' || !entry.linkTarget || !isAbsolutePath(entry.linkTarget)) continue;
      const link = joinPath(inventory.root, entry.path);
      const other = foreignHome(entry.linkTarget, own);
      if (!other || seen.has(link)) continue;
      seen.add(link);
      foreign.push(other);
      evidence.push(`${link} = ${entry.linkTarget}`);
      commands.push(`ln -sfn ${sh(`${own[0]}${other.rest}`)} ${sh(link)}`);
    }
  }
  if (evidence.length === 0) return [];
  return [
    {
      message: `${plural(evidence.length, 'symlink')} in ${install.stateDir}${inventories.length > 1 ? ' or its workspaces' : ''} point into another home (${homesOf(foreign)}): ${machine.mode === 'image' ? 'in this image' : 'on this machine'} they lead nowhere.`,
      path: install.stateDir,
      install: install.id,
      evidence: sample(evidence, 10),
      fix: { summary: 'Point each symlink at the same place under this home (or copy the target in its place).', commands },
    },
  ];
}
