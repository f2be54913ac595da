import type { FileEntry, FixAction, Rule, RuleReport } from '../../model.js';
import { entryMap, installsOf, isSecretDir, isSecretFile, joinPath, octal, plural, readableBy, sample, sh, writableBy, type Audience } from '../lib.js';

interface Exposure {
  entry: FileEntry;
  audience: Audience;
  how: 'readable' | 'writable';
}

function exposuresOf(entries: FileEntry[]): Exposure[] {
  const byPath = entryMap({ root: '', exists: true, entries });
  const found: Exposure[] = [];
  for (const entry of entries) {
    const writable = writableBy(entry, byPath);
    if (writable) {
      found.push({ entry, audience: writable, how: 'writable' });
      continue;
    }
    const secret = entry.type === 'dir' ? isSecretDir(entry.path) : entry.type === 'file' && isSecretFile(entry.path);
    if (!secret) continue;
    const readable = entry.type === 'dir' && entry.path === '' ? rootAudience(entry) : readableBy(entry, byPath);
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

export const rule: Rule = {
  meta: {
    id: 'perms/secrets-exposed',
    title: 'Secrets readable by other users',
    severity: 'error',
    phases: ['audit', 'verify', 'image'],
    description:
      'The state dir should be 0700 and config, .env, credentials, auth profiles, sessions and SQLite databases 0600; nothing in it group- or world-writable. Exposure is judged by the whole path: a 0644 file under a 0700 dir is not readable by others. World exposure is an error, group exposure a warning.',
    why: 'A copy made with a loose umask, `cp` without -p or as root can leave API keys, OAuth tokens and chat logins readable by every user on the machine.',
    fix: 'chmod 700 the state dir and 600 the secret files.',
    autofix: true,
    tags: ['security'],
  },
  check({ machine }) {
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
        evidence: sample(exposures.map(({ entry, audience, how }) => `${octal(entry.mode)} ${audience}-${how} ${joinPath(install.stateDir, entry.path)}`), 8),
        fix: {
          summary: 'Close the state dir and the secret files to other users.',
          commands: [`chmod 700 ${sh(install.stateDir)}`, `chmod -R go-rwx ${sh(install.stateDir)}`],
          actions,
        },
      });
    }
    return reports;
  },
};
export default rule;
