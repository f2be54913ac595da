import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/unreadable.js';
import { entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'a root-owned 0700 credentials dir after sudo tar x',
      phase: 'verify',
      machine: machine([home([install(undefined, [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries(['resonix.json', ['credentials/', 0o700, 0], ['credentials/oauth.json', 0o600, 0]]) } })])]),
      expect: (reports) => {
        expect(reports[0]!.path).toBe('/home/alice/.resonix/credentials');
        expect(reports[0]!.message).toContain('and 1 entries below');
        expect(reports[0]!.fix!.actions![0]).toMatchObject({ kind: 'chown', path: '/home/alice/.resonix/credentials', recursive: true });
      },
    },
    {
      name: 'a config file with mode 0200',
      phase: 'verify',
      machine: machine([home([install(undefined, [['resonix.json', 0o200]])])]),
      expect: (reports) => expect(reports[0]!.fix!.actions![0]).toMatchObject({ kind: 'chmod', mode: 0o600 }),
    },
  ],
  passes: [
    { name: 'all readable by alice', phase: 'verify', machine: machine() },
    { name: 'root-owned but group-readable by alice', phase: 'verify', machine: machine([home([install(undefined, [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: [{ path: '', type: 'dir', mode: 0o750, uid: 0, gid: 1000, size: 1, mtimeMs: 0 }, { path: 'resonix.json', type: 'file', mode: 0o640, uid: 0, gid: 1000, size: 1, mtimeMs: 0 }] } })])]) },
  ],
});
