import { expect } from 'vitest';
import { rule } from '../../../src/rules/state/fresh-onboarding.js';
import type { FileEntry, Install } from '../../../src/model.js';
import { config, HEALTHY_FILES, home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const SNAPSHOT = Date.parse('2026-11-24T00:00:00.000Z');
const FRESH = ['resonix.json', 'agents/main/agent/auth-profiles.json', 'agents/main/sessions/', ['identity/device.json', 0o600, undefined, { mtimeMs: SNAPSHOT + 86_400_000 }]] as never[];
const REAL = [...HEALTHY_FILES, ['identity/device.json', 0o600, undefined, { mtimeMs: SNAPSHOT - 86_400_000 }]] as never[];
const SQLITE_FRESH = ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 4096 * 10 }], ['agents/main/agent/resonix-agent.sqlite', 0o600, undefined, { size: 4096 * 20 }]] as never[];
const SQLITE_REAL = ['resonix.json', ['state/resonix.sqlite', 0o600, undefined, { size: 4096 * 300 }], ['agents/main/agent/resonix-agent.sqlite', 0o600, undefined, { size: 4096 * 2000 }]] as never[];

function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}

ruleCases(rule, {
  fires: [
    {
      name: 'baseline: onboarding ran here before the copy, a new device identity',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', REAL)]),
      machine: machine([home([install('/home/alice/.resonix', FRESH)])]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('/home/alice/.resonix looks freshly onboarded');
        expect(reports[0]!.message).toContain("baseline's /Users/alice/.resonix held 1 session transcript, 1 credential file");
        expect(reports[0]!.evidence).toContain('identity/device.json was written after the baseline was taken: a new device identity');
        expect(reports[0]!.fix!.commands[2]).toBe('rsync -a <old-host>:/Users/alice/.resonix/ /home/alice/.resonix/');
      },
    },
    {
      name: 'baseline, SQLite layout: state databases far smaller than the old ones; device identity differs by hash',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', [...SQLITE_REAL, ['identity/device.json', 0o600, undefined, { sha256: 'a'.repeat(64) } as Partial<FileEntry>]] as never[])]),
      machine: machine([home([install('/home/alice/.resonix', [...SQLITE_FRESH, ['identity/device.json', 0o600, undefined, { sha256: 'b'.repeat(64) } as Partial<FileEntry>]] as never[])])]),
      expect: (reports) => {
        expect(reports[0]!.message).toMatch(/held 9200 KiB of state databases \(120 KiB in the active dir\)/);
        expect(reports[0]!.evidence).toContain("identity/device.json differs from the baseline's: a new device identity");
      },
    },
    {
      name: 'no baseline: the copy landed in another state dir on this machine',
      phase: 'verify',
      machine: machine([home([install('/home/alice/.resonix', FRESH), install('/home/alice/.resonix-old', REAL, { active: false, foundBy: 'home-glob' })])]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('while /home/alice/.resonix-old holds');
        expect(reports[0]!.fix!.commands[2]).toBe('cp -a /home/alice/.resonix-old /home/alice/.resonix');
      },
    },
    {
      name: 'baseline and a second dir: names where the copy went',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', REAL)]),
      machine: machine([home([install('/home/alice/.resonix', FRESH), install('/home/alice/.resonix-old', REAL, { active: false, foundBy: 'home-glob' })])]),
      expect: (reports) => expect(reports[0]!.message).toContain('the copy went into /home/alice/.resonix-old'),
    },
  ],
  passes: [
    { name: 'no baseline and a single state dir: it cannot know', phase: 'verify', machine: machine([home([install('/home/alice/.resonix', FRESH)])]) },
    { name: 'the copy arrived', phase: 'verify', baseline: oldMachine([install('/Users/alice/.resonix', REAL)]), machine: machine([home([install('/home/alice/.resonix', REAL)])]) },
    { name: 'the old machine was fresh too', phase: 'verify', baseline: oldMachine([install('/Users/alice/.resonix', FRESH)]), machine: machine([home([install('/home/alice/.resonix', FRESH)])]) },
    {
      name: 'a SQLite install arrived whole (sessions live in the databases, no transcripts, no credentials)',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', SQLITE_REAL)]),
      machine: machine([home([install('/home/alice/.resonix', SQLITE_REAL)])]),
    },
    {
      name: 'the other dir is a thin client (gateway.mode remote)',
      phase: 'verify',
      machine: machine([home([install('/home/alice/.resonix', FRESH), install('/home/alice/.resonix-work', REAL, { active: false, config: config({ gatewayMode: 'remote' }, '/home/alice/.resonix-work/resonix.json') })])]),
    },
    {
      name: 'the active dir holds the data, a stale profile dir holds other data',
      phase: 'verify',
      machine: machine([home([install('/home/alice/.resonix', REAL), install('/home/alice/.resonix-old', REAL, { active: false })])]),
    },
  ],
});
