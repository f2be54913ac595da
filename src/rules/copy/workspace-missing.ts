import type { Rule, RuleReport } from '../../model.js';
import { installsOf, noteCutTrees, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/workspace-missing',
    title: "An agent's workspace is missing",
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'agents',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'copy/config-only', relation: 'inside' }, { rule: 'perms/unreadable', relation: 'inside' }, { rule: 'copy/hidden-omitted', relation: 'inside' }],
    description: "Each agent's workspace (agents.*.workspace, agents.defaults.workspace, or the default ~/.resonix/workspace[-<profile>]) exists and is not empty. One configured under the old home of a moved home that arrived here with the same tail is not missing (paths/foreign-home reports the old prefix); a profile never onboarded has none.",
    why: "The workspace holds the agent's memory (MEMORY.md, memory/*.md), persona and skills: without it the agent starts as a stranger, and Resonix fails with ENOENT on a path from the old host.",
    fix: 'Copy the workspace (often it lives outside ~/.resonix), or fix agents.*.workspace.',
  },
  check({ machine, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.hasData || install.config.gatewayMode === 'remote' || install.config.parseError) continue;
      for (const workspace of install.workspaces) {
        const empty = workspace.inventory.exists && !workspace.inventory.entries.some((entry) => entry.type === 'file');
        if ((workspace.inventory.exists && !empty) || workspace.inventory.truncated || workspace.inventory.unseen || workspace.arrivedAt) continue;
        reports.push({
          message: `The workspace of agent ${workspace.agentId}, ${workspace.path}, ${empty ? 'is empty' : 'does not exist'}: the agent loses its memory and persona.`,
          path: workspace.path,
          install: install.id,
          evidence: [`${workspace.source === 'config' ? 'configured' : 'default'} workspace of ${workspace.agentId}`],
          fix: {
            summary: 'Copy the workspace from the old machine (or clone its git repo), or point the agent at where it now is.',
            commands: [`rsync -a <old-host>:${sh(workspace.path)}/ ${sh(workspace.path)}/`, 'resonix doctor'],
          },
        });
      }
    }
    return reports;
  },
};
export default rule;
