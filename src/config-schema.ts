// The JSON schemas of what users hand this tool, and the one validator that checks them.
// - The config file's schema (resonix-migrate.schema.json, shipped in the package so editors can check a
//   .resonix-migraterc.json: `"$schema": "./node_modules/resonix-migrate/resonix-migrate.schema.json"`). Built
//   from the rule list, so every rule id is offered with its title; `npm run docs` writes the file and a test
//   fails when the committed one is stale. JSON Schema draft-04, as the ajv build the tests already use reads it.
// - A plugin's exports and its rules' metadata (plugins.ts).
// config.ts and plugins.ts validate with `schemaError` below and turn its answer into their one-line messages,
// so what the published schema says is what the tool enforces. A small validator for the subset these schemas
// use, not ajv: ajv costs ~25 ms to import and ~30 ms to compile the config schema (README, "Libraries").
import type { Rule } from './model.js';
import { PHASES } from './model.js';

/** The draft-04 keywords these schemas use; the validator knows no others. */
export interface JsonSchema {
  $schema?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string';
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: false;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  enum?: readonly unknown[];
  anyOf?: JsonSchema[];
  pattern?: string;
  minLength?: number;
}

const SEVERITY = { enum: ['off', 'info', 'warning', 'error'] };

/** As the tool reads ids before plugins load: an id may belong to a plugin unless its family is a built-in one. */
function pluginIdPattern(ids: readonly string[]): string {
  const families = [...new Set(ids.map((id) => id.slice(0, id.lastIndexOf('/'))))].sort();
  return `^(?!(${families.join('|')})/[^/]+$)[^/]+/.+$`;
}

function schemaOfIds(ids: readonly string[], describe: (id: string) => string | undefined): JsonSchema {
  const pluginIds = pluginIdPattern(ids);
  const ruleProperties = Object.fromEntries(ids.map((id) => [id, { ...(describe(id) ? { description: describe(id)! } : {}), ...SEVERITY }]));
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

export function configSchema(rules: readonly Rule[]): JsonSchema {
  const titles = new Map(rules.map((rule) => [rule.meta.id, `${rule.meta.title} (default ${rule.meta.severity})`]));
  return schemaOfIds([...titles.keys()], (id) => titles.get(id));
}

/** The same schema from the rule ids alone (what validateConfig is given), without the descriptions. */
export function configSchemaOfIds(ids: Iterable<string>): JsonSchema {
  return schemaOfIds([...ids], () => undefined);
}

/** The file's text: two-space JSON and a final newline. */
export function configSchemaText(rules: readonly Rule[]): string {
  return `${JSON.stringify(configSchema(rules), null, 2)}\n`;
}

/** A plugin module's exports: a lower-case name and a list of rules, each at least `{ meta }`. */
export const PLUGIN_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['name', 'rules'],
  properties: {
    name: { type: 'string', pattern: '^(@[a-z0-9-]+/)?[a-z0-9][a-z0-9-]*$' },
    rules: { type: 'array' },
  },
};

/** The metadata of a rule of the plugin `name`: its id namespaced `<name>/<rule>`, every text, a severity, phases. */
export function pluginRuleMetaSchema(name: string): JsonSchema {
  const text = { type: 'string', pattern: '\\S' } as const;
  return {
    type: 'object',
    required: ['id', 'title', 'description', 'why', 'fix', 'severity', 'phases'],
    properties: {
      id: { type: 'string', pattern: `^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/[a-z0-9-]+$` },
      title: text,
      description: text,
      why: text,
      fix: text,
      severity: { enum: ['error', 'warning', 'info'] },
      phases: { type: 'array', minItems: 1, items: { enum: PHASES } },
    },
  };
}

export interface SchemaError {
  /** where in the value: the keys and indexes from its top */
  at: (string | number)[];
  keyword: 'type' | 'additionalProperties' | 'required' | 'enum' | 'anyOf' | 'pattern' | 'minLength' | 'minItems';
  /** additionalProperties: the key no property allows; required: the key missing */
  key?: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function hasType(value: unknown, type: NonNullable<JsonSchema['type']>): boolean {
  if (type === 'object') return isObject(value);
  if (type === 'array') return Array.isArray(value);
  return typeof value === 'string';
}

/**
 * The first way `value` breaks `schema`, or undefined. An object is checked in this order: keys that no
 * property allows, then the schema's properties in their order (a missing required one where it stands),
 * then the keys patternProperties match, in the value's order.
 */
export function schemaError(schema: JsonSchema, value: unknown, at: (string | number)[] = []): SchemaError | undefined {
  if (schema.type !== undefined && !hasType(value, schema.type)) return { at, keyword: 'type' };
  if (schema.enum && !schema.enum.includes(value)) return { at, keyword: 'enum' };
  if (schema.anyOf && !schema.anyOf.some((option) => schemaError(option, value, at) === undefined)) return { at, keyword: 'anyOf' };
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) return { at, keyword: 'minLength' };
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) return { at, keyword: 'pattern' };
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return { at, keyword: 'minItems' };
    for (const [index, item] of schema.items ? value.entries() : []) {
      const error = schemaError(schema.items!, item, [...at, index]);
      if (error) return error;
    }
  }
  if (!isObject(value)) return undefined;
  const properties = schema.properties ?? {};
  const patterns = Object.entries(schema.patternProperties ?? {}).map(([pattern, sub]) => [new RegExp(pattern, 'u'), sub] as const);
  const declared = (key: string): boolean => Object.hasOwn(properties, key);
  if (schema.additionalProperties === false) {
    const key = Object.keys(value).find((item) => !declared(item) && !patterns.some(([pattern]) => pattern.test(item)));
    if (key !== undefined) return { at, keyword: 'additionalProperties', key };
  }
  for (const [key, sub] of Object.entries(properties)) {
    if (!Object.hasOwn(value, key)) {
      if (schema.required?.includes(key)) return { at, keyword: 'required', key };
      continue;
    }
    const error = schemaError(sub, value[key], [...at, key]);
    if (error) return error;
  }
  const missing = schema.required?.find((key) => !declared(key) && !Object.hasOwn(value, key));
  if (missing !== undefined) return { at, keyword: 'required', key: missing };
  for (const key of Object.keys(value)) {
    if (declared(key)) continue;
    for (const [pattern, sub] of patterns) {
      const error = pattern.test(key) ? schemaError(sub, value[key], [...at, key]) : undefined;
      if (error) return error;
    }
  }
  return undefined;
}
