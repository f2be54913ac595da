import { expect } from 'vitest';
import { rule } from '../../../src/rules/gateway/running.js';
import { config, home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const UNIT = '/home/alice/.config/systemd/user/resonix-gateway.service';
const lock = (alive: boolean) => ({ path: '/tmp/resonix-1000/gateway.1a2b3c4d.lock', pid: 6047, configPath: `${STATE}/resonix.json`, alive, generation: 'file' as const });

ruleCases(rule, {
  fires: [
    {
      name: 'a lock with a live pid',
      machine: machine([home([{ ...install(), servedBy: [UNIT] }], { locks: [lock(true)], services: [service(STATE)] })]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.fix!.commands).toEqual(['resonix gateway stop', expect.stringContaining('systemctl --user disable --now resonix-gateway.service')]);
      },
    },
    { name: 'the default port answers on loopback', machine: machine([home()], { runtime: { openPorts: [18789] } }) },
    { name: 'the configured port answers', machine: machine([home([install(undefined, undefined, { config: config({ port: 19001 }) })])], { runtime: { openPorts: [19001] } }) },
    {
      name: 'the service RESONIX_GATEWAY_PORT answers',
      machine: machine([home([{ ...install(), servedBy: [UNIT] }], { services: [service(STATE, { env: { HOME: '/home/alice', RESONIX_GATEWAY_PORT: '18800' } })] })], {
        runtime: { openPorts: [18800] },
      }),
    },
  ],
  passes: [
    { name: 'a stale lock (dead pid)', machine: machine([home([install()], { locks: [lock(false)] })]) },
    { name: 'another port open', machine: machine([home()], { runtime: { openPorts: [22, 8080] } }) },
    { name: 'configured port closed, default open', machine: machine([home([install(undefined, undefined, { config: config({ port: 19001 }) })])], { runtime: { openPorts: [18789] } }) },
    { name: 'remote client', machine: machine([home([install(undefined, undefined, { config: config({ gatewayMode: 'remote' }) })])], { runtime: { openPorts: [18789] } }) },
  ],
});
