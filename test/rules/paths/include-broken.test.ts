import { expect } from 'vitest';
import type { IncludeCheck } from '../../../src/model.js';
import { rule } from '../../../src/rules/paths/include-broken.js';
import { HEALTHY_FILES, config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const CONFIG = `${STATE}/resonix.json`;

function check(value: string, resolved: string, extra: Partial<IncludeCheck> = {}): IncludeCheck {
  return { value, resolved, exists: true, outside: false, cycle: false, from: CONFIG, ...extra };
}

const withChecks = (includeChecks: IncludeCheck[]) =>
  machine([home([install(STATE, HEALTHY_FILES, { config: config({ includes: includeChecks.map((item) => item.value), includeChecks }) })])]);

ruleCases(rule, {
  fires: [
    {
      name: 'the include file was not copied',
      machine: withChecks([check('./channels.json5', `${STATE}/channels.json5`, { exists: false })]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('does not exist');
        expect(reports[0]!.fix!.commands).toEqual([`scp <old-host>:${STATE}/channels.json5 ${STATE}/channels.json5`, `chmod 600 ${STATE}/channels.json5`]);
      },
    },
    {
      name: 'an include from the old home that is missing is copied in and re-pointed',
      machine: withChecks([check('/Users/alice/.resonix/common.json5', '/Users/alice/.resonix/common.json5', { exists: false })]),
      expect: (reports) => expect(reports[0]!.fix!.commands[2]).toBe(`"\${EDITOR:-vi}" ${CONFIG}`),
    },
    {
      name: 'a symlink in the config dir leads outside it',
      machine: withChecks([check('common.json5', `${STATE}/common.json5`, { outside: true })]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('through a symlink');
        expect(reports[0]!.fix!.commands[0]).toBe(`cp ${STATE}/common.json5 ${STATE}/common.json5.copy`);
      },
    },
    {
      name: 'an include outside the config dir',
      machine: withChecks([check('/etc/resonix/resonix.json', '/etc/resonix/resonix.json', { outside: true })]),
      // never copied over the config itself
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe(`cp /etc/resonix/resonix.json ${STATE}/include-resonix.json`),
    },
    {
      name: 'an include cycle',
      machine: withChecks([check('a.json5', `${STATE}/a.json5`), check('./resonix.json', CONFIG, { cycle: true, from: `${STATE}/a.json5` })]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('cycle');
        expect(reports[0]!.fix!.commands).toEqual([`"\${EDITOR:-vi}" ${STATE}/a.json5`]);
      },
    },
    {
      name: 'includes nested 11 deep',
      phase: 'image',
      machine: withChecks([check('d11.json5', `${STATE}/d11.json5`, { tooDeep: true, from: `${STATE}/d10.json5` })]),
      expect: (reports) => expect(reports[0]!.message).toContain('limit of 10'),
    },
  ],
  passes: [
    { name: 'no includes', machine: machine() },
    { name: 'includes that resolve inside the config dir', machine: withChecks([check('./channels.json5', `${STATE}/channels.json5`), check('nested/t.json5', `${STATE}/nested/t.json5`)]) },
  ],
});
