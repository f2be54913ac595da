import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/sqlite-torn.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const files = ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 8192 }], ['state/resonix.sqlite-wal', 0o600, undefined, { size: 4120 }]] as const;

ruleCases(rule, {
  fires: [
    {
      name: 'a database shorter than its header says',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json'], { sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 10, size: 8192 }] })])]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toBe('state/resonix.sqlite: 8192 bytes, the header says 40960'),
    },
    { name: 'verify: a database arrived with a non-empty -wal', phase: 'verify', machine: machine([home([install(undefined, [...files] as never)])]) },
  ],
  passes: [
    { name: 'a whole database', phase: 'verify', machine: machine([home([install(undefined, ['resonix.json'], { sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 2, size: 8192 }] })])]) },
    { name: 'audit: a -wal on the live old machine is normal', phase: 'audit', machine: machine([home([install(undefined, [...files] as never)])]) },
    {
      name: 'verify: re-index temp databases keep their -wal',
      phase: 'verify',
      machine: machine([home([install(undefined, ['resonix.json', 'agents/main/agent/resonix-agent.sqlite.memory-reindex-1', ['agents/main/agent/resonix-agent.sqlite.memory-reindex-1-wal', 0o644, undefined, { size: 341992 }]])])]),
    },
  ],
});
