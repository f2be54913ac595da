import { resonixCommand } from '../../knowledge/command.js';
import type { Rule, RuleReport } from '../../model.js';
import { calverCompare, installedResonixVersion, parseResonixVersion, SQLITE_LAYOUT_SINCE } from '../../knowledge/versions.js';
import { counterpartIn, installsOf } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'version/layout-upgrade',
    title: 'File-based state meets the SQLite layout',
    severity: 'info',
    phases: ['verify'],
    area: 'sessions',
    verdict: 'migration',
    fixStep: 'config',
    needsBaseline: true,
    description: `The baseline install is file-based (JSON/JSONL sessions, auth-profiles.json) and this machine's Resonix is ${SQLITE_LAYOUT_SINCE} or newer (or this install already has the SQLite layout).`,
    why: 'From 2026.5.30 Resonix keeps sessions, transcripts and auth profiles in SQLite: until `resonix doctor --fix` imports the copied files, the gateway starts with no history and logged-out providers.',
    fix: 'Run `resonix doctor --fix` (with the gateway stopped) before starting the gateway.',
  },
  check({ machine, baseline }) {
    if (!baseline) return [];
    const reports: RuleReport[] = [];
    for (const { home, install } of installsOf(machine)) {
      if (!install.inventory.exists) continue;
      const old = counterpartIn(baseline, install);
      if (!old || old.install.generation !== 'file') continue;
      const installed = installedResonixVersion(machine, home, install);
      const newBuild = installed !== undefined && parseResonixVersion(installed) !== undefined && calverCompare(installed, SQLITE_LAYOUT_SINCE) >= 0;
      const sqliteHere = install.generation === 'sqlite' || install.generation === 'mixed';
      if (!newBuild && !sqliteHere) continue;
      const cli = resonixCommand(install, home.path);
      const why = newBuild ? `Resonix ${installed} here uses the SQLite layout` : `${install.stateDir} here already has the SQLite layout`;
      reports.push({
        message: `${old.install.stateDir} on the old machine is file-based (JSON/JSONL sessions) and ${why}: run \`resonix doctor --fix\` before starting the gateway, or it starts without the copied history and logins.`,
        path: install.stateDir,
        install: install.id,
        evidence: [`old machine: ${old.install.stateDir} (file-based)`, `here: ${install.stateDir} (${install.generation})${installed ? `, Resonix ${installed}` : ''}`],
        fix: {
          summary: 'Import the file-based state into SQLite with the gateway stopped, then check the result.',
          commands: [`${cli} gateway stop`, `${cli} doctor --fix`, `${cli} doctor`],
        },
      });
    }
    return reports;
  },
};
export default rule;
