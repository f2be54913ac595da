import type { BackupArchive, Rule, RuleReport } from '../../model.js';
import { SYNCED_FOLDER, octal, sh } from '../lib.js';

const WEB_SERVED = /^(\/var\/www|\/srv\/(www|http)|\/usr\/share\/nginx|\/usr\/share\/httpd)(\/|$)|\/(public_html|Sites|www|htdocs)(\/|$)/;

export function exposureReasons(archive: Pick<BackupArchive, 'path' | 'mode' | 'inTempDir'>): string[] {
  const reasons: string[] = [];
  if (archive.mode & 0o004) reasons.push(`world-readable (${octal(archive.mode)})`);
  else if (archive.mode & 0o040) reasons.push(`group-readable (${octal(archive.mode)})`);
  if (archive.inTempDir) reasons.push('in a temporary dir other users can list');
  if (SYNCED_FOLDER.test(archive.path)) reasons.push('in a synced folder (copied to the cloud)');
  if (WEB_SERVED.test(archive.path)) reasons.push('in a web-served dir');
  return reasons;
}

export const rule: Rule = {
  meta: {
    id: 'secrets/backup-exposed',
    title: 'Backup stored where others can read it',
    severity: 'warning',
    phases: ['audit', 'verify', 'image', 'inspect'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description: 'A backup of the state (encrypted or not) is group- or world-readable, or sits in /tmp, a synced folder or a web-served dir.',
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
      reports.push({
        message: `Backup ${archive.path}${archive.encrypted ? ' (encrypted)' : ''} is ${reasons.join(', ')}.`,
        path: archive.path,
        evidence: reasons,
        fix: {
          summary: loose ? 'Make it private, and keep it out of shared places.' : 'Move it to private storage.',
          commands: [...(loose ? [`chmod 600 ${sh(archive.path)}`] : []), `mv ${sh(archive.path)} ~/private-backups/   # a dir only you can read, not synced`],
          ...(loose ? { actions: [{ kind: 'chmod' as const, path: archive.path, mode: archive.mode & ~0o077 & 0o7777 }] } : {}),
        },
      });
    }
    return reports;
  },
};
export default rule;
