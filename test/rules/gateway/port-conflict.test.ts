import { expect } from 'vitest';
import { rule } from '../../../src/rules/gateway/port-conflict.js';
import { config, entries, HEALTHY_FILES, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const lock = (alive: boolean, configPath = `${STATE}/resonix.json`) => ({ path: '/tmp/resonix-1000/gateway.1a2b3c4d.lock', pid: 6047, configPath, alive, generation: 'file' as const });
const sqliteLock = (size: number) =>
  install(STATE, undefined, { inventory: { root: STATE, exists: true, entries: entries([...HEALTHY_FILES, ['tmp/resonix-1000/gateway.0123abcd.lock.sqlite', 0o644, undefined, { size }]]) } });

ruleCases(rule, {
  fires: [
    {
      name: 'default port taken, no lock',
      machine: machine([home()], { runtime: { openPorts: [18789] } }),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toContain("ss -ltnp 'sport = :18789'"),
    },
    { name: 'configured port taken, only a stale lock', machine: machine([home([install(undefined, undefined, { config: config({ port: 19001 }) })], { locks: [lock(false)] })], { runtime: { openPorts: [19001] } }) },
    { name: 'a live lock of another profile\'s gateway', machine: machine([home([install()], { locks: [lock(true, '/home/alice/.resonix-work/resonix.json')] })], { runtime: { openPorts: [18789] } }) },
    { name: 'an idle (empty) SQLite gateway lock', machine: machine([home([sqliteLock(0)])], { runtime: { openPorts: [18789] } }) },
  ],
  passes: [
    { name: 'our gateway holds it (live lock)', machine: machine([home([install()], { locks: [lock(true)] })], { runtime: { openPorts: [18789] } }) },
    { name: 'our SQLite-generation gateway holds its lock', machine: machine([home([sqliteLock(4096)])], { runtime: { openPorts: [18789] } }) },
    { name: 'port free', machine: machine([home()], { runtime: { openPorts: [] } }) },
    { name: 'ports not probed', machine: machine() },
    { name: 'remote client', machine: machine([home([install(undefined, undefined, { config: config({ gatewayMode: 'remote' }) })])], { runtime: { openPorts: [18789] } }) },
  ],
});
