// The engine: phases, baselines, --only/--skip, severity overrides, rules that cannot know, crashes.
import { describe, expect, it } from 'vitest';
import { runRules } from '../src/engine.js';
import type { Rule } from '../src/model.js';
import { machine } from './helpers/machine.js';

const meta = { title: 't', description: 'd', why: 'w', fix: 'f', severity: 'warning' as const, phases: ['verify' as const] };
const fires: Rule = { meta: { ...meta, id: 'test/fires' }, check: () => [{ message: 'it fired here' }] };
const cannotKnow: Rule = { meta: { ...meta, id: 'test/unknown' }, check: ({ skip }) => (skip?.('no version known: pass --resonix-version'), []) };
const crashes: Rule = { meta: { ...meta, id: 'test/crashes' }, check: () => { throw new Error('kaboom\nstack'); } };
const needsBaseline: Rule = { meta: { ...meta, id: 'test/baseline', needsBaseline: true }, check: () => [{ message: 'against the baseline' }] };

describe('runRules', () => {
  const rules = [fires, cannotKnow, crashes, needsBaseline];
  it('says which rules ran, which were skipped and why', () => {
    const report = runRules({ phase: 'verify', machine: machine(), rules });
    expect(report.rules.run).toEqual(['test/fires', 'test/crashes']);
    expect(report.rules.skipped).toEqual([
      { id: 'test/unknown', reason: 'no version known: pass --resonix-version' },
      { id: 'test/baseline', reason: 'needs a baseline (--against a manifest or archive)' },
    ]);
    expect(report.findings.find((finding) => finding.ruleId === 'test/crashes')!.message).toBe('The rule crashed and checked nothing: kaboom');
  });
  it('applies phases, severity overrides, --only and --skip', () => {
    expect(runRules({ phase: 'audit', machine: machine(), rules }).rules.run).toEqual([]);
    const report = runRules({ phase: 'verify', machine: machine(), rules, severities: { 'test/fires': 'error', 'test/crashes': 'off' }, baseline: machine() });
    expect(report.findings.map((finding) => [finding.ruleId, finding.severity])).toEqual([['test/fires', 'error'], ['test/baseline', 'warning']]);
    expect(runRules({ phase: 'verify', machine: machine(), rules, only: ['test/fires'] }).rules.run).toEqual(['test/fires']);
    expect(runRules({ phase: 'verify', machine: machine(), rules, skip: ['test/fires'] }).rules.run).not.toContain('test/fires');
  });
});
