import { expect, it } from 'vitest';
import { profileOfUnit, rule } from '../../../src/rules/state/profile-mismatch.js';
import { home, install, machine, resolution, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'a profile unit that runs another profile than the one it is named for',
      machine: machine([
        home([install(), install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work' })], {
          services: [service('/home/alice/.resonix', { name: 'resonix-gateway-work.service', path: '/home/alice/.config/systemd/user/resonix-gateway-work.service', env: { HOME: '/home/alice', RESONIX_PROFILE: 'work' } })],
        }),
      ]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('named for profile work (/home/alice/.resonix-work)');
        expect(reports[0]!.fix!.commands).toEqual(['resonix --profile work gateway install --force', 'resonix --profile work doctor']);
      },
    },
    {
      name: 'the service runs another profile than the CLI',
      machine: machine([home([install()], { services: [service('/home/alice/.resonix-work', { env: { HOME: '/home/alice', RESONIX_STATE_DIR: '/home/alice/.resonix-work' } })] })]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('/home/alice/.resonix-work');
        expect(reports[0]!.fix!.commands[0]).toContain('gateway install --force');
      },
    },
    {
      name: 'the data was copied into a profile dir but the default will run',
      machine: machine([
        home([install('/home/alice/.resonix', [], { hasData: false }), install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work' })]),
      ]),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe('resonix --profile work gateway install --force'),
    },
  ],
  passes: [
    {
      // reference §12: `gateway install` and `--profile work gateway install` each write a unit; each serves its own profile
      name: 'one unit per profile, each running the profile it is named for (not the CLI default)',
      machine: machine([
        home([install(), install('/home/alice/.resonix-work', ['resonix.json'], { active: false, profile: 'work', hasData: false, neverOnboarded: true })], {
          services: [
            service('/home/alice/.resonix'),
            service('/home/alice/.resonix-work', {
              name: 'resonix-gateway-work.service',
              path: '/home/alice/.config/systemd/user/resonix-gateway-work.service',
              env: { HOME: '/home/alice', RESONIX_STATE_DIR: '/home/alice/.resonix-work', RESONIX_PROFILE: 'work' },
            }),
          ],
        }),
      ]),
    },
    {
      name: 'the data is in profile work, which its own unit runs',
      machine: machine([
        home([install('/home/alice/.resonix', [], { hasData: false }), install('/home/alice/.resonix-work', undefined, { active: false, profile: 'work', servedBy: ['/home/alice/.config/systemd/user/resonix-gateway-work.service'] })], {
          services: [service('/home/alice/.resonix-work', { name: 'resonix-gateway-work.service', env: { HOME: '/home/alice', RESONIX_STATE_DIR: '/home/alice/.resonix-work' } })],
        }),
      ]),
    },
    { name: 'CLI and service agree', machine: machine([home([install()], { services: [service('/home/alice/.resonix')] })]) },
    {
      name: 'a second, remote-only profile is not the migrated data',
      machine: machine([home([install(), install('/home/alice/.resonix-work', ['resonix.json'], { active: false, config: { path: '/x', exists: true, gatewayMode: 'remote', agents: [], channels: [], whatsappAccounts: [], includes: [], envRefs: [], paths: [], inlineSecretKeys: [] } })])]),
    },
    { name: 'no service, CLI resolution with data', machine: machine([home([install()], { resolution: resolution() })]) },
  ],
});

it('profileOfUnit: the profile a unit is named for', () => {
  expect(profileOfUnit({ kind: 'systemd-user', name: 'resonix-gateway.service' })).toBe('');
  expect(profileOfUnit({ kind: 'systemd-user', name: 'resonix-gateway-work.service' })).toBe('work');
  expect(profileOfUnit({ kind: 'launchd', name: 'ai.resonix.gateway' })).toBe('');
  expect(profileOfUnit({ kind: 'launchd', name: 'ai.resonix.work.plist' })).toBe('work');
  expect(profileOfUnit({ kind: 'systemd-system', name: 'my-gateway.service' })).toBeUndefined();
});
