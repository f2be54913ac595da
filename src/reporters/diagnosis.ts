// The diagnosis as every reporter shows it: root findings are listed, what follows from one (causedBy: its
// fingerprint) is shown under it without its own fix. JSON and SARIF keep every finding (their contract).
import type { Finding } from '../model.js';

/** The unsuppressed findings folded under each root, by the root's fingerprint, in report order. */
export function consequencesByRoot(findings: readonly Finding[]): Map<string, Finding[]> {
  const byRoot = new Map<string, Finding[]>();
  for (const finding of findings) {
    if (!finding.causedBy || finding.suppressed) continue;
    const list = byRoot.get(finding.causedBy);
    if (list) list.push(finding);
    else byRoot.set(finding.causedBy, [finding]);
  }
  return byRoot;
}

/** What follows from a root, in one line: "because of this: 3 more findings (copy/workspace-missing ×2, state/not-found)". */
export function consequencesLine(consequences: readonly Finding[]): string {
  const counts = new Map<string, number>();
  for (const finding of consequences) counts.set(finding.ruleId, (counts.get(finding.ruleId) ?? 0) + 1);
  const rules = [...counts].map(([id, count]) => (count > 1 ? `${id} ×${count}` : id)).join(', ');
  return `because of this: ${consequences.length} more finding${consequences.length === 1 ? '' : 's'} (${rules})`;
}
