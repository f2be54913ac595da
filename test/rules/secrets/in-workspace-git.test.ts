import { describe, expect, it } from 'vitest';
import type { Workspace, WorkspaceGit } from '../../../src/model.js';
import { runRules } from '../../../src/engine.js';
import { rule } from '../../../src/rules/secrets/in-workspace-git.js';
import { entries, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const WS = '/home/alice/.resonix/workspace';

function workspace(git: WorkspaceGit | undefined, extra: Partial<Workspace> = {}): Workspace {
  return {
    agentId: 'main',
    path: WS,
    source: 'default',
    inventory: { root: WS, exists: true, entries: entries(['AGENTS.md', 'MEMORY.md', '.git/']) },
    ...(git ? { git } : {}),
    ...extra,
  };
}

const withWorkspaces = (...workspaces: Workspace[]) => machine([home([install(undefined, undefined, { workspaces })])]);

const CLEAN: WorkspaceGit = { secretFiles: [], secretHits: [] };

ruleCases(rule, {
  fires: [
    {
      name: 'a tracked .env and a staged creds.json',
      machine: withWorkspaces(
        workspace({
          secretFiles: ['.env', 'credentials/creds.json'],
          secretHits: [{ path: '.env', line: 2, kind: 'Anthropic API key' }],
        }),
      ),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        const [report] = reports;
        expect(report!.path).toBe(WS);
        expect(report!.install).toBe('/home/alice/.resonix');
        expect(report!.message).toContain('2 credential files');
        expect(report!.evidence).toEqual(['.env (credential file)', 'credentials/creds.json (credential file)', '.env:2 Anthropic API key']);
        const commands = report!.fix!.commands;
        expect(commands).toContain(`git -C ${WS} rm --cached -- .env`);
        expect(commands).toContain(`git -C ${WS} rm --cached -- credentials/creds.json`);
        expect(commands).toContain(`echo .env >> ${WS}/.gitignore`);
        expect(commands).toContain(`echo credentials/creds.json >> ${WS}/.gitignore`);
        expect(commands.some((command) => command.includes('filter-repo --invert-paths --path .env --path credentials/creds.json'))).toBe(true);
        expect(commands.some((command) => /rotate/.test(command))).toBe(true);
      },
    },
    {
      name: 'a Telegram bot token in MEMORY.md only',
      machine: withWorkspaces(workspace({ secretFiles: [], secretHits: [{ path: 'MEMORY.md', line: 5, kind: 'Telegram bot token' }] })),
      expect: ([report]) => {
        expect(report!.evidence).toEqual(['MEMORY.md:5 Telegram bot token']);
        expect(report!.fix!.commands.some((command) => command.includes('rm --cached'))).toBe(false);
        expect(report!.fix!.commands.some((command) => command.includes(`${WS}/MEMORY.md`))).toBe(true);
        expect(report!.fix!.commands.some((command) => command.includes('--replace-text'))).toBe(true);
      },
    },
    {
      name: 'one finding per leaky workspace, paths shell-quoted',
      machine: withWorkspaces(
        workspace({ secretFiles: ['auth-profiles.json'], secretHits: [] }),
        workspace({ secretFiles: ["it's a .env"], secretHits: [] }, { agentId: 'research', path: '/home/alice/My Workspace' }),
        workspace(CLEAN, { agentId: 'quiet', path: '/home/alice/quiet' }),
      ),
      expect: (reports) => {
        expect(reports.map((report) => report.path)).toEqual([WS, '/home/alice/My Workspace']);
        expect(reports[1]!.fix!.commands).toContain(`git -C '/home/alice/My Workspace' rm --cached -- 'it'\\''s a .env'`);
      },
    },
    {
      name: 'findings from every install, with a note when the scan stopped early',
      machine: machine([
        home([
          install(undefined, undefined, { workspaces: [workspace(CLEAN)] }),
          install('/home/alice/.resonix-work', undefined, {
            active: false,
            workspaces: [workspace({ secretFiles: ['.env.local'], secretHits: [], error: 'git grep output passed 16777216 bytes: later hits not read' }, { path: '/home/alice/.resonix/workspace-work' })],
          }),
        ]),
      ]),
      expect: ([report]) => {
        expect(report!.install).toBe('/home/alice/.resonix-work');
        expect(report!.evidence).toContain('note: git grep output passed 16777216 bytes: later hits not read');
      },
    },
  ],
  passes: [
    { name: 'a clean workspace repository', machine: withWorkspaces(workspace(CLEAN)) },
    { name: 'a workspace that is not a git repository', machine: withWorkspaces(workspace(undefined)) },
    { name: 'git could not be run there', machine: withWorkspaces(workspace({ secretFiles: [], secretHits: [], error: 'git ls-files: git is not installed (not found on PATH)' })) },
    { name: 'no workspaces at all', machine: machine() },
  ],
});

describe('a git check that could not look', () => {
  const unchecked: WorkspaceGit = { secretFiles: [], secretHits: [], error: '.git/index is a FIFO, not a regular file: git was not run on it', unchecked: true };

  it('makes the rule skipped with the reason, never a silent pass', () => {
    const report = runRules({ phase: 'audit', machine: withWorkspaces(workspace(unchecked)), rules: [rule] });
    expect(report.rules.run).toEqual([]);
    expect(report.rules.skipped).toEqual([
      { id: 'secrets/in-workspace-git', reason: `git could not check the workspace ${WS} (.git/index is a FIFO, not a regular file: git was not run on it)` },
    ]);
  });

  it('does not hide what other workspaces showed', () => {
    const leaky = workspace({ secretFiles: ['.env'], secretHits: [] }, { path: '/home/alice/other' });
    const report = runRules({ phase: 'audit', machine: withWorkspaces(workspace(unchecked), leaky), rules: [rule] });
    expect(report.rules.run).toEqual(['secrets/in-workspace-git']);
    expect(report.findings.map((finding) => finding.path)).toEqual(['/home/alice/other']);
  });
});
