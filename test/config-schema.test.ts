// resonix-migrate.schema.json: generated from the rule list (npm run docs), committed, shipped in the package.
// It must be in sync with the rules, valid JSON Schema, and agree with what validateConfig accepts.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { UsageError, validateConfig } from '../src/config.js';
import { configSchemaText } from '../src/config-schema.js';
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
});
