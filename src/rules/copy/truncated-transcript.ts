import path from 'node:path';
import { TRANSCRIPT } from '../../knowledge/layout.js';
import { filesOf } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import type { Machine, Rule, RuleReport } from '../../model.js';
import { installsOf, plural, sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/truncated-transcript',
    title: 'Session transcripts cut off or missing',
    severity: 'warning',
    phases: ['verify', 'inspect'],
    area: 'sessions',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'perms/unreadable', relation: 'inside' }, { rule: 'paths/foreign-home', relation: 'under-old-home' }],
    description:
      'A session transcript (*.jsonl) ends in a partial line, or sessions.json names transcripts that are not there. Only the most recently written transcripts are read (their last byte), since a live copy tears the files being appended. With a baseline: a transcript is shorter here than there (and was not reset since).',
    why: 'A torn last line or a missing transcript loses the end of a conversation, and Resonix may refuse to load the session.',
    fix: 'Re-copy the sessions dir with the gateway stopped.',
  },
  check({ phase, machine, baseline }) {
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
    if (baseline) reports.push(...shorterThanBaseline(machine, baseline, phase));
    return reports;
  },
};
export default rule;

/**
 * Baseline part: a transcript shorter here than in the baseline. Transcripts only grow, so a shorter one
 * was cut off or is an older copy — unless it was reset here since (an `<id>.jsonl.reset.*` or
 * `.deleted.*` beside it).
 */
function shorterThanBaseline(machine: Machine, baseline: Machine, phase: string): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists) continue;
    const here = filesOf(current.inventory);
    let archived: string[] | undefined;
    const shorter: string[] = [];
    for (const old of match.baseline.inventory.entries) {
      const relative = old.path;
      if (old.type !== 'file' || !TRANSCRIPT.test(relative)) continue;
      const now = here.get(relative);
      if (!now || now.size >= old.size) continue;
      archived ??= [...here.keys()].filter((name) => /\.jsonl\.(reset|deleted)\./.test(name));
      if (archived.some((name) => name.startsWith(`${relative}.`))) continue;
      shorter.push(`${relative}: ${now.size} bytes, ${old.size} in the baseline`);
    }
    if (shorter.length === 0) continue;
    const dirs = [...new Set(shorter.map((item) => item.split('/').slice(0, 3).join('/')))];
    reports.push({
      message: `${plural(shorter.length, 'session transcript')} ${shorter.length === 1 ? 'is' : 'are'} shorter in ${current.stateDir} than in the baseline: the end of ${shorter.length === 1 ? 'that conversation' : 'those conversations'} is lost.`,
      path: path.posix.join(current.stateDir, shorter[0]!.split(':')[0]!),
      install: current.id,
      evidence: sample(shorter),
      fix: {
        summary: phase === 'inspect' ? 'Make the backup again with the gateway stopped.' : 'Copy the sessions again from the old machine, with its gateway stopped.',
        commands:
          phase === 'inspect'
            ? ['resonix gateway stop   # on the machine the backup was made on', 'resonix backup create --verify']
            : dirs.map((dir) => `rsync -a <old-host>:${sh(path.posix.join(match.baseline.stateDir, dir))}/ ${sh(path.posix.join(current.stateDir, dir))}/`),
      },
    });
  }
  return reports;
}
