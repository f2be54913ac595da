// A rule's unit tests are a table of scenarios where it must fire and where it must stay silent.
import { describe, expect, it } from 'vitest';
import type { Machine, Phase, Rule, RuleReport } from '../../src/model.js';

export interface RuleCase {
  name: string;
  machine: Machine;
  phase?: Phase;
  baseline?: Machine;
  expect?: (reports: RuleReport[]) => void;
}

export function ruleCases(rule: Rule, cases: { fires: RuleCase[]; passes: RuleCase[] }): void {
  describe(rule.meta.id, () => {
    it('has cases where it fires and where it does not', () => {
      expect(cases.fires.length).toBeGreaterThan(0);
      expect(cases.passes.length).toBeGreaterThan(0);
    });
    const run = (item: RuleCase): RuleReport[] =>
      rule.check({ phase: item.phase ?? rule.meta.phases[0]!, machine: item.machine, ...(item.baseline ? { baseline: item.baseline } : {}) });
    for (const item of cases.fires) {
      it(`fires: ${item.name}`, () => {
        const reports = run(item);
        expect(reports.length).toBeGreaterThan(0);
        for (const report of reports) {
          expect(report.message.length).toBeGreaterThan(10);
          expect(report.fix?.commands.length ?? 0).toBeGreaterThan(0);
        }
        item.expect?.(reports);
      });
    }
    for (const item of cases.passes) {
      it(`stays silent: ${item.name}`, () => {
        expect(run(item)).toEqual([]);
      });
    }
  });
}
