import { isSecretDir, isSecretFile, NOT_COPIED } from '../../knowledge/layout.js';
import { entriesOf } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import type { FileEntry, FixAction, Machine, Rule, RuleReport } from '../../model.js';
import { ancestorEntries, installsOf, joinPath, octal, parentRun, plural, readableBy, sampleOf, sh, writableBy, type Audience, type EntryLookup } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'perms/secrets-exposed',
    title: 'Secrets readable by other users',
    severity: 'error',
    phases: ['audit', 'verify', 'image'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'modes',
    description:
      'The state dir should be 0700 and config, .env, credentials, auth profiles, sessions and SQLite databases 0600; nothing in it group- or world-writable. Exposure is judged by the whole path: a 0644 file under a 0700 dir is not readable by others. World exposure is an error, group exposure a warning. With a baseline: any other file that no other user could read there (by its whole path) and others can read here.',
    why: 'A copy made with a loose umask, `cp` without -p or as root can leave API keys, OAuth tokens and chat logins readable by every user on the machine.',
    fix: 'chmod 700 the state dir and 600 the secret files.',
    autofix: true,
    tags: ['security'],
  },
  check({ machine, baseline }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.inventory.exists) continue;
      const exposures = exposuresOf(install.inventory.entries);
      if (exposures.length === 0) continue;
      const world = exposures.some((item) => item.audience === 'world');
      const readable = exposures.filter((item) => item.how === 'readable' && item.entry.path !== '').length;
      const root = install.inventory.entries.find((entry) => entry.path === '');
      const rootExposed = exposures.find((item) => item.entry.path === '');
      const actions: FixAction[] = exposures.map(({ entry }) => ({ kind: 'chmod', path: joinPath(install.stateDir, entry.path), mode: tightened(entry) }));
      const headline = rootExposed
        ? `State dir ${install.stateDir} is ${octal(root!.mode)}, not 0700`
        : `${plural(exposures.length, 'path')} in ${install.stateDir} ${exposures.length === 1 ? 'is' : 'are'} open to other users`;
      reports.push({
        severity: world ? 'error' : 'warning',
        message: `${headline}: ${readable > 0 ? `${plural(readable, 'secret file')} readable by ${world ? 'every user on this machine' : 'its group'}` : `${world ? 'world' : 'group'}-accessible`}.`,
        path: install.stateDir,
        install: install.id,
        evidence: sampleOf(
          exposures.slice(0, 8).map(({ entry, audience, how }) => `${octal(entry.mode)} ${audience}-${how} ${joinPath(install.stateDir, entry.path)}`),
          exposures.length,
          8,
        ),
        fix: {
          summary: 'Close the state dir and the secret files to other users.',
          commands: [`chmod 700 ${sh(install.stateDir)}`, `chmod -R go-rwx ${sh(install.stateDir)}`],
          actions,
        },
      });
    }
    if (baseline) reports.push(...openedSinceBaseline(machine, baseline));
    return reports;
  },
};
export default rule;

export interface Exposure {
  entry: FileEntry;
  audience: Audience;
  how: 'readable' | 'writable';
}

export function exposuresOf(entries: FileEntry[]): Exposure[] {
  // built on the first lookup: in a tidy state dir no entry's own bits let others in, and none is needed
  let map: Map<string, FileEntry> | undefined;
  const byPath: EntryLookup = { get: (relativePath) => (map ??= ancestorEntries(entries)).get(relativePath) };
  const found: Exposure[] = [];
  const run = parentRun();
  // by index: for…of allocates an iterator result per entry
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    const writable = writableBy(entry, byPath, run);
    if (writable) {
      found.push({ entry, audience: writable, how: 'writable' });
      continue;
    }
    const isRoot = entry.type === 'dir' && entry.path === '';
    // no group or other read bit of its own (most entries): nobody else reads it, secret or not, so its path
    // need not be matched against the secret names
    if (!isRoot && (entry.mode & 0o044) === 0) continue;
    const secret = entry.type === 'dir' ? isSecretDir(entry.path) : entry.type === 'file' && isSecretFile(entry.path);
    if (!secret) continue;
    const readable = isRoot ? rootAudience(entry) : readableBy(entry, byPath, run);
    if (readable) found.push({ entry, audience: readable, how: 'readable' });
  }
  return found;
}

/** The state dir itself should be 0700: any group/other bit is a finding. */
function rootAudience(entry: FileEntry): Audience | undefined {
  if (entry.mode & 0o007) return 'world';
  if (entry.mode & 0o070) return 'group';
  return undefined;
}

function tightened(entry: FileEntry): number {
  return entry.mode & ~0o077 & 0o7777;
}

/**
 * Baseline part: files the live check does not know as secret (cron jobs, paired nodes, delivery queue,
 * memory and plugin databases, media, …) that nobody else could read on the old machine (judged by the
 * whole path there) and that others can read here. The owner had them private; the copy opened them.
 */
function openedSinceBaseline(machine: Machine, baseline: Machine): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists) continue;
    const liveFound = new Set(exposuresOf(current.inventory.entries).map((item) => item.entry.path));
    // both maps built on first use: files whose own bits keep others out (most) need neither
    let before: ReadonlyMap<string, FileEntry> | undefined;
    const hereLookup: EntryLookup = { get: (relativePath) => entriesOf(current.inventory).get(relativePath) };
    const opened: { entry: FileEntry; audience: Audience }[] = [];
    const [hereRun, beforeRun] = [parentRun(), parentRun()];
    for (const entry of current.inventory.entries) {
      if (entry.type !== 'file' || (entry.mode & 0o044) === 0 || liveFound.has(entry.path) || NOT_COPIED.test(entry.path)) continue;
      const audience = readableBy(entry, hereLookup, hereRun);
      if (!audience) continue;
      before ??= entriesOf(match.baseline.inventory);
      const old = before.get(entry.path);
      if (old?.type === 'file' && readableBy(old, before, beforeRun) === undefined) opened.push({ entry, audience });
    }
    if (opened.length === 0) continue;
    const world = opened.some((item) => item.audience === 'world');
    reports.push({
      severity: world ? 'error' : 'warning',
      message: `${plural(opened.length, 'file')} in ${current.stateDir} that no other user could read on the old machine ${opened.length === 1 ? 'is' : 'are'} readable by ${world ? 'every user on this machine' : 'its group'} here.`,
      path: current.stateDir,
      install: current.id,
      evidence: sampleOf(
        opened.slice(0, 8).map(({ entry, audience }) => `${octal(entry.mode)} ${audience}-readable ${joinPath(current.stateDir, entry.path)}`),
        opened.length,
        8,
      ),
      fix: {
        summary: 'Close them to other users again, as they were on the old machine.',
        commands: [`chmod 700 ${sh(current.stateDir)}`, `chmod -R go-rwx ${sh(current.stateDir)}`],
        actions: opened.map(({ entry }) => ({ kind: 'chmod', path: joinPath(current.stateDir, entry.path), mode: tightened(entry) })),
      },
    });
  }
  return reports;
}
