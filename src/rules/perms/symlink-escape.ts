import { REBUILDABLE_DIR } from '../../knowledge/layout.js';
import type { FileInventory, Phase, Rule, RuleReport } from '../../model.js';
import { installsOf, isInside, joinPath, plural, sample, sh } from '../lib.js';
import path from 'node:path';

export const rule: Rule = {
  meta: {
    id: 'perms/symlink-escape',
    title: 'Symlink broken or pointing outside',
    severity: 'warning',
    phases: ['audit', 'verify', 'image', 'inspect'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    description:
      "A symlink inside the state dir or a workspace is broken, or points outside it (often into the old machine's paths). In an archive, a link to an absolute path counts too, and a relative one is broken when the archive does not hold its target. Links in dirs Resonix rebuilds (plugin-skills/, cache/, tmp/, npm/, tools/) are left alone.",
    why: 'A copy keeps the link but not what it points to: the gateway finds nothing there on the new machine, or reads a file the backup never held.',
    fix: 'Replace the link with the file it points to, or fix its target.',
  },
  check({ phase, machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      const inventories = [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory).filter((inventory) => !isInside(inventory.root, install.stateDir))];
      for (const inventory of inventories) {
        const found = escapes(inventory, phase);
        if (found.length === 0) continue;
        const broken = found.filter((item) => item.broken).length;
        const where = phase === 'inspect' ? 'point outside it or to an absolute path' : 'point outside it';
        reports.push({
          message: `${plural(found.length, 'symlink')} under ${inventory.root} ${broken > 0 ? `${broken === found.length ? 'are' : 'include'} broken or ` : ''}${where}.`,
          path: inventory.root,
          install: install.id,
          evidence: sample(found.map(describe)),
          fix:
            phase === 'inspect'
              ? {
                  summary: 'The archive holds the links, not what they point to: on the machine it was made on, replace each link with its file (or archive with --dereference), then make the archive again.',
                  commands: [`tar --dereference -czf resonix-backup.tgz ${sh(inventory.root)}   # on the machine the archive was made on`],
                }
              : {
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

interface Escape {
  path: string;
  target: string;
  broken: boolean;
  /** inspect: an absolute target names a path on whatever machine the archive is restored to */
  absolute?: boolean;
}

/**
 * In an archive (phase inspect) nothing was resolved on disk: a link is broken when its relative target,
 * inside the inventory, is not a member (nor below a member that is itself a link).
 */
function brokenInArchive(inventory: FileInventory, targetPath: string, members: Map<string, string>): boolean {
  const relative = path.posix.relative(inventory.root, targetPath);
  if (relative === '' || members.has(relative)) return false;
  const parts = relative.split('/');
  for (let i = 1; i < parts.length; i++) if (members.get(parts.slice(0, i).join('/')) === 'symlink') return false;
  return true;
}

function escapes(inventory: FileInventory, phase: Phase): Escape[] {
  const found: Escape[] = [];
  const members = phase === 'inspect' ? new Map(inventory.entries.map((entry) => [entry.path, entry.type])) : undefined;
  // by index: for…of allocates an iterator result per entry, and few entries are links
  const entries = inventory.entries;
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (entry.type !== 'symlink' || REBUILDABLE_DIR.test(entry.path)) continue;
    const target = entry.linkTarget ?? '';
    const resolved = path.posix.resolve(path.posix.dirname(joinPath(inventory.root, entry.path)), target);
    const outside = !isInside(resolved, inventory.root);
    const item = { path: joinPath(inventory.root, entry.path), target };
    if (members) {
      const absolute = path.posix.isAbsolute(target);
      const broken = !absolute && !outside && brokenInArchive(inventory, resolved, members);
      if (absolute || outside || broken) found.push({ ...item, broken, ...(absolute ? { absolute } : {}) });
    } else if (entry.linkBroken || outside) {
      found.push({ ...item, broken: entry.linkBroken === true });
    }
  }
  return found;
}

function describe(item: Escape): string {
  return `${item.path} -> ${item.target}${item.broken ? ' (broken)' : item.absolute ? ' (absolute)' : ''}`;
}
