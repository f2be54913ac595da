import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/truncated-transcript.js';
import type { Install } from '../../../src/model.js';
import { home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}
const baseline = oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 5000 }]] as never)]);
const withTranscript = (size: number, more: string[] = []) =>
  machine([home([install('/home/alice/.resonix', ['resonix.json', ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size }], ...more] as never)])]);

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
    {
      name: 'baseline: a transcript shorter here than on the old machine',
      phase: 'verify',
      baseline,
      machine: withTranscript(1200),
      expect: (reports) => {
        expect(reports[0]!.evidence).toEqual(['agents/main/sessions/a1.jsonl: 1200 bytes, 5000 in the baseline']);
        expect(reports[0]!.fix!.commands).toEqual(['rsync -a <old-host>:/Users/alice/.resonix/agents/main/sessions/ /home/alice/.resonix/agents/main/sessions/']);
      },
    },
    {
      name: 'inspect against a manifest: the backup holds a shorter transcript',
      phase: 'inspect',
      baseline,
      machine: machine([home([install('/Users/alice/.resonix', ['resonix.json', ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 10 }]] as never)], { path: '/Users/alice' })], { mode: 'image', root: '/tmp/b.tgz' }),
      expect: (reports) => expect(reports[0]!.fix!.commands).toContain('resonix backup create --verify'),
    },
  ],
  passes: [
    { name: 'whole transcripts', phase: 'verify', machine: machine([home([install(undefined, undefined, { partialTranscripts: [], sessionRefs: [] })])]) },
    { name: 'baseline: same size or grown since', phase: 'verify', baseline, machine: withTranscript(7000) },
    { name: 'baseline: the session was reset here since', phase: 'verify', baseline, machine: withTranscript(40, ['agents/main/sessions/a1.jsonl.reset.2026-11-25T10-00-00']) },
    { name: 'baseline: a missing transcript is copy/incomplete, not this', phase: 'verify', baseline, machine: machine([home([install('/home/alice/.resonix', ['resonix.json'])])]) },
  ],
});
