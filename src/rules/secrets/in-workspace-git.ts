import type { Rule, RuleReport, Workspace, WorkspaceGit } from '../../model.js';
import { installsOf, plural, sample, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'secrets/in-workspace-git',
    title: 'Secrets tracked in a workspace git repository',
    severity: 'warning',
    phases: ['audit', 'verify'],
    area: 'secrets',
    verdict: 'hygiene',
    fixStep: 'hygiene',
    description:
      'An agent workspace is a git repository (the usual way to carry it) and tracks or stages credential files (.env, creds.json, auth-profiles.json, private keys, …) or secret-looking values (API keys, bot tokens in notes).',
    why: 'Whatever git tracks goes wherever the repository is pushed or cloned, and stays in its history after the file is deleted: the keys in it are as public as the repository.',
    fix: 'Remove the files from the index, ignore them, rewrite the history if it was ever pushed, and rotate the exposed keys.',
    tags: ['security'],
  },
  check({ machine, skip }) {
    const reports: RuleReport[] = [];
    const unchecked: string[] = [];
    for (const { install } of installsOf(machine)) {
      for (const workspace of install.workspaces) {
        const git = workspace.git;
        if (git?.unchecked) unchecked.push(`${workspace.path} (${git.error ?? 'git failed'})`);
        if (!git || (git.secretFiles.length === 0 && git.secretHits.length === 0)) continue;
        reports.push(report(workspace, git, install.id));
      }
    }
    // a repository git could not look at is not a clean one
    if (reports.length === 0 && unchecked.length > 0) skip?.(`git could not check ${unchecked.length === 1 ? 'the workspace' : `${unchecked.length} workspaces`} ${[...new Set(unchecked)].slice(0, 3).join('; ')}`);
    return reports;
  },
};

function report(workspace: Workspace, git: WorkspaceGit, installId: string): RuleReport {
  const ws = workspace.path;
  const { secretFiles, secretHits } = git;
  // files whose only problem is a value inside: those need editing, not untracking
  const filesWithValues = [...new Set(secretHits.map((hit) => hit.path))].filter((file) => !secretFiles.includes(file));
  const what = [
    ...(secretFiles.length > 0 ? [plural(secretFiles.length, 'credential file')] : []),
    ...(secretHits.length > 0 ? [`${plural(secretHits.length, 'secret-looking value')} in ${plural(new Set(secretHits.map((hit) => hit.path)).size, 'file')}`] : []),
  ].join(' and ');
  const evidence = [
    ...sample(secretFiles.map((file) => `${file} (credential file)`), 20),
    ...sample(
      secretHits.map((hit) => `${hit.path}${hit.line !== undefined ? `:${hit.line}` : ''} ${hit.kind}`),
      20,
    ),
    ...(git.error ? [`note: ${git.error}`] : []),
  ];
  const commands = [
    ...secretFiles.map((file) => `git -C ${sh(ws)} rm --cached -- ${sh(file)}`),
    ...secretFiles.map((file) => `echo ${sh(file)} >> ${sh(`${ws}/.gitignore`)}`),
    ...filesWithValues.map((file) => `$EDITOR ${sh(`${ws}/${file}`)}   # remove the value, keep it in the state dir's .env or a secret ref instead`),
    `git -C ${sh(ws)} commit -m ${sh('Stop tracking secrets')}`,
    `git -C ${sh(ws)} log --all --oneline -- ${[...secretFiles, ...filesWithValues].map(sh).join(' ')}   # were they ever committed or pushed?`,
    ...(secretFiles.length > 0
      ? [`git -C ${sh(ws)} filter-repo --invert-paths ${secretFiles.map((file) => `--path ${sh(file)}`).join(' ')}   # rewrites history: every clone must re-clone`]
      : []),
    ...(filesWithValues.length > 0 ? [`git -C ${sh(ws)} filter-repo --replace-text <file-listing-the-exposed-values>   # for values inside notes`] : []),
    '# then rotate every exposed key and token at its provider (Anthropic/OpenAI console, @BotFather /revoke, …): history rewrites do not reach existing clones',
  ];
  return {
    message: `Workspace ${ws} (agent ${workspace.agentId}) is a git repository that tracks or stages ${what}: they travel with every push and clone, and stay in its history.`,
    path: ws,
    install: installId,
    evidence,
    fix: {
      summary: 'Untrack the files and ignore them, take the values out of the notes, rewrite the history if it left this machine, and rotate the keys.',
      commands,
    },
  };
}

export default rule;
