// The JSON schema of this tool's config file (resonix-migrate.schema.json, shipped in the package so editors can
// check a .resonix-migraterc.json: `"$schema": "./node_modules/resonix-migrate/resonix-migrate.schema.json"`).
// Built from the rule list, so every rule id is offered with its title; `npm run docs` writes the file and a test
// fails when the committed one is stale. JSON Schema draft-04, as the ajv build the tests already use reads it.
// It says what validateConfig (config.ts) enforces; the tool itself still checks plugin rule ids when it loads them.
import type { Rule } from './model.js';

const SEVERITY = { enum: ['off', 'info', 'warning', 'error'] };

/** As isPluginRuleId (config.ts): an id may belong to a plugin unless its family is a built-in one. */
function pluginIdPattern(rules: readonly Rule[]): string {
  const families = [...new Set(rules.map((rule) => rule.meta.id.slice(0, rule.meta.id.lastIndexOf('/'))))].sort();
  return `^(?!(${families.join('|')})/[^/]+$)[^/]+/.+$`;
}

export function configSchema(rules: readonly Rule[]): Record<string, unknown> {
  const ids = rules.map((rule) => rule.meta.id);
  const pluginIds = pluginIdPattern(rules);
  const ruleProperties = Object.fromEntries(rules.map((rule) => [rule.meta.id, { description: `${rule.meta.title} (default ${rule.meta.severity})`, ...SEVERITY }]));
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'resonix-migrate config',
    description: 'Config of resonix-migrate: .resonix-migraterc(.json), resonix-migrate.config.json, or the "resonix-migrate" key of package.json.',
    type: 'object',
    additionalProperties: false,
    properties: {
      $schema: { type: 'string', description: 'Where an editor finds this schema.' },
      rules: {
        description: 'Rule id → severity, or "off". Ids of plugin rules are "<plugin>/<rule>".',
        type: 'object',
        properties: ruleProperties,
        patternProperties: { [pluginIds]: SEVERITY },
        additionalProperties: false,
      },
      archives: { description: 'Extra globs where backup archives may be.', type: 'array', items: { type: 'string' } },
      suppressions: {
        description: 'Findings that stop failing the run, each with a reason; an expired one says so.',
        type: 'array',
        items: {
          type: 'object',
          required: ['rule', 'path', 'reason'],
          additionalProperties: false,
          properties: {
            rule: { description: 'A rule id, or "*" for every rule.', anyOf: [{ enum: ['*', ...ids] }, { type: 'string', pattern: pluginIds }] },
            path: { description: 'A glob over the finding\'s path: absolute, ~/…, $STATEDIR/…, $HOME/… or $ROOTFS/…', type: 'string', minLength: 1 },
            reason: { type: 'string', pattern: '\\S' },
            expires: { description: 'YYYY-MM-DD: from that day on it stops suppressing.', type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
          },
        },
      },
      plugins: { description: 'Rule modules: package names, or paths relative to the config file.', type: 'array', items: { type: 'string' } },
    },
  };
}

/** The file's text: two-space JSON and a final newline. */
export function configSchemaText(rules: readonly Rule[]): string {
  return `${JSON.stringify(configSchema(rules), null, 2)}\n`;
}
