import type { FileInventory, Rule, RuleReport } from '../../model.js';
import { REBUILDABLE_DIR, installsOf, isInside, joinPath, plural, sample, sh } from '../lib.js';
import path from 'node:path';

function escapes(inventory: FileInventory): { path: string; target: string; broken: boolean }[] {
  const found: { path: string; target: string; broken: boolean }[] = [];
  for (const entry of inventory.entries) {
    if (entry.type !== 'symlink' || REBUILDABLE_DIR.test(entry.path)) continue;
    const target = entry.linkTarget ?? '';
    const absolute = path.posix.resolve(path.posix.dirname(joinPath(inventory.root, entry.path)), target);
    const outside = !isInside(absolute, inventory.root);
    if (entry.linkBroken || outside) found.push({ path: joinPath(inventory.root, entry.path), target, broken: entry.linkBroken === true });
  }
  return found;
}

export const rule: Rule = {
  meta: {
    id: 'perms/symlink-escape',
    title: 'Symlink broken or pointing outside',
    severity: 'warning',
    phases: ['audit', 'verify', 'image', 'inspect'],
    description:
      'A symlink inside the state dir or a workspace is broken, or points outside it (often into the old machine\'s paths). Links in dirs Resonix rebuilds (plugin-skills/, cache/, tmp/, npm/, tools/) are left alone.',
    why: 'A copy keeps the link but not what it points to: the gateway finds nothing there on the new machine, or reads a file the backup never held.',
    fix: 'Replace the link with the file it points to, or fix its target.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      const inventories = [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !isInside(inventory.root, install.stateDir))];
      for (const inventory of inventories) {
        const found = escapes(inventory);
        if (found.length === 0) continue;
        const broken = found.filter((item) => item.broken).length;
        reports.push({
          message: `${plural(found.length, 'symlink')} under ${inventory.root} ${broken > 0 ? `${broken === found.length ? 'are' : 'include'} broken or ` : ''}point outside it.`,
          path: inventory.root,
          install: install.id,
          evidence: sample(found.map((item) => `${item.path} -> ${item.target}${item.broken ? ' (broken)' : ''}`)),
          fix: {
            summary: 'Copy the real file in place of each link (or point it at the new path).',
            commands: found.slice(0, 10).map((item) => (item.broken ? `ln -sfn <new-target> ${sh(item.path)}` : `cp --remove-destination "$(readlink -f ${sh(item.path)})" ${sh(item.path)}`)),
          },
        });
      }
    }
    return reports;
  },
};
export default rule;
