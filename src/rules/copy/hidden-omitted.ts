import type { Rule, RuleReport } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/hidden-omitted',
    title: 'Dot-dirs were left out of the copy',
    severity: 'error',
    phases: ['verify', 'image', 'inspect'],
    description:
      'Agent workspaces arrived but no .resonix/ state dir did: the copy used `cp ~/*`, `tar czf x.tgz *` or similar, which skip dot-entries.',
    why: 'Shell globs skip names that start with a dot, so the state dir (config, credentials, sessions) silently stays behind.',
    fix: 'Copy with `rsync -a` or name the dot-dirs explicitly: `tar -C ~ -czf resonix.tgz .resonix`.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      if (home.installs.some((install) => install.hasData) || home.workspaceDirs.length === 0) continue;
      reports.push({
        message: `Workspace dirs arrived in ${home.path}, but no .resonix state dir did: the copy skipped dot-dirs.`,
        path: home.path,
        evidence: home.workspaceDirs.map((workspace) => `${workspace.path} (${workspace.markers.join(', ')})`),
        fix: {
          summary: 'Copy the state dir itself; shell globs like * skip it.',
          commands: [`rsync -a <old-host>:${sh(home.path)}/.resonix/ ${sh(home.path)}/.resonix/`, `tar -C ${sh(home.path)} -czf resonix.tgz .resonix   # on the old machine`],
        },
      });
    }
    return reports;
  },
};
export default rule;
