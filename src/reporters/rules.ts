// `rules` and `explain`: the rule metadata as a table, and one rule as a page.
import type { Rule } from '../model.js';
import { readRuleExamples, ruleDocPage } from '../docs.js';

export function formatRuleList(rules: readonly Rule[], format: 'pretty' | 'json'): string {
  if (format === 'json') {
    const list = rules.map(({ meta }) => ({ id: meta.id, title: meta.title, severity: meta.severity, phases: meta.phases, autofix: meta.autofix ?? false, needsBaseline: meta.needsBaseline ?? false }));
    return `${JSON.stringify(list, null, 2)}\n`;
  }
  const width = Math.max(...rules.map((rule) => rule.meta.id.length));
  const lines = rules.map(({ meta }) => `${meta.id.padEnd(width)}  ${meta.severity.padEnd(7)}  ${meta.phases.join(',').padEnd(26)}  ${meta.autofix ? 'autofix  ' : '         '}${meta.title}`);
  return `${lines.join('\n')}\n`;
}

export function explainRule(id: string, rules: readonly Rule[]): string | undefined {
  const rule = rules.find((candidate) => candidate.meta.id === id);
  return rule ? ruleDocPage(rule, readRuleExamples(rule.meta.id), rules) : undefined;
}
