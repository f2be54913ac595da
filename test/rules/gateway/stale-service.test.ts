import { expect } from 'vitest';
import { rule } from '../../../src/rules/gateway/stale-service.js';
import { home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const UNIT = '/home/alice/.config/systemd/user/resonix-gateway.service';
const NVM = '/home/alice/.nvm/versions/node/v22.19.0';

ruleCases(rule, {
  fires: [
    {
      name: 'the old machine\'s nvm node and script',
      machine: machine([
        home([{ ...install(), servedBy: [UNIT] }], {
          services: [service(STATE, { execStart: [`${NVM}/bin/node`, `${NVM}/lib/node_modules/resonix/dist/index.js`, 'gateway'], missingPaths: [`${NVM}/bin/node`, `${NVM}/lib/node_modules/resonix/dist/index.js`] })],
        }),
      ]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('version manager');
        expect(reports[0]!.fix!.commands[0]).toBe('resonix gateway install --force');
      },
    },
    {
      name: 'a system unit in an image with a missing working dir',
      phase: 'image',
      machine: machine([home([install()], { services: [service(STATE, { kind: 'systemd-system', path: '/etc/systemd/system/resonix-gateway.service', user: 'alice', missingPaths: ['/Users/alice'] })] })], { mode: 'image' }),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toContain('sudo systemctl edit --full'),
    },
  ],
  passes: [
    { name: 'every path exists', machine: machine([home([install()], { services: [service(STATE, { missingPaths: [] })] })]) },
    { name: 'paths not checked', machine: machine([home([install()], { services: [service(STATE)] })]) },
    { name: 'no service', machine: machine() },
  ],
});
