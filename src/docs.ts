// One page per rule, generated from its metadata: `explain` prints it and docs/rules/ holds it.
import type { Rule } from './model.js';

export function ruleDocPath(id: string): string {
  return `docs/rules/${id}.md`;
}

export function ruleDocPage(rule: Rule): string {
  const { meta } = rule;
  const lines = [
    `# ${meta.id}`,
    '',
    `> ${meta.title}`,
    '',
    `| default severity | phases | autofix | needs a baseline |`,
    `| --- | --- | --- | --- |`,
    `| ${meta.severity} | ${meta.phases.join(', ')} | ${meta.autofix ? 'yes' : 'no'} | ${meta.needsBaseline ? 'yes' : 'no'} |`,
    '',
    '## What it checks',
    '',
    meta.description,
    '',
    '## Why it matters',
    '',
    meta.why,
    '',
    '## How to fix',
    '',
    meta.fix,
    '',
    'Each finding carries the exact commands for your paths and user.',
    '',
    '## Configure',
    '',
    '```sh',
    `resonix-migrate verify --rule ${meta.id}=warning   # or off | info | error`,
    '```',
    '',
  ];
  return lines.join('\n');
}
