import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/hidden-omitted.js';
import type { Install, Workspace } from '../../../src/model.js';
import { entries, home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const noState = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: false, entries: [] }, hasData: false });
const workspaceDirs = [{ path: '/home/alice/work/agent-main', markers: ['AGENTS.md', 'SOUL.md'] }];

function workspace(path: string, files: string[], agentId = 'main'): Workspace {
  return { agentId, path, source: 'config', inventory: { root: path, exists: true, entries: entries(files) } };
}
function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}
const STATE = ['resonix.json', '.env', 'credentials/oauth.json'];
const WORKSPACE = ['AGENTS.md', '.git/', '.git/HEAD', '.resonix/', '.resonix/workspace-state.json', '.DS_Store'];
const baseline = oldMachine([install('/Users/alice/.resonix', STATE, { workspaces: [workspace('/Users/alice/work/agent-main', WORKSPACE)] })]);

ruleCases(rule, {
  fires: [
    {
      name: 'cp ~/* brought the workspace but not .resonix',
      phase: 'verify',
      machine: machine([home([noState], { workspaceDirs })]),
      expect: (reports) => expect(reports[0]!.evidence![0]).toContain('/home/alice/work/agent-main'),
    },
    {
      name: 'baseline: the state dir arrived without .env, the workspace without .git/ and .resonix/ (.DS_Store does not matter)',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', 'credentials/oauth.json'], { workspaces: [workspace('/home/alice/work/agent-main', ['AGENTS.md'])] })])]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('3 dot-entries of the old machine did not arrive with /home/alice/.resonix and its workspaces (.env, .git, .resonix)');
        expect(reports[0]!.evidence).toEqual(['/home/alice/.resonix/.env', '/home/alice/work/agent-main/.git/', '/home/alice/work/agent-main/.resonix/']);
        expect(reports[0]!.fix!.commands).toEqual([
          'rsync -a <old-host>:/Users/alice/.resonix/.env /home/alice/.resonix/.env',
          'rsync -a <old-host>:/Users/alice/work/agent-main/.git/ /home/alice/work/agent-main/.git/',
          'rsync -a <old-host>:/Users/alice/work/agent-main/.resonix/ /home/alice/work/agent-main/.resonix/',
        ]);
      },
    },
    {
      name: 'baseline: a workspace inside the state dir lost its .git/',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', 'workspace/AGENTS.md', 'workspace/.git/HEAD'], { workspaces: [{ ...workspace('/Users/alice/.resonix/workspace', ['AGENTS.md', '.git/HEAD']) }] })]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', 'workspace/AGENTS.md'], { workspaces: [workspace('/home/alice/.resonix/workspace', ['AGENTS.md'])] })])]),
      expect: (reports) => expect(reports[0]!.evidence).toEqual(['/home/alice/.resonix/workspace/.git/']),
    },
  ],
  passes: [
    { name: 'state dir and workspace both arrived', phase: 'verify', machine: machine([home([install()], { workspaceDirs })]) },
    { name: 'nothing arrived at all (state/not-found)', phase: 'verify', machine: machine([home([noState])]) },
    {
      name: 'baseline: every dot-entry arrived (Finder litter aside)',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', STATE, { workspaces: [workspace('/home/alice/work/agent-main', WORKSPACE.filter((item) => item !== '.DS_Store'))] })])]),
    },
    {
      name: 'baseline: a workspace that did not arrive at all is copy/workspace-missing, not this',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', STATE, { workspaces: [{ ...workspace('/home/alice/work/agent-main', []), inventory: { root: '/home/alice/work/agent-main', exists: false, entries: [] } }] })])]),
    },
  ],
});
