import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/config-invalid.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'a config with a syntax error',
      machine: machine([home([install(undefined, undefined, { config: config({ parseError: { message: "invalid character '}'", line: 3, column: 5 } }) })])]),
      expect: (reports) => expect(reports[0]!.message).toContain('line 3, column 5'),
    },
  ],
  passes: [{ name: 'a valid config', machine: machine() }],
});
