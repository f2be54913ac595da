import { rule } from '../../../src/rules/remote/stale-local-state.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [{ name: 'remote mode with sessions and credentials still here', machine: machine([home([install(undefined, undefined, { config: config({ gatewayMode: 'remote' }) })])]) }],
  passes: [
    { name: 'a clean thin client', machine: machine([home([install(undefined, ['resonix.json', 'state/resonix.sqlite'], { config: config({ gatewayMode: 'remote' }) })])]) },
    { name: 'a local gateway with state', machine: machine() },
  ],
});
