import { expect } from 'vitest';
import { rule } from '../../../src/rules/paths/env-missing.js';
import { HEALTHY_FILES, config, home, install, machine, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';
const needs = (envRefs: string[], extra: Parameters<typeof install>[2] = {}, stateDir = STATE) =>
  install(stateDir, HEALTHY_FILES, { config: config({ envRefs }, `${stateDir}/resonix.json`), ...extra });

ruleCases(rule, {
  fires: [
    {
      name: 'the API key lived in the old shell profile; the service has no such variable',
      machine: machine([home([needs(['OPENROUTER_API_KEY', 'TELEGRAM_BOT_TOKEN'], { dotenvKeys: ['TELEGRAM_BOT_TOKEN'] })], { services: [service(STATE)] })], {
        processEnvKeys: ['OPENROUTER_API_KEY'],
      }),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('OPENROUTER_API_KEY=missing');
        expect(reports[0]!.message).not.toContain('TELEGRAM_BOT_TOKEN');
        expect(reports[0]!.evidence![0]).toBe('OPENROUTER_API_KEY=missing');
        expect(reports[0]!.fix!.commands).toEqual([`echo 'OPENROUTER_API_KEY=…' >> ${STATE}/.env && chmod 600 ${STATE}/.env`]);
      },
    },
    {
      name: 'an image has no shell env to fall back on',
      phase: 'image',
      machine: machine([home([needs(['ANTHROPIC_API_KEY'])])], { mode: 'image', root: '/tmp/rootfs', processEnvKeys: ['ANTHROPIC_API_KEY'] }),
    },
    {
      name: 'gateway.env only counts for the default state dir',
      machine: machine([home([install(), needs(['WORK_KEY'], { active: false, profile: 'work' }, '/home/alice/.resonix-work')], { gatewayEnvKeys: ['WORK_KEY'] })]),
      expect: (reports) => expect(reports[0]!.install).toBe('/home/alice/.resonix-work'),
    },
    {
      name: 'a variable passed through env.vars from itself is still missing',
      machine: machine([home([needs(['OPENROUTER_API_KEY'], { config: config({ envRefs: ['OPENROUTER_API_KEY'], envVarKeys: [] }) })])]),
    },
  ],
  passes: [
    { name: 'a config with no references', machine: machine() },
    {
      name: 'set by the service env, its EnvironmentFile, .env, gateway.env and the config env',
      machine: machine([
        home([needs(['A', 'B', 'C', 'D', 'E'], { dotenvKeys: ['C'], config: config({ envRefs: ['A', 'B', 'C', 'D', 'E'], envVarKeys: ['E'] }) })], {
          gatewayEnvKeys: ['D'],
          services: [service(STATE, { envKeys: ['HOME', 'A'], environmentFiles: [{ path: '/etc/resonix.env', exists: true, keys: ['B'] }] })],
        }),
      ]),
    },
    {
      name: 'live, no service: the shell that starts the gateway has it',
      machine: machine([home([needs(['OPENROUTER_API_KEY'])])], { processEnvKeys: ['OPENROUTER_API_KEY'] }),
    },
  ],
});
