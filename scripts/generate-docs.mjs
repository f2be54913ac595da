// npm run docs: regenerates docs/rules/<id>.md and the README's rule table from the rule metadata.
import fs from 'node:fs';
import path from 'node:path';
import { readRuleExamples, ruleDocPage, ruleDocPath, withRulesTable } from '../dist/docs.js';
import { builtinRules } from '../dist/rules/index.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
for (const rule of builtinRules) {
  const file = path.join(root, ruleDocPath(rule.meta.id));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, ruleDocPage(rule, readRuleExamples(rule.meta.id, root)));
}
const readme = path.join(root, 'README.md');
fs.writeFileSync(readme, withRulesTable(fs.readFileSync(readme, 'utf8'), builtinRules));
console.log(`wrote ${builtinRules.length} rule pages and the README table`);
