import type { FileEntry, FileInventory, Rule, RuleReport } from '../../model.js';
import { describeUser, installsOf, joinPath, ownerSpec, plural, sample, sh, userName } from '../lib.js';

function foreignEntries(inventory: FileInventory, uid: number): FileEntry[] {
  return inventory.entries.filter((entry) => entry.type !== 'symlink' && entry.uid !== uid);
}

export const rule: Rule = {
  meta: {
    id: 'perms/wrong-owner',
    title: 'State not owned by the gateway user',
    severity: 'error',
    phases: ['verify', 'image'],
    description:
      'Checks that every file under the state dir and the agent workspaces is owned by the user who runs the gateway (service User=, else the home\'s owner).',
    why: 'After `sudo cp` or `sudo tar x` the files belong to root: the gateway crash-loops with EACCES, or cannot rotate its own secrets.',
    fix: 'chown the state dir and workspaces to the gateway user.',
    autofix: true,
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const user = home.gatewayUser;
      if (user.uid === 0) continue;
      const inventories = [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !inventory.root.startsWith(`${install.stateDir}/`))];
      for (const inventory of inventories) {
        const foreign = foreignEntries(inventory, user.uid);
        if (foreign.length === 0) continue;
        const owners = [...new Set(foreign.map((entry) => userName(machine, entry.uid)))];
        const spec = ownerSpec(machine, user);
        reports.push({
          message: `${plural(foreign.length, 'entry', 'entries')} under ${inventory.root} ${foreign.length === 1 ? 'is' : 'are'} owned by ${owners.join(', ')}, not ${describeUser(user)} who runs the gateway.`,
          path: inventory.root,
          install: install.id,
          evidence: sample(foreign.map((entry) => `${userName(machine, entry.uid)} ${joinPath(inventory.root, entry.path)}`)),
          fix: {
            summary: `Give the files back to ${user.name ?? user.uid}.`,
            commands: [`sudo chown -R ${sh(spec)} ${sh(inventory.root)}`],
            actions: [{ kind: 'chown', path: inventory.root, uid: user.uid, gid: user.gid, recursive: true }],
          },
        });
      }
    }
    return reports;
  },
};
export default rule;
