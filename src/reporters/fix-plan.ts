// What --fix and --fix-dry-run print: the fixes planned or applied, the ones refused and why, and the
// hard-linked files a chown left alone. Pure: lists → text. The shapes are fix/'s PlannedFix, RefusedFix
// and AppliedFix, written out here because a reporter does not import the fixer.
import { printable } from '../knowledge/text.js';

interface Fix {
  /** the shell command that does the same (its paths masked) */
  command: string;
  ruleId: string;
}

const fixes = (count: number): string => `${count} fix${count === 1 ? '' : 'es'}`;

export function formatFixPlan(title: string, plan: readonly Fix[]): string {
  const width = Math.max(...plan.map((item) => item.command.length));
  const lines = plan.map((item) => `  ${printable(item.command).padEnd(width)}  # ${item.ruleId}`);
  return `${title} ${fixes(plan.length)}:\n${lines.join('\n')}\n\n`;
}

/** `reason` already masked (run.ts masks it like the findings). */
export function formatRefusedFixes(refused: readonly (Fix & { reason: string })[]): string {
  const lines = refused.map((item) => `  ${printable(item.command)}  # ${item.ruleId}: ${printable(item.reason)}`);
  return `--fix will not apply ${fixes(refused.length)} (check the path, then run the command yourself if it is right):\n${lines.join('\n')}\n\n`;
}

export function formatLinkedFiles(applied: readonly (Fix & { linked?: number })[]): string {
  const linked = applied.filter((item) => (item.linked ?? 0) > 0);
  if (linked.length === 0) return '';
  return `${linked.map((item) => `Left alone ${item.linked} hard-linked file${item.linked === 1 ? '' : 's'} under \`${printable(item.command)}\` (a second name may lie outside what --fix may change).`).join('\n')}\n\n`;
}
