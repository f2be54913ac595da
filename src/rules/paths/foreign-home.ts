import path from 'node:path';
import { resonixCommand } from '../../knowledge/command.js';
import type { FileInventory, Home, Install, Machine, Rule, RuleReport, ServiceUnit, Workspace } from '../../model.js';
import { keyAt, isInside, joinPath, plural, presentPaths, sample, sh, cutShort } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'paths/foreign-home',
    title: 'Paths into another home or to missing places',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'config',
    causedBy: [{ rule: 'copy/config-only', relation: 'names-path-under' }, { rule: 'perms/unreadable', relation: 'inside' }],
    description:
      'Looks at every path-valued config key, the sessionFile and skillsSnapshot paths in sessions.json, the paths of the service units that run the install (ExecStart, WorkingDirectory, HOME, PATH, RESONIX_STATE_DIR, RESONIX_CONFIG_PATH) and absolute symlink targets, and flags those under another home, or config paths to places known to be missing here. An old home is any prefix the state names: recognised from the paths themselves (a missing absolute path whose tail exists under this home, HOME= in a unit, a sessionFile whose transcript arrived here, the baseline\'s home), besides /Users/<x>, /home/<x> and C:\\Users\\<x>. Reported once per home, with one rewrite plan.',
    why: 'Resonix uses absolute paths as they are: a workspace at /Users/alice/… on a /home/alice machine makes every message fail with ENOENT, old sessionFile paths are refused ("Session file path must be within sessions directory"), and a unit with the old node path crash-loops.',
    fix: 'Rewrite each path to `~/…` or its new place (`resonix config set`), run `resonix doctor --fix` with the gateway stopped for sessions.json, reinstall the service, re-point the symlinks.',
  },
  check({ machine, baseline }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      const own = [home.path, home.resolution.home];
      // old homes this home's state names: recognised by the scan from the paths themselves, and the baseline's
      const olds = [...(home.oldHomes ?? []).map((old) => old.prefix), ...baselineHomes(baseline, own)];
      const found: RuleReport[] = [];
      for (const install of home.installs) {
        found.push(...configReport(home, install, own, olds), ...sessionsReport(home, install, own, olds));
        found.push(...serviceReport(home, install, own, olds), ...symlinkReport(machine, install, own, olds));
      }
      const merged = mergeReports(home, found);
      if (merged) reports.push(merged);
    }
    return reports;
  },
};

/** The baseline's homes, when they are not this one: the old home of a migration. */
function baselineHomes(baseline: Machine | undefined, own: string[]): string[] {
  return (baseline?.homes ?? []).map((home) => home.path).filter((prefix) => prefix !== '/' && !own.some((item) => comparable(item) === comparable(prefix)));
}

/** What each part's message names: its file and count, up to the colon. */
const PLACE = /^(.*?)(?::| point into| runs with| record| holds)/;

/**
 * One finding per home (reference §12): the old home prefix is one problem, however many files name it. The
 * evidence of every place, and one plan in the order that works: stop the gateway, rewrite the config paths,
 * let doctor rewrite sessions.json, reinstall the service, re-point the links, check.
 */
function mergeReports(home: Home, found: RuleReport[]): RuleReport | undefined {
  if (found.length <= 1) return found[0];
  const commands = found.flatMap((report) => report.fix?.commands ?? []);
  const order = (command: string): number =>
    / gateway stop$/.test(command) ? 0 : / config set /.test(command) ? 1 : / doctor --fix$/.test(command) ? 2 : / gateway install --force$|systemctl/.test(command) ? 3 : /^ln -sfn /.test(command) ? 4 : / doctor$/.test(command) ? 6 : 5;
  const plan = [...new Set(commands)].map((command, index) => ({ command, index })).sort((a, b) => order(a.command) - order(b.command) || a.index - b.index).map((item) => item.command);
  const olds = [...new Set(found.flatMap((report) => report.oldHomes ?? []))];
  const places = found.map((report) => PLACE.exec(report.message)?.[1] ?? report.path!).join('; ');
  return {
    message: `The state in ${home.path} still names ${olds.length > 0 ? `the old home ${olds.join(', ')}` : 'places missing here'} (${places}): the gateway fails with ENOENT, refuses the old sessions and its service will not start until they are rewritten.`,
    path: found[0]!.path!,
    ...(found[0]!.install ? { install: found[0]!.install } : {}),
    ...(olds.length > 0 ? { oldHomes: olds } : {}),
    evidence: sample(found.flatMap((report) => report.evidence ?? []), 12),
    fix: {
      summary: 'One rewrite of the old home prefix: stop the gateway, rewrite the config paths to `~/…`, let doctor rewrite sessions.json, reinstall the service, re-point the symlinks, then check.',
      commands: plan,
    },
  };
}
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

/**
 * The other home `value` lies in, or undefined when it is not under a home or under this one. `oldHomes` are
 * prefixes known to be an old home (any path: /srv/alice, /data/u, a mounted disk); the longest one wins, before
 * the /home/<u>, /Users/<u> and C:\\Users\\<u> patterns.
 */
export function foreignHome(value: string, ownHomes: string[], oldHomes: string[] = []): Foreign | undefined {
  const normal = value.startsWith('/') ? path.posix.normalize(value) : value;
  const old = oldHomes
    .filter((old) => !ownHomes.some((own) => comparable(own) === comparable(old)) && (normal === old || normal.startsWith(`${old.replace(/\/+$/, '')}/`)))
    .sort((a, b) => b.length - a.length)[0];
  if (old && !ownHomes.some((own) => isInside(normal, own))) return { home: old, rest: normal.slice(old.replace(/\/+$/, '').length) };
  const windows = WINDOWS_HOME.exec(value);
  const match = windows ?? POSIX_HOME.exec(value);
  if (!match) return undefined;
  const prefix = comparable(match[1]!);
  const same = (a: string, b: string): boolean => (windows ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (NOT_A_HOME.test(prefix) || ownHomes.some((own) => same(comparable(own), prefix))) return undefined;
  return { home: match[1]!, rest: match[2]!.replace(/\\/g, '/') };
}

const isAbsolutePath = (value: string): boolean => value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value);

/**
 * The resonix command line that addresses this install, run in this home. A state dir named under an old home
 * (a unit's RESONIX_STATE_DIR or HOME from before the move) is addressed where it is now.
 */
function cliFor(home: Home, install: Install, olds: string[] = []): string {
  const old = olds.find((prefix) => isInside(install.stateDir, prefix));
  const stateDir = old ? path.posix.join(home.path, path.posix.relative(old, install.stateDir)) : install.stateDir;
  const configPath = old && isInside(install.config.path, old) ? path.posix.join(home.path, path.posix.relative(old, install.config.path)) : install.config.path;
  const profile = install.profile ?? /^\.resonix-(.+)$/.exec(path.posix.basename(stateDir))?.[1];
  return resonixCommand({ profile, stateDir, configPath }, home.path);
}

const oldHomesOf = (found: Foreign[]): string[] => [...new Set(found.map((item) => item.home))];
const homesOf = (found: Foreign[]): string => oldHomesOf(found).join(', ');

/** Keys whose target Resonix creates when it is missing: a missing one is no loss. */
const CREATED_ON_DEMAND = /^(logging\.file|cron\.store|session\.store)$/;

const workspaceIndexes = new WeakMap<Install, Map<string, number>>();

/**
 * The first workspace (in config order) that `absolute` lies in: a lookup of its ancestors, not a scan of
 * every workspace per path (a config with thousands of agents has thousands of both).
 */
function workspaceHolding(install: Install, absolute: string): Workspace | undefined {
  let byPath = workspaceIndexes.get(install);
  if (!byPath) {
    byPath = new Map();
    install.workspaces.forEach((workspace, index) => {
      const key = path.posix.normalize(workspace.path).replace(/(.)\/+$/, '$1');
      if (!byPath!.has(key)) byPath!.set(key, index);
    });
    workspaceIndexes.set(install, byPath);
  }
  let found: number | undefined;
  for (let dir = absolute; ; dir = path.posix.dirname(dir)) {
    const here = byPath.get(dir);
    if (here !== undefined && (found === undefined || here < found)) found = here;
    if (path.posix.dirname(dir) === dir) break;
  }
  return found === undefined ? undefined : install.workspaces[found];
}

/** An entry path to look for in one inventory: absent, it shows the place is not on this machine. */
interface Lookup {
  inventory: FileInventory;
  relative: string;
}

/** Whether the inventory or a workspace root shows that `absolute` is not on this machine: known at once, or the entry to look for. */
function missingCheck(install: Install, key: string, absolute: string): boolean | Lookup {
  if (absolute.includes('{') || CREATED_ON_DEMAND.test(key)) return false;
  const workspace = workspaceHolding(install, absolute);
  if (workspace) {
    if (!workspace.inventory.exists) return true;
    if (cutShort(workspace.inventory)) return false;
    return { inventory: workspace.inventory, relative: path.posix.relative(workspace.path, absolute) };
  }
  // a workspace key that is no workspace root (agents.defaults.workspace as a parent): not judged
  if (/(^|\.)workspace$/.test(key)) return false;
  const inventory = install.inventory;
  if (!isInside(absolute, install.stateDir) || !inventory.exists || cutShort(inventory)) return false;
  return { inventory, relative: path.posix.relative(install.stateDir, absolute) };
}

/**
 * Which of the looked-for entries are there, by inventory: the lookups of all a config's keys in one pass over
 * each inventory (a few paths against a million entries), not a set of every entry path.
 */
function foundEntries(lookups: Lookup[]): Map<FileInventory, Set<string>> {
  const wanted = new Map<FileInventory, Set<string>>();
  for (const { inventory, relative } of lookups) {
    const paths = wanted.get(inventory) ?? new Set<string>();
    wanted.set(inventory, paths.add(relative));
  }
  return new Map([...wanted].map(([inventory, paths]) => [inventory, presentPaths(inventory, paths)]));
}

function configReport(home: Home, install: Install, own: string[], olds: string[]): RuleReport[] {
  const secret = (key: string): boolean => install.config.inlineSecretKeys.some((item) => key === item || key.startsWith(`${item}.`) || key.startsWith(`${item}[`));
  const cli = cliFor(home, install, olds);
  const foreign: Foreign[] = [];
  const missing: string[] = [];
  const evidence: string[] = [];
  const commands: string[] = [];
  let firstKey: string | undefined;
  // each key's verdict first (another home, a place known missing or not, an entry to look for), then the lookups together
  const verdicts = install.config.paths.map(({ key, value }): Foreign | boolean | Lookup => {
    if (secret(key)) return false;
    const other = foreignHome(value, own, olds);
    if (other) return other;
    const tilde = value === '~' || value.startsWith('~/');
    if (!tilde && !value.startsWith('/')) return false;
    return missingCheck(install, key, path.posix.normalize(tilde ? path.posix.join(home.resolution.home, value.slice(1)) : value));
  });
  const lookups = verdicts.filter((verdict): verdict is Lookup => typeof verdict === 'object' && 'inventory' in verdict);
  const found = lookups.length > 0 ? foundEntries(lookups) : undefined;
  install.config.paths.forEach(({ key, value }, index) => {
    const verdict = verdicts[index]!;
    if (typeof verdict === 'object' && 'home' in verdict) {
      foreign.push(verdict);
      firstKey ??= key;
      evidence.push(`${key} = ${value}`);
      commands.push(`${cli} config set ${sh(key)} ${sh(`~${verdict.rest}`)}`);
      return;
    }
    const gone = typeof verdict === 'object' ? !found!.get(verdict.inventory)!.has(verdict.relative) : verdict;
    if (!gone) return;
    missing.push(key);
    firstKey ??= key;
    evidence.push(`${key} = ${value} (missing)`);
    commands.push(`${cli} config set ${sh(key)} <new-path>`);
  });
  if (evidence.length === 0) return [];
  const parts = [
    ...(foreign.length > 0 ? [`${plural(foreign.length, 'path')} into another home (${homesOf(foreign)})`] : []),
    ...(missing.length > 0 ? [`${plural(missing.length, 'path')} to places missing on this machine`] : []),
  ];
  return [
    {
      message: `${install.config.path} holds ${parts.join(' and ')}: the gateway fails with ENOENT when it uses them.`,
      ...(foreign.length > 0 ? { oldHomes: oldHomesOf(foreign) } : {}),
      path: install.config.path,
      ...keyAt(install.config, firstKey),
      install: install.id,
      evidence: sample(evidence, 10),
      fix: {
        summary: 'Rewrite each path to `~/…` (portable) or to where the data now is on this machine, then check with doctor.',
        commands: [...commands, `${cli} doctor`],
      },
    },
  ];
}

function sessionsReport(home: Home, install: Install, own: string[], olds: string[]): RuleReport[] {
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const files: string[] = [];
  for (const refs of install.sessionRefs ?? []) {
    const before = evidence.length;
    for (const [label, values] of [['sessionFile', refs.sessionFiles], ['skillsSnapshot', refs.skillPaths]] as const) {
      for (const value of values) {
        const other = foreignHome(value, own, olds);
        if (!other) continue;
        foreign.push(other);
        evidence.push(`${refs.file}: ${label} = ${value}`);
      }
    }
    if (evidence.length > before) files.push(refs.file);
  }
  if (files.length === 0) return [];
  const cli = cliFor(home, install, olds);
  return [
    {
      message: `${plural(files.length, 'sessions.json file')} in ${install.stateDir} record ${plural(foreign.length, 'path')} in another home (${homesOf(foreign)}): Resonix refuses those sessions ("Session file path must be within sessions directory") and cached skills fail with ENOENT.`,
      oldHomes: oldHomesOf(foreign),
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

function serviceReport(home: Home, install: Install, own: string[], olds: string[]): RuleReport[] {
  const units = home.services.filter((unit) => unit.resolution.stateDir === install.stateDir);
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const flagged: ServiceUnit[] = [];
  for (const unit of units) {
    const before = evidence.length;
    for (const { label, value } of servicePaths(unit)) {
      const other = foreignHome(value, own, olds);
      if (!other) continue;
      foreign.push(other);
      evidence.push(`${unit.name}: ${label} = ${value}`);
    }
    if (evidence.length > before) flagged.push(unit);
  }
  if (flagged.length === 0) return [];
  const cli = cliFor(home, install, olds);
  const commands = flagged.some((unit) => unit.kind !== 'systemd-system') ? [`${cli} gateway install --force`] : [];
  for (const unit of flagged.filter((item) => item.kind === 'systemd-system')) {
    commands.push(`sudo systemctl edit --full ${sh(unit.name)}`, `sudo systemctl daemon-reload && sudo systemctl restart ${sh(unit.name)}`);
  }
  return [
    {
      message: `Service ${flagged.map((unit) => unit.name).join(', ')} runs with paths in another home (${homesOf(foreign)}): the gateway will not start (MODULE_NOT_FOUND, ENOENT) or will use the wrong home.`,
      oldHomes: oldHomesOf(foreign),
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

function symlinkReport(machine: Machine, install: Install, own: string[], olds: string[]): RuleReport[] {
  const inventories = [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !isInside(inventory.root, install.stateDir))];
  const seen = new Set<string>();
  const foreign: Foreign[] = [];
  const evidence: string[] = [];
  const commands: string[] = [];
  for (const inventory of inventories) {
    // by index: for…of allocates an iterator result per entry, and few entries are links
    const entries = inventory.entries;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      if (entry.type !== 'symlink' || !entry.linkTarget || !isAbsolutePath(entry.linkTarget)) continue;
      const link = joinPath(inventory.root, entry.path);
      const other = foreignHome(entry.linkTarget, own, olds);
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
      oldHomes: oldHomesOf(foreign),
      path: install.stateDir,
      install: install.id,
      evidence: sample(evidence, 10),
      fix: { summary: 'Point each symlink at the same place under this home (or copy the target in its place).', commands },
    },
  ];
}
