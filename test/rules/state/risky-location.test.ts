import { rule } from '../../../src/rules/state/risky-location.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const icloud = '/Users/alice/Library/Mobile Documents/com~apple~CloudDocs/resonix';

ruleCases(rule, {
  fires: [
    { name: 'state dir in iCloud Drive', machine: machine([home([install(icloud)])]) },
    { name: 'state dir on tmpfs', machine: machine([home([install(undefined, undefined, { fsType: 'tmpfs' })])]) },
    {
      name: 'a workspace in Dropbox',
      machine: machine([home([install(undefined, undefined, { workspaces: [{ agentId: 'main', path: '/home/alice/Dropbox/agent', source: 'config', inventory: { root: '/home/alice/Dropbox/agent', exists: true, entries: [] } }] })])]),
    },
  ],
  passes: [
    { name: 'local disk', machine: machine([home([install(undefined, undefined, { fsType: 'ext4' })])]) },
    { name: 'a configured Dropbox workspace that does not exist here', machine: machine([home([install(undefined, undefined, { workspaces: [{ agentId: 'main', path: '/home/alice/Dropbox/agent', source: 'config', inventory: { root: '/home/alice/Dropbox/agent', exists: false, entries: [] } }] })])]) },
  ],
});
