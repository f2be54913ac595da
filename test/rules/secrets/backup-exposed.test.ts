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
    {
      name: 'a private backup left in /tmp: the private dir is made first, then the move',
      machine: machine(undefined, { archives: [archive({ path: '/tmp/resonix.tgz', inTempDir: true, reachableBy: 'world' })] }),
      expect: (reports) => expect(reports[0]!.fix!.commands).toEqual(['mkdir -p -m 700 ~/private-backups', 'mv /tmp/resonix.tgz ~/private-backups/   # not synced, not served']),
    },
    {
      name: 'a 0644 backup under a 0755 chain: world-readable, and chmod 600 is all it takes',
      machine: machine(undefined, { archives: [archive({ mode: 0o644, reachableBy: 'world' })] }),
      expect: (reports) => {
        expect(reports[0]!.evidence).toEqual(['world-readable (0644)']);
        expect(reports[0]!.fix!.commands).toEqual(['chmod 600 /home/alice/backups/resonix.tgz.age']);
      },
    },
    {
      name: 'a 0644 backup in a dir only its group can search: group-readable',
      machine: machine(undefined, { archives: [archive({ mode: 0o644, reachableBy: 'group' })] }),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(['group-readable (0644)']),
    },
    { name: 'a backup in Dropbox', machine: machine(undefined, { archives: [archive({ path: '/home/alice/Dropbox/resonix.tgz.age' })] }) },
  ],
  passes: [
    { name: 'a 0600 encrypted backup in a private dir', machine: machine(undefined, { archives: [archive({})] }) },
    // reference §11: judged by the whole path
    { name: 'a 0644 backup in a 0700 home is not readable by others', machine: machine(undefined, { archives: [archive({ mode: 0o644, reachableBy: 'owner' })] }) },
  ],
});
