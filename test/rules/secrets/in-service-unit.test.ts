import { expect } from 'vitest';
import { rule } from '../../../src/rules/secrets/in-service-unit.js';
import { home, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'RESONIX_GATEWAY_TOKEN baked into the unit',
      machine: machine([home(undefined, { services: [service('/home/alice/.resonix', { envKeys: ['HOME', 'RESONIX_GATEWAY_TOKEN'], secretEnvKeys: ['RESONIX_GATEWAY_TOKEN'] })] })]),
      expect: (reports) => {
        expect(reports[0]!.evidence).toEqual(['RESONIX_GATEWAY_TOKEN=[masked]']);
        expect(reports[0]!.fix!.commands[0]).toBe("echo 'RESONIX_GATEWAY_TOKEN=…' >> /home/alice/.resonix/.env");
      },
    },
  ],
  passes: [{ name: 'a unit with only paths and markers', machine: machine([home(undefined, { services: [service('/home/alice/.resonix')] })]) }],
});
