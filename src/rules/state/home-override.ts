import path from 'node:path';
import type { Rule, RuleReport } from '../../model.js';
import { sh } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/home-override',
    title: 'RESONIX_HOME points at a state dir',
    severity: 'warning',
    phases: ['audit', 'verify', 'image'],
    area: 'service',
    verdict: 'migration',
    fixStep: 'service',
    description: 'RESONIX_HOME (in the shell or a service unit) points at a .resonix* dir. It replaces the home dir, it is not the state dir, so Resonix uses <that dir>/.resonix.',
    why: 'Setting RESONIX_HOME=~/.resonix makes Resonix read and write ~/.resonix/.resonix/resonix.json: a second, empty install inside the first.',
    fix: 'Unset RESONIX_HOME, or set RESONIX_STATE_DIR instead.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      const sources = [
        { where: 'the environment', value: home.resolution.resonixHome, unit: undefined },
        ...home.services.map((unit) => ({ where: `service ${unit.name}`, value: unit.env.RESONIX_HOME, unit })),
      ];
      for (const { where, value, unit } of sources) {
        if (!value || !STATE_DIR_NAME.test(path.posix.basename(value.replace(/\/+$/, '')))) continue;
        reports.push({
          message: `RESONIX_HOME=${value} in ${where}: Resonix will use ${path.posix.join(value, '.resonix')} as its state dir, not ${value}.`,
          path: unit?.path ?? value,
          fix: {
            summary: 'Point RESONIX_STATE_DIR at the state dir and drop RESONIX_HOME.',
            commands: unit
              ? [`resonix gateway install --force   # from a shell without RESONIX_HOME`, `grep -n RESONIX_HOME ${sh(unit.path)}`]
              : ['unset RESONIX_HOME', `export RESONIX_STATE_DIR=${sh(value)}`],
          },
        });
      }
    }
    return reports;
  },
};
export default rule;

const STATE_DIR_NAME = /^\.resonix(-[a-z0-9][a-z0-9_-]*)?$/;
