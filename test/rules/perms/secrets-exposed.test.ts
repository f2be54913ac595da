import { expect } from 'vitest';
import { rule } from '../../../src/rules/perms/secrets-exposed.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

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
  ],
  passes: [
    { name: 'Resonix defaults (0700/0600)', machine: machine() },
    {
      name: 'a 2026.9.6 install: 0644 reindex temp DBs inside 0755 agent dirs under a 0700 state dir',
      machine: machine([home([install(undefined, ['resonix.json', ['agents/', 0o755], ['agents/main/', 0o755], ['agents/main/agent/', 0o700], ['agents/main/agent/resonix-agent.sqlite.memory-reindex-1', 0o644], ['tmp/', 0o755]])])]),
    },
  ],
});
