import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/sqlite-torn.js';
import type { FileEntry, Install, SqliteWal } from '../../../src/model.js';
import { home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

function wal(extra: Partial<SqliteWal> = {}): SqliteWal {
  return { path: 'state/resonix.sqlite-wal', size: 4152, headerValid: true, headerChecksumOk: true, pageSize: 4096, checkpointSeq: 0, wholeFrames: 1, trailingBytes: 0, framesRead: 1, ...extra };
}

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
    {
      name: 'verify: a -wal that ends inside a frame',
      phase: 'verify',
      machine: machine([home([install(undefined, [...files] as never, { sqliteWals: [wal({ size: 4120 + 4000, wholeFrames: 1, trailingBytes: 4000 })] })])]),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(['state/resonix.sqlite-wal: it ends 4000 bytes into a frame']),
    },
    {
      name: 'verify: frame headers without the header\'s salts, or a bad header checksum',
      phase: 'verify',
      machine: machine([home([install(undefined, [...files] as never, { sqliteWals: [wal({ saltMismatchAt: 0, headerChecksumOk: false })] })])]),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(["state/resonix.sqlite-wal: its header checksum does not match; its first frame does not carry the header's salts"]),
    },
    {
      name: 'verify: a -wal with frames and no database',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json', ['state/resonix.sqlite-wal', 0o600, undefined, { size: 4152 }]] as never, { sqliteWals: [wal()] })])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('the database beside it is missing'),
    },
    {
      name: 'verify: a database that is not a whole number of pages',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json'], { sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 2, size: 8192 + 100 }] })])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toBe('state/resonix.sqlite: 8292 bytes, not a whole number of 4096-byte pages'),
    },
    {
      name: 'inspect: a backup holds a -wal that is no whole number of frames',
      phase: 'inspect',
      machine: machine([home([install(undefined, ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 4100 }]] as never)])], { mode: 'image', root: '/tmp/backup.tgz' }),
      expect: (reports) => {
        expect(reports[0]!.message).toBe('The backup of /home/alice/.resonix holds torn SQLite -wal files: it was taken while the gateway was writing them.');
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
    { name: 'audit: a -wal on the live old machine is normal', phase: 'audit', machine: machine([home([install(undefined, [...files] as never, { sqliteWals: [wal()] })])]) },
    {
      // reference §12: 2026.5.28 stopped cleanly left tasks/runs.sqlite-wal of 32 + 19 × (24 + 4096) bytes
      name: 'verify: the -wal a clean stop leaves (whole frames, matching salts) is not torn',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json', ['tasks/runs.sqlite', 0o600, undefined, { size: 53248 }], ['tasks/runs.sqlite-wal', 0o600, undefined, { size: 78312 }]] as never, { sqlite: [{ path: 'tasks/runs.sqlite', valid: true, pageSize: 4096, pageCount: 13, size: 53248 }], sqliteWals: [wal({ path: 'tasks/runs.sqlite-wal', size: 78312, wholeFrames: 19, framesRead: 19 })] })])]),
    },
    {
      name: 'inspect: a backup whose -wal is whole frames',
      phase: 'inspect',
      machine: machine([home([install(undefined, ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 78312 }]] as never)])], { mode: 'image', root: '/tmp/backup.tgz' }),
    },
    {
      name: 'verify: frames left over from before a WAL restart (salts differ only at the end)',
      phase: 'verify',
      machine: machine([home([install(undefined, [...files] as never, { sqliteWals: [wal({ size: 32 + 3 * 4120, wholeFrames: 3, framesRead: 3, saltMismatchAt: 2 })] })])]),
    },
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
