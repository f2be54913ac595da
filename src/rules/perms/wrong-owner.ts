import { entriesOf, inventoryPairs } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import type { FileEntry, FileInventory, Home, Machine, Rule, RuleReport } from '../../model.js';
import { describeUser, groupName, installsOf, ownTrees, joinPath, ownerSpec, plural, sample, sh, userName } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'perms/wrong-owner',
    title: 'State not owned by the gateway user',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'ownership',
    description:
      'Checks that every file under the state dir and the agent workspaces is owned by the user who runs the gateway (service User=, else the home\'s owner). With a baseline: entries that were in the gateway user\'s own group there and are in another group here (a warning).',
    why: 'After `sudo cp` or `sudo tar x` the files belong to root: the gateway crash-loops with EACCES, or cannot rotate its own secrets.',
    fix: 'chown the state dir and workspaces to the gateway user.',
    autofix: true,
  },
  check({ machine, baseline }) {
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      const user = home.gatewayUser;
      if (user.uid === 0) continue;
      const inventories = ownTrees(install);
      for (const inventory of inventories) {
        const foreign = foreignEntries(inventory, user.uid);
        if (foreign.length === 0) continue;
        const owners = [...new Set(foreign.map((entry) => userName(machine, entry.uid)))];
        const spec = ownerSpec(machine, user);
        reports.push({
          message: inventory.unseen
            ? `${inventory.root} is owned by ${owners.join(', ')}, not ${describeUser(user)} who runs the gateway, and cannot be read as uid ${inventory.unseen.uid}: nothing inside it was checked.`
            : `${plural(foreign.length, 'entry', 'entries')} under ${inventory.root} ${foreign.length === 1 ? 'is' : 'are'} owned by ${owners.join(', ')}, not ${describeUser(user)} who runs the gateway.`,
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
    if (baseline) reports.push(...groupDrift(machine, baseline));
    return reports;
  },
};
export default rule;

function foreignEntries(inventory: FileInventory, uid: number): FileEntry[] {
  return inventory.entries.filter((entry) => entry.type !== 'symlink' && entry.uid !== uid);
}

function homeOf(machine: Machine, stateDir: string): Home | undefined {
  return machine.homes.find((home) => home.installs.some((install) => install.stateDir === stateDir));
}

/**
 * Baseline part: the group. The live check sees owners only; the baseline says which entries were in the
 * gateway user's own group there, so one that is owned by the right user here but sits in another group
 * (root's after `sudo tar x`, a shared group) drifted on the way. Group bits then open it to that group.
 */
function groupDrift(machine: Machine, baseline: Machine): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists) continue;
    const oldHome = homeOf(baseline, match.baseline.stateDir);
    const newHome = homeOf(machine, current.stateDir);
    if (!oldHome || !newHome) continue;
    const oldUser = oldHome.gatewayUser;
    const user = newHome.gatewayUser;
    if (user.uid === 0) continue;
    for (const pair of inventoryPairs(match)) {
      if (!pair.current?.exists) continue;
      // the baseline map is built only when some entry here sits outside the user's own group
      let before: ReadonlyMap<string, FileEntry> | undefined;
      const drifted = pair.current.entries.filter((entry) => {
        if (entry.type === 'symlink' || entry.uid !== user.uid || entry.gid === user.gid) return false;
        before ??= entriesOf(pair.baseline);
        return before.get(entry.path)?.gid === oldUser.gid;
      });
      if (drifted.length === 0) continue;
      const groups = [...new Set(drifted.map((entry) => groupName(machine, entry.gid)))];
      const spec = ownerSpec(machine, user);
      const root = pair.current.root;
      reports.push({
        severity: 'warning',
        message: `${plural(drifted.length, 'entry', 'entries')} under ${root} ${drifted.length === 1 ? 'is' : 'are'} in group ${groups.join(', ')}; on the old machine ${drifted.length === 1 ? 'it was' : 'they were'} in ${user.name ?? user.uid}'s own group (${groupName(baseline, oldUser.gid)} there, ${groupName(machine, user.gid)} here).`,
        path: root,
        install: current.id,
        evidence: sample(drifted.map((entry) => `${groupName(machine, entry.gid)} ${joinPath(root, entry.path)}`)),
        fix: {
          summary: `Give the files back to ${user.name ?? user.uid}'s own group.`,
          commands: [`sudo chown -R ${sh(spec)} ${sh(root)}`],
          actions: [{ kind: 'chown', path: root, uid: user.uid, gid: user.gid, recursive: true }],
        },
      });
    }
  }
  return reports;
}
