import { describe, expect, it } from 'vitest';
import { nodeRangeForResonix, nodeSatisfies } from '../../../src/knowledge/versions.js';
import { rule } from '../../../src/rules/version/node-unsupported.js';
import { config, home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const UNIT = '/home/alice/.config/systemd/user/resonix-gateway.service';
const NVM_NODE = '/home/alice/.nvm/versions/node/v22.19.0/bin/node';
const written = (version?: string) => install(undefined, undefined, version ? { config: config({ lastTouchedVersion: version }) } : {});
const withService = (extra: Parameters<typeof service>[1], version = '2026.9.6') =>
  home([{ ...written(version), servedBy: [UNIT] }], { services: [service(STATE, extra)] });

describe('node ranges', () => {
  it('maps releases to their engines.node', () => {
    expect(nodeRangeForResonix('2026.4.2')).toBe('>=22.14.0');
    expect(nodeRangeForResonix('2026.5.27')).toBe('>=22.14.0');
    expect(nodeRangeForResonix('2026.5.28')).toBe('>=22.19.0');
    expect(nodeRangeForResonix('2026.9.6-beta.1')).toBe('>=22.19.0');
    expect(nodeRangeForResonix('2026.9.6')).toBe('>=24.16.0 <25 || >=26.1.0');
    expect(nodeRangeForResonix('2026.10.1')).toBe('>=24.16.0 <25 || >=26.1.0');
    expect(nodeRangeForResonix('nonsense')).toBeUndefined();
  });
  it('judges full and major-only versions', () => {
    expect(nodeSatisfies('v25.2.0', '>=24.16.0 <25 || >=26.1.0')).toBe('too-old');
    expect(nodeSatisfies('24.16.0', '>=24.16.0 <25 || >=26.1.0')).toBe('ok');
    expect(nodeSatisfies('22', '>=24.16.0 <25 || >=26.1.0')).toBe('too-old');
    expect(nodeSatisfies('24', '>=24.16.0 <25 || >=26.1.0')).toBe('unknown');
  });
});

ruleCases(rule, {
  fires: [
    {
      name: 'service node 22 below the installed package range',
      machine: machine([withService({ nodeVersion: '22.19.0' })], { runtime: { resonixVersion: '2026.9.6', nodeRange: '>=24.16.0 <25 || >=26.1.0' } }),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe('nvm install 24 && resonix gateway install --force'),
    },
    {
      name: 'no range known: the table for the version that wrote the config (image)',
      phase: 'image',
      machine: machine([withService({ nodeVersion: '22.19.0' })], { mode: 'image' }),
    },
    {
      name: 'service node binary is missing',
      machine: machine([withService({ execStart: [NVM_NODE, '/usr/lib/node_modules/resonix/dist/index.js', 'gateway'], missingPaths: [NVM_NODE] })]),
      expect: (reports) => expect(reports[0]!.message).toContain('does not exist'),
    },
    {
      name: 'service runs Bun',
      machine: machine([withService({ execStart: ['/home/alice/.bun/bin/bun', '/usr/lib/node_modules/resonix/dist/index.js', 'gateway'] })]),
    },
    {
      name: 'node on PATH too old for an install no service runs',
      machine: machine([home([written('2026.5.28')])], { runtime: { nodeVersion: '22.14.0', nodePath: '/usr/bin/node' } }),
      expect: (reports) => expect(reports[0]!.message).toContain('>=22.19.0'),
    },
    {
      name: 'resonix on PATH but no node at all',
      machine: machine([home([written('2026.9.6')])], { runtime: { resonixVersion: '2026.9.6', resonixSource: 'path' } }),
    },
  ],
  passes: [
    {
      name: 'service node satisfies the range',
      machine: machine([withService({ nodeVersion: '24.16.0' })], { runtime: { resonixVersion: '2026.9.6', nodeRange: '>=24.16.0 <25 || >=26.1.0' } }),
    },
    { name: 'service node version unknown', machine: machine([withService({})]) },
    { name: 'no versions known anywhere', machine: machine([home([written()])], { runtime: { nodeVersion: '18.0.0' } }) },
    { name: 'node on PATH is new enough', machine: machine([home([written('2026.9.6')])], { runtime: { nodeVersion: '26.1.0', nodePath: '/usr/bin/node' } }) },
    { name: 'no runtime and no service', machine: machine([home([written('2026.9.6')])]) },
  ],
});
