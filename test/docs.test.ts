// Docs and tests are part of a rule: this fails when a rule lacks its page, its examples, its
// firing/silent unit tests, or when the page, the README table or the catalog disagree with the metadata.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRuleExamples, ruleDocPage, ruleDocPath, rulesTable, ruleExamplesPath, withRulesTable } from '../src/docs.js';
import { builtinRules } from '../src/rules/index.js';
import { REPO_ROOT } from './helpers/scenario.js';
import { RULE_CATALOG } from './helpers/shared.js';

const CATALOG = RULE_CATALOG;

describe('every rule', () => {
  for (const rule of builtinRules) {
    const id = rule.meta.id;
    it(`${id}: has examples, a current doc page, and unit tests that fire and stay silent`, () => {
      const examples = readRuleExamples(id, REPO_ROOT);
      expect(examples, `${ruleExamplesPath(id)} is missing`).toBeDefined();
      expect(examples).toMatch(/^## Fails$/m);
      expect(examples).toMatch(/^## Passes$/m);
      const page = path.join(REPO_ROOT, ruleDocPath(id));
      expect(fs.existsSync(page), `${ruleDocPath(id)} is missing: run npm run docs`).toBe(true);
      expect(fs.readFileSync(page, 'utf8'), `${ruleDocPath(id)} is stale: run npm run docs`).toBe(ruleDocPage(rule, examples));
      const test = path.join(REPO_ROOT, 'test', 'rules', `${id}.test.ts`);
      expect(fs.existsSync(test), `test/rules/${id}.test.ts is missing`).toBe(true);
      expect(fs.readFileSync(test, 'utf8')).toMatch(/ruleCases\(rule, \{/);
      expect(rule.meta.description.length).toBeGreaterThan(20);
      expect(rule.meta.phases.length).toBeGreaterThan(0);
    });
  }

  it('the README rule table is current', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(rulesTable(builtinRules));
    expect(withRulesTable(readme, builtinRules)).toBe(readme);
  });

  it('ids are unique and kebab-case family/name', () => {
    const ids = builtinRules.map((rule) => rule.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+\/[a-z]+(-[a-z]+)*$/);
  });

  it.skipIf(!fs.existsSync(CATALOG))(`every catalog id is implemented, with the catalog phases and severity${fs.existsSync(CATALOG) ? '' : ` (skipped: ${CATALOG} is missing)`}`, () => {
    const catalog = fs.readFileSync(CATALOG, 'utf8');
    const rows = [...catalog.matchAll(/^\| `([a-z]+\/[a-z-]+)` \| ([a-z, ]+) \| ([a-z]+)/gm)];
    expect(rows.length).toBeGreaterThan(30);
    for (const [, id, phases, severity] of rows) {
      const rule = builtinRules.find((candidate) => candidate.meta.id === id);
      expect(rule, `${id} from the catalog is not implemented`).toBeDefined();
      expect(rule!.meta.phases.join(', '), id).toBe(phases!.trim());
      expect(rule!.meta.severity, id).toBe(severity);
    }
  });
});
