// Every text format shows the diagnosis as pretty does: root causes listed, what follows from one shown under
// it (without its own fix), one annotation / one failing testcase per cause. JSON and SARIF keep every finding.
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model.js';
import { formatGithub } from '../../src/reporters/github.js';
import { formatJunit } from '../../src/reporters/junit.js';
import { formatMarkdown } from '../../src/reporters/markdown.js';
import { STATEDIR, RULES, report } from './fixture.js';

const root: Finding = {
  ruleId: 'perms/wrong-owner',
  severity: 'error',
  message: `${STATEDIR} belongs to root, not alice: nothing inside it was checked`,
  path: STATEDIR,
  fingerprint: 'fp-root',
  fix: { summary: 'Give it back to alice.', commands: [`sudo chown -R alice:alice ${STATEDIR}`] },
};
const folded = (ruleId: string, index: number): Finding => ({
  ruleId,
  severity: 'error',
  message: `${ruleId} consequence ${index}`,
  path: `${STATEDIR}/x${index}`,
  fingerprint: `fp-${index}`,
  causedBy: 'fp-root',
  fix: { summary: 'A fix that is not the one to run.', commands: [`folded-fix-${index}`] },
});
const diagnosed = report([root, folded('state/config-invalid', 1), folded('copy/workspace-missing', 2), folded('copy/workspace-missing', 3)], {
  summary: { error: 1, warning: 0, info: 0 },
  rules: { run: ['perms/wrong-owner', 'state/config-invalid', 'copy/workspace-missing'], skipped: [] },
});

describe('the diagnosis in every text format', () => {
  it('github: one annotation for the cause, naming what follows from it; no fix of a folded finding', () => {
    const { stdout } = formatGithub(diagnosed);
    const annotations = stdout.trim().split('\n');
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toContain('perms/wrong-owner');
    expect(annotations[0]).toContain('because of this: 3 more findings (state/config-invalid, copy/workspace-missing ×2)');
    expect(stdout).not.toContain('folded-fix');
  });

  it('markdown: the cause with its consequences under "Because of this", counted once', () => {
    const text = formatMarkdown(diagnosed);
    expect(text).toContain('### ');
    expect(text.match(/^#### /gm)).toHaveLength(1);
    expect(text).toContain('**Because of this:**');
    expect(text).toContain('- `copy/workspace-missing`: copy/workspace-missing consequence 3');
    expect(text).not.toContain('folded-fix');
    expect(text).toContain(`sudo chown -R alice:alice ${STATEDIR}`);
  });

  it('junit: one failing testcase (the cause); the consequences are output of their testcases, naming the cause', () => {
    const xml = formatJunit(diagnosed, RULES);
    expect(xml).toMatch(/<testsuites[^>]* failures="1"/);
    expect(xml).toMatch(/<testcase[^>]*name="perms\/wrong-owner"[^>]*>\s*<failure/);
    expect(xml).toContain('because of this: 3 more findings');
    expect(xml).toMatch(/<testcase[^>]*name="copy\/workspace-missing"[^>]*>\s*<system-out>follows from perms\/wrong-owner:/);
    expect(xml).not.toMatch(/name="copy\/workspace-missing"[^>]*>\s*<failure/);
  });
});
