import type { Rule, RuleReport } from '../../model.js';
import { SYNCED_FOLDER, installsOf, sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/risky-location',
    title: 'State in a synced folder or on tmpfs',
    severity: 'warning',
    phases: ['audit', 'verify', 'image'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    description: 'The state dir or a workspace lies inside a synced folder (iCloud, CloudStorage, Dropbox, OneDrive, Google Drive) or on tmpfs/ramfs.',
    why: 'Sync clients copy SQLite files mid-write and upload secrets to the cloud; tmpfs loses everything at reboot.',
    fix: 'Move the state dir and workspaces to local disk and point Resonix there.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.inventory.exists) continue;
      const places = [{ what: 'State dir', path: install.stateDir }, ...install.workspaces.filter((workspace) => workspace.inventory.exists).map((workspace) => ({ what: `Workspace of ${workspace.agentId}`, path: workspace.path }))];
      for (const place of places) {
        if (!SYNCED_FOLDER.test(place.path)) continue;
        reports.push({
          message: `${place.what} ${place.path} is inside a synced folder: the sync client copies databases mid-write and uploads secrets.`,
          path: place.path,
          install: install.id,
          fix: { summary: 'Move it to local disk, then point Resonix at the new place.', commands: [`rsync -a ${sh(place.path)}/ ~/.resonix-local/   # then set RESONIX_STATE_DIR or the workspace path`] },
        });
      }
      if (install.fsType && VOLATILE_FS.has(install.fsType)) {
        reports.push({
          message: `State dir ${install.stateDir} is on ${install.fsType}: it is lost at every reboot.`,
          path: install.stateDir,
          install: install.id,
          fix: { summary: 'Move it to a disk-backed file system.', commands: [`rsync -a ${sh(install.stateDir)}/ ~/.resonix/`, 'resonix gateway install --force'] },
        });
      }
    }
    return reports;
  },
};
export default rule;

const VOLATILE_FS = new Set(['tmpfs', 'ramfs']);
