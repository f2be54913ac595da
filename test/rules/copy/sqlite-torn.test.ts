import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/sqlite-torn.js';
import type { FileEntry, Install } from '../../../src/model.js';
import { home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const files = ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 4120 }]] as const;

function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}
const withWal = oldMachine([install('/Users/alice/.resonix', [...files] as never)]);
const dbOnly = (extra: Partial<FileEntry> = {}) => machine([home([install('/home/alice/.resonix', ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192, ...extra }]] as never)])]);

ruleCases(rule, {
  fires: [
    {
      name: 'a database shorter than its header says',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json'], { sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 10, size: 8192 }] })])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toBe('state/resonix.sqlite: 8192 bytes, the header says 40960'),
    },
    { name: 'verify: a database arrived with a non-empty -wal', phase: 'verify', machine: machine([home([install(undefined, [...files] as never)])]) },
    {
      name: 'inspect: a backup holds a non-empty -wal: taken live',
      phase: 'inspect',
      machine: machine([home([install(undefined, [...files] as never)])], { mode: 'image', root: '/tmp/backup.tgz' }),
      expect: (reports) => {
        expect(reports[0]!.message).toBe('The backup of /home/alice/.resonix holds un-checkpointed SQLite -wal files: it was taken while the gateway was running.');
        expect(reports[0]!.fix!.commands).toContain('resonix backup create --verify');
      },
    },
    {
      name: 'baseline: the old -wal was left behind, the database arrived unchanged',
      phase: 'verify',
      baseline: withWal,
      machine: dbOnly(),
      expect: (reports) => {
        expect(reports[0]!.path).toBe('/home/alice/.resonix/state/resonix.sqlite-wal');
        expect(reports[0]!.evidence).toEqual(['state/resonix.sqlite-wal: 4120 bytes in the baseline, missing here beside an unchanged state/resonix.sqlite']);
        expect(reports[0]!.fix!.commands[1]).toBe('rsync -a <old-host>:/Users/alice/.resonix/ /home/alice/.resonix/');
      },
    },
    {
      name: 'inspect against a manifest: the backup left the -wal out',
      phase: 'inspect',
      baseline: withWal,
      machine: machine([home([install('/Users/alice/.resonix', ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }]] as never)], { path: '/Users/alice' })], { mode: 'image', root: '/tmp/backup.tgz' }),
    },
  ],
  passes: [
    { name: 'a whole database', phase: 'verify', machine: machine([home([install(undefined, ['resonix.json'], { sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 2, size: 8192 }] })])]) },
    { name: 'audit: a -wal on the live old machine is normal', phase: 'audit', machine: machine([home([install(undefined, [...files] as never)])]) },
    {
      name: 'verify: re-index temp databases keep their -wal',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json', 'agents/main/agent/resonix-agent.sqlite.memory-reindex-1', ['agents/main/agent/resonix-agent.sqlite.memory-reindex-1-wal', 0o644, undefined, { size: 341992 }]])])]),
    },
    { name: 'baseline: the database changed here since (opened and checkpointed)', phase: 'verify', baseline: withWal, machine: dbOnly({ size: 12288 }) },
    {
      name: 'baseline: same size but another sha256: checkpointed here',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192, sha256: 'a'.repeat(64) }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 4120 }]] as never)]),
      machine: dbOnly({ sha256: 'b'.repeat(64) } as Partial<FileEntry>),
    },
    {
      name: 'baseline: an empty -wal carries nothing',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 0 }]] as never)]),
      machine: dbOnly(),
    },
  ],
});
