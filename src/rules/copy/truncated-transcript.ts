import path from 'node:path';
import type { Rule, RuleReport } from '../../model.js';
import { installsOf, plural, sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/truncated-transcript',
    title: 'Session transcripts cut off or missing',
    severity: 'warning',
    phases: ['verify', 'inspect'],
    description:
      'A session transcript (*.jsonl) ends in a partial line, or sessions.json names transcripts that are not there. Only the most recently written transcripts are read (their last byte), since a live copy tears the files being appended.',
    why: 'A torn last line or a missing transcript loses the end of a conversation, and Resonix may refuse to load the session.',
    fix: 'Re-copy the sessions dir with the gateway stopped.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      const partial = install.partialTranscripts ?? [];
      const missing = (install.sessionRefs ?? []).flatMap((refs) => refs.missingTranscripts);
      if (partial.length === 0 && missing.length === 0) continue;
      const sessionDirs = [...new Set([...partial, ...missing].filter((item) => item.startsWith('agents/')).map((item) => item.split('/').slice(0, 3).join('/')))];
      reports.push({
        message: [
          partial.length > 0 ? `${plural(partial.length, 'transcript')} end in a partial line` : '',
          missing.length > 0 ? `sessions.json names ${plural(missing.length, 'transcript')} that ${missing.length === 1 ? 'is' : 'are'} missing` : '',
        ]
          .filter(Boolean)
          .join(', and ')
          .replace(/^./, (first) => first.toUpperCase()) + ` in ${install.stateDir}.`,
        path: install.stateDir,
        install: install.id,
        evidence: sample([...partial.map((item) => `${item} (partial last line)`), ...missing.map((item) => `${item} (missing)`)]),
        fix: {
          summary: 'Copy the sessions again from the old machine, with its gateway stopped.',
          commands: (sessionDirs.length > 0 ? sessionDirs : ['agents']).map((dir) => `rsync -a <old-host>:${sh(path.posix.join(install.stateDir, dir))}/ ${sh(path.posix.join(install.stateDir, dir))}/`),
        },
      });
    }
    return reports;
  },
};
export default rule;
