import { expect, it } from 'vitest';
import { rule } from '../../../src/rules/copy/config-only.js';
import { isNeverOnboarded } from '../../../src/scan/install.js';
import { config, entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    { name: 'only resonix.json arrived', machine: machine([home([install(undefined, ['resonix.json', 'logs/', 'logs/config-audit.jsonl'])])]) },
  ],
  passes: [
    { name: 'a full file-based copy', machine: machine() },
    { name: 'a SQLite install', machine: machine([home([install(undefined, ['resonix.json', 'state/resonix.sqlite'])])]) },
    { name: 'a thin client has only a config by design', machine: machine([home([install(undefined, ['resonix.json'], { config: config({ gatewayMode: 'remote' }) })])]) },
    {
      // reference §12: a failed `gateway install --profile work` leaves resonix.json, .bak and logs/
      name: 'a profile that was never onboarded (generated config, .bak, logs) is what the old machine had',
      machine: machine([home([install('/home/alice/.resonix-work', ['resonix.json', 'resonix.json.bak', 'logs/', 'logs/config-audit.jsonl'], { profile: 'work', hasData: false, neverOnboarded: true })])]),
    },
    {
      name: 'a state dir this process cannot list is not judged',
      machine: (() => {
        const unseen = install(undefined, []);
        return machine([home([{ ...unseen, hasData: false, inventory: { ...unseen.inventory, unseen: { code: 'EACCES', uid: 1000 } } }])]);
      })(),
    },
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

it('isNeverOnboarded: a generated config and its logs, not an onboarded config copied alone', () => {
  const generated = config({ gatewayMode: 'local', agents: [], channels: [] });
  const files = entries(['', 'resonix.json', 'resonix.json.bak', 'logs/', 'logs/config-audit.jsonl', 'logs/config-health.json']);
  expect(isNeverOnboarded(generated, files)).toBe(true);
  // onboarding records itself, and adds agents or channels
  expect(isNeverOnboarded(config({ gatewayMode: 'local', wizardLastRunVersion: '2026.5.28', agents: [], channels: [] }), files)).toBe(false);
  expect(isNeverOnboarded(config({ gatewayMode: 'local', agents: [{ id: 'main' }], channels: [] }), files)).toBe(false);
  expect(isNeverOnboarded(config({ gatewayMode: 'local', agents: [], channels: ['telegram'] }), files)).toBe(false);
  // any other file is more than the install wrote; no gateway.mode is a clobbered config, not a generated one
  expect(isNeverOnboarded(generated, entries(['', 'resonix.json', 'cron/', 'cron/jobs.json']))).toBe(false);
  expect(isNeverOnboarded(config({ gatewayMode: undefined, agents: [], channels: [] }), files)).toBe(false);
});
