import { resonixCommand } from '../../knowledge/command.js';
import { AGENT_DB, STATE_DB, servicesFor } from '../../knowledge/layout.js';
import { calverCompare, installedResonixVersion, parseResonixVersion } from '../../knowledge/versions.js';
import type { Rule, RuleReport } from '../../model.js';
import { counterpartIn, installsOf, keyAt, sample } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'version/downgrade',
    title: 'Resonix here is older than the state',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'versions',
    verdict: 'migration',
    fixStep: 'runtime',
    description:
      'The installed Resonix (on PATH, or the package a service runs) is older than the config\'s meta.lastTouchedVersion, than the version the baseline machine ran, or an SQLite database\'s user_version is above the schema this build declares (package.json resonix.schemaVersions).',
    why: 'An older build refuses a config last written by a newer one ("binary is older than the config last written by …") and refuses databases with a newer schema: the gateway does not start.',
    fix: 'Install the same or a newer Resonix than the old machine ran, then reinstall the service.',
  },
  check({ machine, baseline, skip }) {
    const reports: RuleReport[] = [];
    const known = installsOf(machine).next().done === true || [...installsOf(machine)].some(({ home, install }) => installedResonixVersion(machine, home, install) !== undefined);
    if (!known) skip?.('the installed Resonix version is unknown (no resonix on PATH or beside the service): pass --resonix-version');
    for (const { home, install } of installsOf(machine)) {
      if (!install.inventory.exists) continue;
      const installed = installedResonixVersion(machine, home, install);
      const evidence: string[] = [];
      const newer: Newer[] = [];

      if (installed !== undefined) {
        const candidates: Newer[] = [];
        const written = install.config.lastTouchedVersion;
        if (written) candidates.push({ version: written, what: `${install.config.path} was last written by Resonix ${written}` });
        if (baseline) {
          const old = counterpartIn(baseline, install);
          const oldWritten = old?.install.config.lastTouchedVersion;
          if (old && oldWritten) candidates.push({ version: oldWritten, what: `on the old machine, ${old.install.config.path} was last written by Resonix ${oldWritten}` });
          const oldRuntime = baseline.runtime?.resonixVersion;
          if (oldRuntime) candidates.push({ version: oldRuntime, what: `the old machine runs Resonix ${oldRuntime}` });
          if (old) {
            for (const unit of servicesFor(old.home, old.install)) {
              if (unit.resonixVersion) candidates.push({ version: unit.resonixVersion, what: `the old machine's service ${unit.name} ran Resonix ${unit.resonixVersion}` });
            }
          }
        }
        for (const candidate of candidates) {
          if (!parseResonixVersion(candidate.version) || calverCompare(installed, candidate.version) >= 0) continue;
          if (!evidence.includes(candidate.what)) evidence.push(candidate.what);
          newer.push(candidate);
        }
      }

      const schemas = machine.runtime?.schemaVersions;
      const tooNew: string[] = [];
      if (schemas) {
        for (const header of install.sqlite) {
          if (!header.valid || header.userVersion === undefined) continue;
          const limit = header.path === STATE_DB ? schemas.state : AGENT_DB.test(header.path) ? schemas.agent : undefined;
          if (limit === undefined || header.userVersion <= limit) continue;
          tooNew.push(`${header.path}: schema ${header.userVersion}, this build reads up to ${limit}`);
        }
      }
      if (newer.length === 0 && tooNew.length === 0) continue;

      const needed = newer.reduce<string | undefined>((best, item) => (best === undefined || calverCompare(item.version, best) > 0 ? item.version : best), undefined);
      const build = installed !== undefined ? `Resonix ${installed}` : 'The Resonix installed here';
      const parts: string[] = [];
      if (needed !== undefined) parts.push(`older than Resonix ${needed}, which last wrote this state`);
      if (tooNew.length > 0) parts.push(`${tooNew.length === 1 ? 'a database was' : `${tooNew.length} databases were`} written with a newer schema than it can read`);
      const cli = resonixCommand(install, home.path);
      const services = servicesFor(home, install);
      reports.push({
        message: `${build} is ${parts.join(', and ')} (${install.stateDir}): it will refuse the config or the databases and the gateway will not start.`,
        path: needed !== undefined && install.config.exists ? install.config.path : install.stateDir,
        ...(needed !== undefined && install.config.exists ? keyAt(install.config, 'meta.lastTouchedVersion') : {}),
        install: install.id,
        evidence: sample([...evidence, ...tooNew]),
        fix: {
          summary: `Install Resonix ${needed ?? 'latest'} or newer (never restore onto an older build), then ${services.length > 0 ? 'reinstall the service so it runs that build' : 'check it'}.`,
          commands: [
            `npm install -g resonix@${needed ?? 'latest'}`,
            ...(services.length > 0 ? [`${cli} gateway install --force`] : []),
            `${cli} doctor`,
          ],
        },
      });
    }
    return reports;
  },
};
export default rule;

interface Newer {
  version: string;
  what: string;
}
