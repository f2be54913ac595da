import type { Rule, RuleReport } from '../../model.js';
import { sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'secrets/unencrypted-backup',
    title: 'Backup of secrets is not encrypted',
    severity: 'error',
    phases: ['audit', 'verify', 'image', 'inspect'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description:
      'An archive (tar, tar.gz, zip, …; recognised by its bytes, not its name) holds Resonix state with secrets (config with tokens, .env, credentials, auth profiles, SQLite) and its bytes show no encryption (age, OpenPGP, openssl enc, encrypted zip entries).',
    why: 'Anyone who gets the file gets the API keys, OAuth refresh tokens and channel logins in it; backups travel to USB sticks, cloud drives and old laptops.',
    fix: 'Encrypt it (age or gpg -c) and delete the plain copy.',
    tags: ['security'],
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const archive of machine.archives) {
      if (!archive.holdsResonixState || archive.secretMembers.length === 0) continue;
      if (archive.encrypted && !archive.partlyEncrypted) continue;
      const kind = archive.partlyEncrypted ? `${archive.format} archive with some entries unencrypted` : `unencrypted ${archive.format} archive`;
      reports.push({
        message: `${archive.path} is an ${kind} holding Resonix secrets: anyone who gets the file gets the keys and logins in it.`,
        path: archive.path,
        evidence: sample(archive.secretMembers),
        fix: {
          summary: 'Encrypt it, then delete the plain copy.',
          commands: [`age -p -o ${sh(`${archive.path}.age`)} ${sh(archive.path)}`, `shred -u ${sh(archive.path)}   # once the encrypted copy is verified`],
        },
      });
    }
    return reports;
  },
};
export default rule;
