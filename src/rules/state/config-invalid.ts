import type { Rule, RuleReport } from '../../model.js';
import { installsOf, sh, unseenReason } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/config-invalid',
    title: 'resonix.json cannot be read',
    severity: 'error',
    phases: ['audit', 'verify', 'image', 'inspect'],
    area: 'config',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'perms/unreadable', relation: 'inside' }],
    description: 'Parses resonix.json as JSON5 (comments, trailing commas, unquoted keys) and reports where it breaks. A config this process is not permitted to read is not judged (the perms rules say who can read it).',
    why: 'A config the gateway cannot parse is treated as clobbered: it refuses to start, or starts with defaults.',
    fix: 'Restore the config from resonix.json.bak (or the old machine), or fix the syntax at the line shown.',
  },
  check({ machine, skip }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      const error = install.config.parseError;
      if (!error) continue;
      if (NOT_PERMITTED.test(error.message)) {
        const code = error.message.slice('cannot read: '.length);
        skip?.(unseenReason([{ path: install.config.path, code, uid: install.inventory.unseen?.uid ?? machine.currentUid }]));
        continue;
      }
      const where = error.line ? ` at line ${error.line}${error.column ? `, column ${error.column}` : ''}` : '';
      const what = error.message.startsWith('cannot read') ? `${error.message}` : `is not valid JSON5${where}: ${error.message}`;
      reports.push({
        message: `${install.config.path} ${what}.`,
        path: install.config.path,
        ...(error.line ? { line: error.line, ...(error.column ? { column: error.column } : {}) } : {}),
        install: install.id,
        fix: {
          summary: 'Fix the syntax, or restore the last good copy.',
          commands: [`cp -p ${sh(`${install.config.path}.bak`)} ${sh(install.config.path)}`, 'resonix doctor'],
        },
      });
    }
    return reports;
  },
};
export default rule;

/** A config this process may not read is not invalid: it cannot be judged (perms rules say who can read it). */
const NOT_PERMITTED = /^cannot read: (EACCES|EPERM)$/;
