import type { BackupArchive, Rule, RuleReport } from '../../model.js';
import { SYNCED_FOLDER, octal, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'secrets/backup-exposed',
    title: 'Backup stored where others can read it',
    severity: 'warning',
    phases: ['audit', 'verify', 'image', 'inspect'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description: 'A backup of the state (encrypted or not) is group- or world-readable, judged by the whole path (a 0644 archive in a 0700 home is not readable by others), or sits in /tmp, a synced folder or a web-served dir.',
    why: 'Even an encrypted backup should not be handed to every user, cloud provider or web visitor; a plain one gives away every secret.',
    fix: 'chmod 600 it and move it to private storage.',
    autofix: true,
    tags: ['security'],
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const archive of machine.archives) {
      if (!archive.holdsResonixState) continue;
      const reasons = exposureReasons(archive);
      if (reasons.length === 0) continue;
      const loose = (archive.mode & 0o077) !== 0;
      // only a shared place needs a move; a loose mode in a private place needs the chmod alone
      const shared = archive.inTempDir === true || SYNCED_FOLDER.test(archive.path) || WEB_SERVED.test(archive.path);
      reports.push({
        message: `Backup ${archive.path}${archive.encrypted ? ' (encrypted)' : ''} is ${reasons.join(', ')}.`,
        path: archive.path,
        evidence: reasons,
        fix: {
          summary: shared ? (loose ? 'Make it private, and move it out of the shared place into a dir only you can read.' : 'Move it into a dir only you can read.') : 'Make it private.',
          commands: [
            ...(loose ? [`chmod 600 ${sh(archive.path)}`] : []),
            // the dir is created first (and private), so the mv cannot turn into a rename to a file of that name
            ...(shared ? ['mkdir -p -m 700 ~/private-backups', `mv ${sh(archive.path)} ~/private-backups/   # not synced, not served`] : []),
          ],
          ...(loose ? { actions: [{ kind: 'chmod' as const, path: archive.path, mode: archive.mode & ~0o077 & 0o7777 }] } : {}),
        },
      });
    }
    return reports;
  },
};
export default rule;

const WEB_SERVED = /^(\/var\/www|\/srv\/(www|http)|\/usr\/share\/nginx|\/usr\/share\/httpd)(\/|$)|\/(public_html|Sites|www|htdocs)(\/|$)/;

/**
 * Why others can get at a backup. Readability is judged by the whole path (reference §11): a 0644 file in a
 * 0700 home is not readable by others, since they cannot reach it (`reachableBy`, from the scan).
 */
export function exposureReasons(archive: Pick<BackupArchive, 'path' | 'mode' | 'inTempDir' | 'reachableBy'>): string[] {
  const reasons: string[] = [];
  const reach = archive.reachableBy ?? 'world';
  if (archive.mode & 0o004 && reach === 'world') reasons.push(`world-readable (${octal(archive.mode)})`);
  else if (archive.mode & 0o044 && reach !== 'owner') reasons.push(`group-readable (${octal(archive.mode)})`);
  if (archive.inTempDir) reasons.push('in a temporary dir other users can list');
  if (SYNCED_FOLDER.test(archive.path)) reasons.push('in a synced folder (copied to the cloud)');
  if (WEB_SERVED.test(archive.path)) reasons.push('in a web-served dir');
  return reasons;
}
