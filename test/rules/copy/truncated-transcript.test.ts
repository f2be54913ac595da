import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/truncated-transcript.js';
import { home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

ruleCases(rule, {
  fires: [
    {
      name: 'a transcript that ends mid-line',
      phase: 'verify',
      machine: machine([home([install(undefined, undefined, { partialTranscripts: ['agents/main/sessions/a1.jsonl'] })])]),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toContain('agents/main/sessions'),
    },
    {
      name: 'sessions.json names a transcript that is missing',
      phase: 'verify',
      machine: machine([home([install(undefined, undefined, { sessionRefs: [{ file: 'agents/main/sessions/sessions.json', sessionFiles: [], skillPaths: [], missingTranscripts: ['agents/main/sessions/b2.jsonl'] }] })])]),
    },
  ],
  passes: [{ name: 'whole transcripts', phase: 'verify', machine: machine([home([install(undefined, undefined, { partialTranscripts: [], sessionRefs: [] })])]) }],
});
