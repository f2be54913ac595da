import { expect } from 'vitest';
import { rule } from '../../../src/rules/remote/client-only.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'gateway.mode remote',
      machine: machine([home([install(undefined, ['resonix.json'], { config: config({ gatewayMode: 'remote', remoteUrl: 'wss://gw.example.net:18789/' }) })])]),
      expect: (reports) => expect(reports[0]!.message).toContain('wss://gw.example.net:18789/'),
    },
  ],
  passes: [
    { name: 'a local gateway', machine: machine() },
    {
      name: 'a thin-client profile that neither the CLI nor a service uses',
      machine: machine([home([install(), install('/home/alice/.resonix-work', ['resonix.json'], { active: false, config: config({ gatewayMode: 'remote' }) })])]),
    },
  ],
});
