import { expect } from 'vitest';
import type { BackupArchive } from '../../../src/model.js';
import { rule } from '../../../src/rules/secrets/backup-exposed.js';
import { machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const archive = (extra: Partial<BackupArchive>): BackupArchive => ({
  path: '/home/alice/backups/resonix.tgz.age',
  format: 'age',
  encrypted: true,
  mode: 0o600,
  uid: 1000,
  gid: 1000,
  size: 1000,
  holdsResonixState: true,
  secretMembers: [],
  ...extra,
});

ruleCases(rule, {
  fires: [
    {
      name: 'a world-readable backup',
      machine: machine(undefined, { archives: [archive({ mode: 0o644 })] }),
      expect: (reports) => expect(reports[0]!.fix!.actions).toEqual([{ kind: 'chmod', path: '/home/alice/backups/resonix.tgz.age', mode: 0o600 }]),
    },
    { name: 'a private backup left in /tmp', machine: machine(undefined, { archives: [archive({ path: '/tmp/resonix.tgz', inTempDir: true })] }) },
    { name: 'a backup in Dropbox', machine: machine(undefined, { archives: [archive({ path: '/home/alice/Dropbox/resonix.tgz.age' })] }) },
  ],
  passes: [{ name: 'a 0600 encrypted backup in a private dir', machine: machine(undefined, { archives: [archive({})] }) }],
});
