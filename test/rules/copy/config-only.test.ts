import { rule } from '../../../src/rules/copy/config-only.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    { name: 'only resonix.json arrived', machine: machine([home([install(undefined, ['resonix.json', 'logs/', 'logs/config-audit.jsonl'])])]) },
  ],
  passes: [
    { name: 'a full file-based copy', machine: machine() },
    { name: 'a SQLite install', machine: machine([home([install(undefined, ['resonix.json', 'state/resonix.sqlite'])])]) },
    { name: 'a thin client has only a config by design', machine: machine([home([install(undefined, ['resonix.json'], { config: config({ gatewayMode: 'remote' }) })])]) },
    { name: 'no config at all (state/not-found says that)', machine: machine([home([install(undefined, [], { config: config({ exists: false }) })])]) },
    {
      name: 'the scan stopped at its entry limit before the data (--max-entries): absence cannot be told',
      machine: (() => {
        const cut = install(undefined, ['resonix.json']);
        return machine([home([{ ...cut, hasData: false, inventory: { ...cut.inventory, truncated: true } }])]);
      })(),
    },
  ],
});
