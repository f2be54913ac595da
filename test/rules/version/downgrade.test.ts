import { expect } from 'vitest';
import { rule } from '../../../src/rules/version/downgrade.js';
import { config, home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const written = (version: string) => install(undefined, undefined, { config: config({ lastTouchedVersion: version }) });
const sqliteInstall = (stateUser: number, agentUser: number) =>
  install(STATE, ['resonix.json', 'state/resonix.sqlite', 'agents/main/agent/resonix-agent.sqlite'], {
    generation: 'sqlite',
    sqlite: [
      { path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 10, userVersion: stateUser, size: 40960 },
      { path: 'agents/main/agent/resonix-agent.sqlite', valid: true, pageSize: 4096, pageCount: 10, userVersion: agentUser, size: 40960 },
    ],
  });
const served = (version: string | undefined, item = written('2026.9.6')) =>
  home([{ ...item, servedBy: ['/home/alice/.config/systemd/user/resonix-gateway.service'] }], {
    services: [service(STATE, version ? { resonixVersion: version } : {})],
  });

ruleCases(rule, {
  fires: [
    {
      name: 'config last written by a newer Resonix than the one on PATH',
      machine: machine([home([written('2026.9.6')])], { runtime: { resonixVersion: '2026.5.28', resonixSource: 'path' } }),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('2026.9.6');
        expect(reports[0]!.fix!.commands[0]).toBe('npm install -g resonix@2026.9.6');
      },
    },
    {
      name: 'a pre-release older than the release that wrote the config',
      machine: machine([home([written('2026.5.30')])], { runtime: { resonixVersion: '2026.5.30-beta.1' } }),
    },
    {
      name: 'no runtime: the service package is older (image)',
      phase: 'image',
      machine: machine([served('2026.5.28')], { mode: 'image' }),
      expect: (reports) => expect(reports[0]!.fix!.commands).toContain('resonix gateway install --force'),
    },
    {
      name: 'older than the version the baseline machine ran',
      machine: machine([home([written('2026.5.28')])], { runtime: { resonixVersion: '2026.5.28' } }),
      baseline: machine([home([written('2026.5.28')])], { runtime: { resonixVersion: '2026.10.1' } }),
    },
    {
      name: 'a state database with a newer schema than this build reads',
      machine: machine([home([sqliteInstall(19, 23)])], { runtime: { resonixVersion: '2026.9.6', schemaVersions: { state: 18, agent: 23 } } }),
      expect: (reports) => expect(reports[0]!.evidence!.join('\n')).toContain('state/resonix.sqlite: schema 19'),
    },
    {
      name: 'an agent database with a newer schema',
      machine: machine([home([sqliteInstall(18, 24)])], { runtime: { schemaVersions: { state: 18, agent: 23 } } }),
    },
  ],
  passes: [
    { name: 'same version', machine: machine([home([written('2026.9.6')])], { runtime: { resonixVersion: '2026.9.6' } }) },
    { name: 'newer build (2026.10.1 > 2026.9.6)', machine: machine([home([written('2026.9.6')])], { runtime: { resonixVersion: '2026.10.1' } }) },
    { name: 'no installed version known', machine: machine([home([written('2026.9.6')])]) },
    { name: 'no lastTouchedVersion', machine: machine([home([install()])], { runtime: { resonixVersion: '2026.5.28' } }) },
    { name: 'service package is the same version', phase: 'image', machine: machine([served('2026.9.6')], { mode: 'image' }) },
    {
      name: 'databases within the declared schemas',
      machine: machine([home([sqliteInstall(18, 23)])], { runtime: { resonixVersion: '2026.9.6', schemaVersions: { state: 18, agent: 23 } } }),
    },
    {
      name: 'baseline ran an older build',
      machine: machine([home([written('2026.9.6')])], { runtime: { resonixVersion: '2026.9.6' } }),
      baseline: machine([home([written('2026.5.28')])], { runtime: { resonixVersion: '2026.5.28' } }),
    },
  ],
});
