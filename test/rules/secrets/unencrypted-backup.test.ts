import { expect } from 'vitest';
import type { BackupArchive } from '../../../src/model.js';
import { rule } from '../../../src/rules/secrets/unencrypted-backup.js';
import { machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const archive = (extra: Partial<BackupArchive>): BackupArchive => ({
  path: '/home/alice/resonix-backup.tgz',
  format: 'tar.gz',
  encrypted: false,
  mode: 0o600,
  uid: 1000,
  gid: 1000,
  size: 1000,
  holdsResonixState: true,
  secretMembers: ['.resonix/resonix.json', '.resonix/credentials/oauth.json'],
  ...extra,
});

ruleCases(rule, {
  fires: [
    {
      name: 'a plain tgz of the state dir',
      machine: machine(undefined, { archives: [archive({})] }),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toContain('age -p'),
    },
    { name: 'a zip with some entries unencrypted', machine: machine(undefined, { archives: [archive({ format: 'zip', encrypted: true, partlyEncrypted: true })] }) },
  ],
  passes: [
    { name: 'an age-encrypted backup', machine: machine(undefined, { archives: [archive({ format: 'age', encrypted: true, secretMembers: [] })] }) },
    { name: 'an archive of the workspace only', machine: machine(undefined, { archives: [archive({ secretMembers: [] })] }) },
  ],
});
