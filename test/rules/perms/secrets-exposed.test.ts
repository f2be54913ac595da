import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/secrets-exposed.js';
import type { Install } from '../../../src/model.js';
import { home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}
// cron/jobs.json and nodes/paired.json are not secret by name; on the old machine nobody else could reach them
const baseline = oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['cron/', 0o755], ['cron/jobs.json', 0o644], ['nodes/', 0o700], ['nodes/paired.json', 0o600], ['cache/', 0o755], ['cache/x.js', 0o644]])]);

ruleCases(rule, {
  fires: [
    {
      name: 'a 2026.5.28 install: 0755 state dir and 0644 transcripts',
      machine: machine([home([install(undefined, [['', 0o755], 'resonix.json', ['agents/', 0o755], ['agents/main/', 0o755], ['agents/main/sessions/', 0o755], ['agents/main/sessions/a.jsonl', 0o644]])])]),
      expect: (reports) => {
        expect(reports[0]!.severity).toBe('error');
        expect(reports[0]!.message).toContain('is 0755, not 0700');
        expect(reports[0]!.fix!.actions).toContainEqual({ kind: 'chmod', path: '/home/alice/.resonix', mode: 0o700 });
        expect(reports[0]!.fix!.actions).toContainEqual({ kind: 'chmod', path: '/home/alice/.resonix/agents/main/sessions/a.jsonl', mode: 0o600 });
      },
    },
    {
      name: 'group-readable state dir and config: a warning',
      machine: machine([home([install(undefined, [['', 0o750], ['resonix.json', 0o640]])])]),
      expect: (reports) => expect(reports[0]!.severity).toBe('warning'),
    },
    {
      name: 'a world-writable file under a traversable chain',
      machine: machine([home([install(undefined, [['', 0o711], ['media/', 0o755], ['media/x.png', 0o666]])])]),
    },
    {
      name: 'baseline: files private by their path there (0644 under a 0700 state dir, 0600) are world-readable here',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', [['', 0o755], 'resonix.json', ['cron/', 0o755], ['cron/jobs.json', 0o644], ['nodes/', 0o755], ['nodes/paired.json', 0o644], ['cache/', 0o755], ['cache/x.js', 0o644]])])]),
      expect: (reports) => {
        const extra = reports.find((report) => report.message.includes('no other user could read on the old machine'))!;
        expect(extra.message).toBe('2 files in /home/alice/.resonix that no other user could read on the old machine are readable by every user on this machine here.');
        expect(extra.severity).toBe('error');
        expect(extra.evidence).toEqual(['0644 world-readable /home/alice/.resonix/cron/jobs.json', '0644 world-readable /home/alice/.resonix/nodes/paired.json']);
        expect(extra.fix!.actions).toContainEqual({ kind: 'chmod', path: '/home/alice/.resonix/nodes/paired.json', mode: 0o600 });
      },
    },
    {
      name: 'baseline: a file that was already readable by others there is not news (only the live state-dir finding)',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', [['', 0o755], 'resonix.json', ['cron/', 0o755], ['cron/jobs.json', 0o644]])]),
      machine: machine([home([install('/home/alice/.resonix', [['', 0o711], 'resonix.json', ['cron/', 0o755], ['cron/jobs.json', 0o644]])])]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toBe('State dir /home/alice/.resonix is 0711, not 0700: world-accessible.');
      },
    },
  ],
  passes: [
    { name: 'Resonix defaults (0700/0600)', machine: machine() },
    {
      name: 'a 2026.9.6 install: 0644 reindex temp DBs inside 0755 agent dirs under a 0700 state dir',
      machine: machine([home([install(undefined, ['resonix.json', ['agents/', 0o755], ['agents/main/', 0o755], ['agents/main/agent/', 0o700], ['agents/main/agent/resonix-agent.sqlite.memory-reindex-1', 0o644], ['tmp/', 0o755]])])]),
    },
    {
      name: 'baseline: the same modes as on the old machine',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', ['cron/', 0o755], ['cron/jobs.json', 0o644], ['nodes/', 0o700], ['nodes/paired.json', 0o600]])])]),
    },
  ],
});
