import { rule } from '../../../src/rules/remote/mode-unset.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const unset = config();
delete unset.gatewayMode;

ruleCases(rule, {
  fires: [{ name: 'no gateway.mode in the config', phase: 'verify', machine: machine([home([install(undefined, undefined, { config: unset })])]) }],
  passes: [
    { name: 'gateway.mode local', phase: 'verify', machine: machine() },
    { name: 'a config that does not parse (state/config-invalid says it)', phase: 'verify', machine: machine([home([install(undefined, undefined, { config: { ...unset, parseError: { message: 'x' } } })])]) },
  ],
});
