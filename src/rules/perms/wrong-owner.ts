import { entriesOf, inventoryPairs } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import type { FileEntry, FileInventory, Home, Machine, Rule, RuleReport } from '../../model.js';
import { describeUser, groupName, installsOf, ownTrees, joinPath, ownerSpec, plural, SAMPLE, sampleOf, sh, userName } from '../lib.js';

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
        if (foreign.count === 0) continue;
        const owners = namesOf([...foreign.uids], (uid) => userName(machine, uid));
        const spec = ownerSpec(machine, user);
        reports.push({
          message: inventory.unseen
            ? `${inventory.root} is owned by ${owners.join(', ')}, not ${describeUser(user)} who runs the gateway, and cannot be read as uid ${inventory.unseen.uid}: nothing inside it was checked.`
            : `${plural(foreign.count, 'entry', 'entries')} under ${inventory.root} ${foreign.count === 1 ? 'is' : 'are'} owned by ${owners.join(', ')}, not ${describeUser(user)} who runs the gateway.`,
          path: inventory.root,
          install: install.id,
          evidence: sampleOf(
            foreign.first.map((entry) => `${userName(machine, entry.uid)} ${joinPath(inventory.root, entry.path)}`),
            foreign.count,
          ),
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

/**
 * The entries of `inventory` (links aside) not owned by `uid`: how many, the first SAMPLE of them, and their
 * owners in order of first appearance. One pass and no list of them: after `sudo cp` it is every entry.
 */
function foreignEntries(inventory: FileInventory, uid: number): { count: number; first: FileEntry[]; uids: Set<number> } {
  const found = { count: 0, first: [] as FileEntry[], uids: new Set<number>() };
  const entries = inventory.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (entry.type === 'symlink' || entry.uid === uid) continue;
    found.count += 1;
    if (found.first.length < SAMPLE) found.first.push(entry);
    found.uids.add(entry.uid);
  }
  return found;
}

/**
 * The names of ids in order of first appearance, each once: what naming every entry's id and keeping each name
 * once gives (two ids may share a name), from the distinct ids alone.
 */
function namesOf(ids: number[], nameOf: (id: number) => string): string[] {
  return [...new Set(ids.map(nameOf))];
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
      const groups = namesOf([...new Set(drifted.map((entry) => entry.gid))], (gid) => groupName(machine, gid));
      const spec = ownerSpec(machine, user);
      const root = pair.current.root;
      reports.push({
        severity: 'warning',
        message: `${plural(drifted.length, 'entry', 'entries')} under ${root} ${drifted.length === 1 ? 'is' : 'are'} in group ${groups.join(', ')}; on the old machine ${drifted.length === 1 ? 'it was' : 'they were'} in ${user.name ?? user.uid}'s own group (${groupName(baseline, oldUser.gid)} there, ${groupName(machine, user.gid)} here).`,
        path: root,
        install: current.id,
        evidence: sampleOf(
          drifted.slice(0, SAMPLE).map((entry) => `${groupName(machine, entry.gid)} ${joinPath(root, entry.path)}`),
          drifted.length,
        ),
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
