// resonix-migrate.schema.json: generated from the rule list (npm run docs), committed, shipped in the package.
// It must be in sync with the rules, valid JSON Schema, and agree with what validateConfig (which checks with it) accepts.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { UsageError, validateConfig } from '../src/config.js';
import { configSchema, configSchemaText } from '../src/config-schema.js';
import { builtinRules } from '../src/rules/index.js';
import { REPO_ROOT } from './helpers/scenario.js';

const require = createRequire(import.meta.url);
const Ajv = require('ajv-draft-04') as typeof import('ajv-draft-04').default;

const FILE = path.join(REPO_ROOT, 'resonix-migrate.schema.json');
const ids = new Set(builtinRules.map((rule) => rule.meta.id));

describe('resonix-migrate.schema.json', () => {
  it('is what npm run docs generates from the rules (run it when this fails)', () => {
    expect(fs.readFileSync(FILE, 'utf8')).toBe(configSchemaText(builtinRules));
  });

  const validate = new Ajv({ strict: true, allErrors: true }).compile(JSON.parse(fs.readFileSync(FILE, 'utf8')));
  const accepted = (config: unknown): boolean => {
    try {
      validateConfig(config, 'config', ids);
      return true;
    } catch (error) {
      if (error instanceof UsageError) return false;
      throw error;
    }
  };

  it.each<[string, unknown, boolean]>([
    ['the README example', { rules: { 'state/multiple-dirs': 'off', 'remote/client-only': 'info' }, archives: ['~/stash/**/*.tgz', '/srv/backups/*'] }, true],
    ['a suppression with an expiry', { suppressions: [{ rule: 'perms/secrets-exposed', path: '$STATEDIR', reason: 'lab box, OPS-12', expires: '2027-01-31' }] }, true],
    ['a $schema pointer', { $schema: './node_modules/resonix-migrate/resonix-migrate.schema.json', rules: {} }, true],
    ['a plugin rule id', { plugins: ['./acme.mjs'], rules: { 'acme/large-media': 'warning' } }, true],
    ['a "*" suppression', { suppressions: [{ rule: '*', path: '**', reason: 'sandbox' }] }, true],
    ['a misspelt built-in rule id', { rules: { 'perms/secret-exposed': 'off' } }, false],
    ['a bad severity', { rules: { 'state/multiple-dirs': 'warn' } }, false],
    ['an unknown key', { rule: {} }, false],
    ['a suppression without a reason', { suppressions: [{ rule: 'perms/secrets-exposed', path: '$STATEDIR', reason: ' ' }] }, false],
    ['a bad expiry date', { suppressions: [{ rule: 'perms/secrets-exposed', path: '$STATEDIR', reason: 'r', expires: '31.01.2027' }] }, false],
    ['archives that are not a list', { archives: '~/x.tgz' }, false],
  ])('%s: the schema and the tool agree', (_name, config, expected) => {
    expect(accepted(config)).toBe(expected);
    expect(validate(config), JSON.stringify(validate.errors)).toBe(expected);
  });

  // the tool validates with the same schema (schemaError), and says the first problem in one line naming the file and key
  it.each<[unknown, string]>([
    [[], 'F: the config must be an object'],
    [{ rulez: {} }, 'F: unknown key "rulez" (known: $schema, rules, archives, suppressions, plugins)'],
    [{ rules: [] }, 'F: "rules" must map rule ids to severities'],
    [{ rules: { 'copy/nope': 'off' } }, 'F: unknown rule "copy/nope" (resonix-migrate rules lists them)'],
    [{ rules: { 'copy/config-only': 'warn' } }, 'F: rule "copy/config-only" must be off, info, warning or error'],
    [{ rules: { 'acme/large-media': 'warn' } }, 'F: rule "acme/large-media" must be off, info, warning or error'],
    [{ archives: [1] }, 'F: "archives" must be a list of globs'],
    [{ plugins: {} }, 'F: "plugins" must be a list of package names or paths'],
    [{ suppressions: {} }, 'F: "suppressions" must be a list of { rule, path, reason, expires? }'],
    [{ suppressions: [5] }, 'F: suppressions[0] must be an object'],
    [{ suppressions: [{ rule: '*', path: 'a', reason: 'r', owner: 'me' }] }, 'F: suppressions[0]: unknown key "owner"'],
    [{ suppressions: [{ path: 'a', reason: 'r' }] }, 'F: suppressions[0]: "rule" must be a rule id'],
    [{ suppressions: [{ rule: 'copy/nope', path: 'a', reason: 'r' }] }, 'F: suppressions[0]: unknown rule "copy/nope" (resonix-migrate rules lists them)'],
    [{ suppressions: [{ rule: '*', path: '', reason: 'r' }] }, 'F: suppressions[0]: "path" must be a glob'],
    [{ suppressions: [{ rule: '*', path: 'a', reason: ' ' }] }, 'F: suppressions[0]: a "reason" is required'],
    [{ suppressions: [{ rule: '*', path: 'a', reason: 'r', expires: '2027' }] }, 'F: suppressions[0]: "expires" must be a date YYYY-MM-DD'],
  ])('%j: %s', (config, message) => {
    expect(() => validateConfig(config, 'F', ids)).toThrow(new UsageError(message));
  });

  it('the validator knows every keyword the published schema uses', () => {
    const known = new Set(['$schema', 'title', 'description', 'type', 'properties', 'patternProperties', 'additionalProperties', 'required', 'items', 'minItems', 'enum', 'anyOf', 'pattern', 'minLength']);
    const used = new Set<string>();
    const visit = (schema: Record<string, unknown>, inMap = false): void => {
      for (const [key, value] of Object.entries(schema)) {
        if (!inMap) used.add(key);
        if (value && typeof value === 'object' && !Array.isArray(value)) visit(value as Record<string, unknown>, !inMap && (key === 'properties' || key === 'patternProperties'));
        if (Array.isArray(value)) for (const item of value) if (item && typeof item === 'object') visit(item as Record<string, unknown>);
      }
    };
    visit(configSchema(builtinRules) as Record<string, unknown>);
    expect([...used].filter((key) => !known.has(key))).toEqual([]);
  });
});
