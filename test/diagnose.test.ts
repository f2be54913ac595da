// The diagnosis stage on in-memory findings and machines: relations, chains to the ultimate root, the
// declarations checked at load, and the counts (summary, verdicts, gating) of roots only.
import { describe, expect, it } from 'vitest';
import { CauseDeclarationError, checkedAreas, diagnose, metaById, relationHolds, validateCauses } from '../src/diagnose.js';
import { runRules } from '../src/engine.js';
import { applySuppressions, failsGate } from '../src/gate.js';
import type { Area, CauseDeclaration, Finding, Rule, RuleReport } from '../src/model.js';
import { planFixes } from '../src/fix/index.js';
import { builtinRules } from '../src/rules/index.js';
import { machine } from './helpers/machine.js';

const base = { title: 't', description: 'd', why: 'w', fix: 'f', severity: 'error' as const, phases: ['verify' as const] };
function rule(id: string, reports: RuleReport[], extra: { causedBy?: CauseDeclaration[]; verdict?: 'migration' | 'hygiene' } = {}): Rule {
  return { meta: { ...base, id, ...extra }, check: () => reports };
}
const finding = (ruleId: string, extra: Partial<Finding> = {}): Finding => ({ ruleId, severity: 'error', message: `${ruleId} here`, fingerprint: `fp-${ruleId}`, ...extra });

const S = '/home/alice/.resonix';

describe('relations', () => {
  it('inside: the same path or below it, never a sibling that shares a prefix', () => {
    expect(relationHolds('inside', finding('a', { path: `${S}/x/y` }), finding('b', { path: S }))).toBe(true);
    expect(relationHolds('inside', finding('a', { path: S }), finding('b', { path: S }))).toBe(true);
    expect(relationHolds('inside', finding('a', { path: `${S}-work/x` }), finding('b', { path: S }))).toBe(false);
    expect(relationHolds('inside', finding('a'), finding('b', { path: S }))).toBe(false);
  });
  it('same-install, same-path', () => {
    expect(relationHolds('same-install', finding('a', { install: S, path: '/elsewhere' }), finding('b', { install: S }))).toBe(true);
    expect(relationHolds('same-install', finding('a', { install: S }), finding('b', { install: `${S}-work` }))).toBe(false);
    expect(relationHolds('same-path', finding('a', { path: S }), finding('b', { path: S }))).toBe(true);
    expect(relationHolds('same-path', finding('a', { path: `${S}/x` }), finding('b', { path: S }))).toBe(false);
  });
  it('under-old-home: every path a finding names lies under the old home the moved-home finding names', () => {
    const moved = finding('paths/foreign-home', { path: '/home/alice', message: 'The state in /home/alice still names the old home /srv/alice (config, sessions.json, units): …', oldHomes: ['/srv/alice'] });
    const stale = finding('gateway/stale-service', { path: '/home/alice/.config/systemd/user/resonix-gateway.service', evidence: ['ExecStart=/srv/alice/.nvm/versions/node/v22.1.0/bin/node is missing', 'WorkingDirectory=/srv/alice'] });
    expect(relationHolds('under-old-home', stale, moved)).toBe(true);
    // one path elsewhere is a problem of its own: the finding stays a root
    const mixed = { ...stale, evidence: [...stale.evidence!, 'EnvironmentFile=/opt/resonix/gateway.env is missing'] };
    expect(relationHolds('under-old-home', mixed, moved)).toBe(false);
    expect(relationHolds('under-old-home', finding('x', { evidence: ['/srv/alicex/bin/node'] }), moved)).toBe(false);
    expect(relationHolds('under-old-home', stale, finding('paths/foreign-home', { message: 'no old home named' }))).toBe(false);
    // the old home is data the rule gives, not words in its message
    expect(relationHolds('under-old-home', stale, { ...moved, oldHomes: undefined } as typeof moved)).toBe(false);
  });
  it('names-path-under: only when every path named is under the cause (a finding half explained stays a root)', () => {
    const cause = finding('copy/config-only', { path: S });
    expect(relationHolds('names-path-under', finding('a', { evidence: [`workspace = ${S}/workspace`] }), cause)).toBe(true);
    expect(relationHolds('names-path-under', finding('a', { evidence: [`workspace = ${S}/workspace`, 'workspace = /home/alice/work/x'] }), cause)).toBe(false);
  });
  it('contains: the cause lies inside the finding\'s path', () => {
    expect(relationHolds('contains', finding('a', { path: S }), finding('b', { path: `${S}/credentials` }))).toBe(true);
    expect(relationHolds('contains', finding('a', { path: `${S}/credentials` }), finding('b', { path: S }))).toBe(false);
  });
  it('no built-in rule folds by same-install: an unrelated finding on the same state dir stays a root', () => {
    const relations = builtinRules.flatMap((item) => (item.meta.causedBy ?? []).map((cause) => cause.relation));
    expect(relations).not.toContain('same-install');
  });
  it('holds-state-dir: a home whose state dir the cause is about (not a workspace of it)', () => {
    const homeFinding = finding('a', { path: '/home/alice' });
    expect(relationHolds('holds-state-dir', homeFinding, finding('b', { path: S, install: S }))).toBe(true);
    expect(relationHolds('holds-state-dir', homeFinding, finding('b', { path: `${S}/credentials`, install: S }))).toBe(true);
    // an unreadable workspace in the home says nothing about whether the state dir arrived
    expect(relationHolds('holds-state-dir', homeFinding, finding('b', { path: '/home/alice/work/x', install: S }))).toBe(false);
    expect(relationHolds('holds-state-dir', finding('a', { path: '/home/bob' }), finding('b', { path: S, install: S }))).toBe(false);
  });
  it('names-path-under: the path, message or evidence names a path under the cause (whole path components only)', () => {
    const cause = finding('b', { path: '/srv/alice' });
    expect(relationHolds('names-path-under', finding('a', { evidence: ['missing: /srv/alice/.resonix/agents/main/sessions/a.jsonl'] }), cause)).toBe(true);
    expect(relationHolds('names-path-under', finding('a', { message: 'sessionFile /srv/alice is gone' }), cause)).toBe(true);
    expect(relationHolds('names-path-under', finding('a', { evidence: ['/srv/alicia/x'] }), cause)).toBe(false);
    expect(relationHolds('names-path-under', finding('a', { evidence: ['/data/srv/alice/x'] }), cause)).toBe(false);
  });
  it('named-by: the cause names this finding\'s path exactly', () => {
    const cause = finding('b', { path: `${S}/resonix.json`, message: `the service runs on ${S}-work: …`, evidence: [`Config (service): ${S}-work/resonix.json`] });
    expect(relationHolds('named-by', finding('a', { path: `${S}-work` }), cause)).toBe(true);
    expect(relationHolds('named-by', finding('a', { path: S }), cause)).toBe(false);
  });
});

describe('diagnose', () => {
  const rules = [
    rule('t/owner', []),
    rule('t/unreadable', [], { causedBy: [{ rule: 't/owner', relation: 'inside' }] }),
    rule('t/config-only', [], { causedBy: [{ rule: 't/unreadable', relation: 'same-install' }] }),
    rule('t/foreign', [], { causedBy: [{ rule: 't/config-only', relation: 'same-install' }] }),
  ];
  it('folds a chain under its ultimate root and keeps every finding, in order', () => {
    const input = [
      finding('t/foreign', { path: `${S}/resonix.json`, install: S }),
      finding('t/config-only', { path: S, install: S }),
      finding('t/unreadable', { path: `${S}/credentials`, install: S }),
      finding('t/owner', { path: S, install: S }),
    ];
    const output = diagnose(input, rules);
    expect(output.map((item) => [item.ruleId, item.causedBy])).toEqual([
      ['t/foreign', 'fp-t/owner'],
      ['t/config-only', 'fp-t/owner'],
      ['t/unreadable', 'fp-t/owner'],
      ['t/owner', undefined],
    ]);
  });
  it('a finding whose cause is not in the report is a root; a cause in another install does not fold it', () => {
    const output = diagnose([finding('t/config-only', { path: S, install: S }), finding('t/unreadable', { path: `${S}-work/x`, install: `${S}-work` })], rules);
    expect(output.every((item) => item.causedBy === undefined)).toBe(true);
  });
  it('a crashed rule is never folded', () => {
    const output = diagnose([finding('t/unreadable', { message: 'The rule crashed and checked nothing: x', path: S }), finding('t/owner', { path: S })], rules);
    expect(output[0]!.causedBy).toBeUndefined();
  });
});

describe('the built-in declarations fold what follows from a cause, and nothing else on the same install', () => {
  const fold = (findings: Finding[]): string[] => diagnose(findings, builtinRules).map((item) => `${item.ruleId} ${item.causedBy ?? 'root'}`);
  const unreadable = finding('perms/unreadable', { path: `${S}/credentials`, install: S, evidence: [`0700 uid 0 ${S}/credentials`] });

  it('a config with a syntax error stays a root beside an unreadable credentials dir of the same install', () => {
    const invalid = finding('state/config-invalid', { path: `${S}/resonix.json`, install: S, message: `${S}/resonix.json is not valid JSON5 at line 3, column 5: invalid character '}'.` });
    const login = finding('copy/channel-login-missing', { path: `${S}/credentials/whatsapp/default/creds.json`, install: S });
    // the login inside the tree that could not be read is folded; the syntax error is a problem of its own
    expect(fold([unreadable, invalid, login])).toEqual(['perms/unreadable root', 'state/config-invalid root', 'copy/channel-login-missing fp-perms/unreadable']);
  });

  it('an unreadable workspace outside the state dir does not make a config-only copy its consequence', () => {
    const workspace = finding('perms/unreadable', { path: '/home/alice/work/agent-main', install: S });
    expect(fold([workspace, finding('copy/config-only', { path: S, install: S })])).toEqual(['perms/unreadable root', 'copy/config-only root']);
    expect(fold([unreadable, finding('copy/config-only', { path: S, install: S })])).toEqual(['perms/unreadable root', 'copy/config-only fp-perms/unreadable']);
  });

  it('on a config-only copy, what was inside the state dir folds; a workspace outside it, an old home and an include elsewhere stay roots', () => {
    expect(
      fold([
        finding('copy/config-only', { path: S, install: S }),
        finding('copy/workspace-missing', { path: `${S}/workspace`, install: S }),
        finding('copy/workspace-missing', { path: '/home/alice/work/agent-research', install: S, fingerprint: 'fp-outside' }),
        finding('paths/foreign-home', { path: `${S}/resonix.json`, install: S, evidence: [`agents.list[1].agentDir = ${S}/agents/research/agent (missing)`] }),
        finding('paths/foreign-home', { path: `${S}/resonix.json`, install: S, fingerprint: 'fp-old-home', evidence: ['agents.list[1].workspace = /Users/alice/Projects/work-agent'] }),
        finding('paths/include-broken', { path: '/etc/resonix/models.json5', install: S, evidence: ['$include = /etc/resonix/models.json5', 'resolved = /etc/resonix/models.json5', `from = ${S}/resonix.json`] }),
      ]),
    ).toEqual([
      'copy/config-only root',
      'copy/workspace-missing fp-copy/config-only',
      'copy/workspace-missing root',
      'paths/foreign-home fp-copy/config-only',
      'paths/foreign-home root',
      'paths/include-broken root',
    ]);
  });

  it("a moved home: the units' node and entry under the old prefix fold under paths/foreign-home; the shell's too-old node stays a root", () => {
    const unit = '/home/alice/.config/systemd/user/resonix-gateway.service';
    expect(
      fold([
        finding('gateway/stale-service', { path: unit, install: '/srv/alice/.resonix', evidence: ['missing: /srv/alice/.local/node22/bin/node', 'missing: /srv/alice/.npm-global/lib/node_modules/resonix/dist/index.js'] }),
        finding('version/node-unsupported', { path: unit, install: '/srv/alice/.resonix', evidence: ['ExecStart: /srv/alice/.local/node22/bin/node (missing)'] }),
        // the node `gateway install --force` would write into the rewritten unit: a problem of this machine
        finding('version/node-unsupported', { path: '/usr/bin/node', fingerprint: 'fp-path-node', evidence: ['/usr/bin/node: 20.20.2', 'required: >=22.19.0 (Resonix 2026.5.28, which last wrote the config)'] }),
        finding('paths/foreign-home', { path: `${S}/resonix.json`, install: S, message: `The state in /home/alice still names the old home /srv/alice (${S}/resonix.json; Service resonix-gateway.service): …`, oldHomes: ['/srv/alice'] }),
      ]),
    ).toEqual(['gateway/stale-service fp-paths/foreign-home', 'version/node-unsupported fp-paths/foreign-home', 'version/node-unsupported root', 'paths/foreign-home root']);
  });
});

describe('validateCauses', () => {
  it('the built-in declarations are valid (known rules, known relations, no cycle)', () => {
    expect(() => validateCauses(builtinRules)).not.toThrow();
    expect(builtinRules.some((item) => (item.meta.causedBy ?? []).length > 0)).toBe(true);
  });
  it('refuses a cycle, a self-cause, an unknown rule and an unknown relation', () => {
    const a = rule('t/a', [], { causedBy: [{ rule: 't/b', relation: 'inside' }] });
    const b = rule('t/b', [], { causedBy: [{ rule: 't/c', relation: 'inside' }] });
    const c = rule('t/c', [], { causedBy: [{ rule: 't/a', relation: 'same-path' }] });
    expect(() => validateCauses([a, b, c])).toThrow(/cycle: t\/a → t\/b → t\/c → t\/a/);
    expect(() => validateCauses([rule('t/self', [], { causedBy: [{ rule: 't/self', relation: 'inside' }] })])).toThrow(CauseDeclarationError);
    expect(() => validateCauses([rule('t/x', [], { causedBy: [{ rule: 't/nobody', relation: 'inside' }] })])).toThrow(/unknown rule/);
    expect(() => validateCauses([rule('t/y', []), rule('t/x', [], { causedBy: [{ rule: 't/y', relation: 'near' as never }] })])).toThrow(/unknown cause relation/);
  });
  it('the engine refuses invalid declarations before running anything', () => {
    const bad = rule('t/self', [{ message: 'x' }], { causedBy: [{ rule: 't/self', relation: 'inside' }] });
    expect(() => runRules({ phase: 'verify', machine: machine(), rules: [bad] })).toThrow(CauseDeclarationError);
  });
});

describe('through the engine: summary, verdicts, gating and --fix count roots', () => {
  const owner = rule('t/owner', [{ message: 'root owns it', path: S, install: S, fix: { summary: 'chown', commands: [`sudo chown -R 1000:1000 ${S}`], actions: [{ kind: 'chown', path: S, uid: 1000, gid: 1000, recursive: true }] } }]);
  const unreadable = rule('t/unreadable', [{ message: 'cannot read', path: `${S}/credentials`, install: S, fix: { summary: 'chmod', commands: [`chmod 700 ${S}/credentials`], actions: [{ kind: 'chmod', path: `${S}/credentials`, mode: 0o700 }] } }], { causedBy: [{ rule: 't/owner', relation: 'inside' }] });
  const backup = rule('t/backup', [{ message: 'plain backup', path: '/home/alice/b.tgz', severity: 'warning' }], { verdict: 'hygiene' });
  const rules = [owner, unreadable, backup];

  it('a folded error does not count or fail the run twice; the verdicts keep migration and hygiene apart', () => {
    const report = runRules({ phase: 'verify', machine: machine(), rules });
    expect(report.findings).toHaveLength(3);
    const root = report.findings.find((item) => item.ruleId === 't/owner')!;
    expect(report.findings.find((item) => item.ruleId === 't/unreadable')!.causedBy).toBe(root.fingerprint);
    expect(report.summary).toEqual({ error: 1, warning: 1, info: 0 });
    expect(report.verdicts).toEqual({ migration: { error: 1, warning: 0, info: 0 }, hygiene: { error: 0, warning: 1, info: 0 } });
    expect(failsGate(report)).toBe(true);
    // suppress the root: its consequence stays folded, nothing fails
    const suppressed = applySuppressions(report, [{ rule: 't/owner', path: S, reason: 'known' }], '2026-01-01');
    expect(suppressed.summary).toEqual({ error: 0, warning: 1, info: 0 });
    expect(failsGate(suppressed)).toBe(false);
    expect(failsGate(suppressed, { failOn: 'warning' })).toBe(true);
  });

  it('--fix plans only the roots\' actions', () => {
    const report = runRules({ phase: 'verify', machine: machine(), rules });
    expect(planFixes(report).map((item) => item.ruleId)).toEqual(['t/owner']);
  });

  it('what was checked: ✓ per area whose rules ran clean, ✗ by the worst root, not judged when only consequences are there', () => {
    const withArea = (item: Rule, area: Area): Rule => ({ ...item, meta: { ...item.meta, area } });
    const meta = metaById([withArea(owner, 'state'), withArea(unreadable, 'config'), withArea(backup, 'secrets'), withArea(rule('t/agents', []), 'agents'), withArea(rule('t/node', []), 'versions')]);
    const findings = [finding('t/owner', { path: S }), finding('t/unreadable', { causedBy: 'fp-t/owner' })];
    const lines = checkedAreas({ findings, rules: { run: ['t/owner', 't/unreadable', 't/agents'], skipped: [{ id: 't/backup', reason: 'turned off' }, { id: 't/node', reason: 'not a audit rule' }] } }, meta);
    // a rule of another phase does not make its area 'not checked': the area does not apply here
    expect(lines.map((line) => [line.area, line.status])).toEqual([
      ['state', 'error'],
      ['config', 'not-checked'],
      ['agents', 'ok'],
      ['secrets', 'not-checked'],
    ]);
  });
});
