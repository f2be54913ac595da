// CI use: formats side by side, SARIF valid against the official schema, --fail-on, --only/--skip,
// baselines that only shrink, suppressions with reasons and expiry dates.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { entry, runCli } from '../helpers/scenario.js';
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, type Machine } from './run.js';
import { SARIF_SCHEMA } from '../helpers/shared.js';

// ajv's CommonJS builds, loaded as the sarif reporter test does
const require = createRequire(import.meta.url);
const Ajv = require('ajv-draft-04') as typeof import('ajv-draft-04').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

const SCHEMA = SARIF_SCHEMA;

afterAll(cleanupMachines);

let machine: Machine;
let work: string;
beforeAll(async () => {
  const scenario = await liveScenario('healthy-file-2026.5');
  entry(scenario, '{home}/.resonix/').mode = '0755';
  entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
  scenario.entries.push(
    { path: '{home}/.resonix-old/', mode: '0700' },
    { path: '{home}/.resonix-old/resonix.json', mode: '0600', json: { gateway: { mode: 'local' } } },
    // used once (a session index): a bare generated config alone would be a never-onboarded profile (reference §12), not data
    { path: '{home}/.resonix-old/agents/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/sessions/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/sessions/sessions.json', mode: '0600', json: {} },
  );
  machine = await machineFrom(scenario);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-gating-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const audit = (...args: string[]) => machine.cli(['audit', '--home', machine.home, ...args]);
const json = async (...args: string[]) => {
  const result = await audit('--format', 'json', ...args);
  return { code: result.code, report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
};

describe('formats for CI', () => {
  it.skipIf(!fs.existsSync(SCHEMA))(`sarif, junit and markdown files side by side with the pretty report, SARIF valid against the 2.1.0 schema${fs.existsSync(SCHEMA) ? '' : ` (skipped: ${SCHEMA} is missing)`}`, async () => {
    const sarif = path.join(work, 'out.sarif');
    const junit = path.join(work, 'out.xml');
    const markdown = path.join(work, 'out.md');
    const result = await audit('--output', `sarif=${sarif}`, '--output', `junit=${junit}`, '--output', `markdown=${markdown}`, '--category', 'ci/laptop');
    expect(result.stdout).toContain('perms/secrets-exposed');
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
    const log = JSON.parse(fs.readFileSync(sarif, 'utf8'));
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(log.runs[0].automationDetails.id).toMatch(/^ci\/laptop/);
    expect(log.runs[0].results.map((result: { ruleId: string }) => result.ruleId)).toContain('perms/secrets-exposed');
    expect(fs.readFileSync(junit, 'utf8')).toMatch(/<testcase classname="perms" name="perms\/secrets-exposed"[^>]*>\s*<failure/);
    for (const file of [sarif, junit, markdown]) {
      expectNoLeak(fs.readFileSync(file, 'utf8'), machine);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
  });

  it('github: annotations on stdout, a markdown summary appended to $GITHUB_STEP_SUMMARY', async () => {
    const summary = path.join(work, 'summary.md');
    const result = await machine.cli(['audit', '--home', machine.home, '--format', 'github'], { GITHUB_STEP_SUMMARY: summary, CI: 'true' });
    expect(result.stdout).toMatch(/^::error .*perms\/secrets-exposed/m);
    expect(fs.readFileSync(summary, 'utf8')).toContain('perms/secrets-exposed');
    expectNoLeak(fs.readFileSync(summary, 'utf8'), machine);
  });

  it('a word= that is no format is part of a file name, not an error', async () => {
    const file = path.join(work, 'yaml=x');
    expect((await audit('--format', 'json', '--output', file)).code).toBe(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).phase).toBe('audit');
  });
});

describe('gating', () => {
  it('--fail-on warning fails on warnings alone; --fail-on error does not', async () => {
    const args = ['--rule', 'perms/secrets-exposed=off'];
    expect((await audit(...args)).code).toBe(0);
    expect((await audit(...args, '--fail-on', 'warning')).code).toBe(1);
    expect((await audit('--rule', 'perms/secrets-exposed=info', '--skip', 'state/multiple-dirs', '--skip', 'secrets/duplicate-live-credentials', '--fail-on', 'info')).code).toBe(1);
  });

  it('--only and --skip choose the rules, and the report says which ran', async () => {
    const only = await json('--only', 'perms/secrets-exposed');
    expect(only.report.rules.run).toEqual(['perms/secrets-exposed']);
    expect(only.report.rules.skipped.find((item) => item.id === 'state/multiple-dirs')!.reason).toBe('not selected by --only');
    const skip = await json('--skip', 'perms/secrets-exposed');
    expect(skip.report.rules.run).not.toContain('perms/secrets-exposed');
    expect((await audit('--only', 'perms/nope')).code).toBe(2);
    expect((await audit('--skip', 'nope/nope')).code).toBe(2);
  });
});

describe('baselines and suppressions', () => {
  it('--write-baseline, then --baseline: known findings stop failing but stay visible; a fixed one is reported stale', async () => {
    const baseline = path.join(work, 'baseline.json');
    expect((await audit('--write-baseline', baseline)).code).toBe(1);
    expectNoLeak(fs.readFileSync(baseline, 'utf8'), machine);
    const known = await json('--baseline', baseline);
    expect(known.code).toBe(0);
    expect(known.report.findings.every((finding) => finding.suppressed?.kind === 'baseline')).toBe(true);
    expect(known.report.summary).toEqual({ error: 0, warning: 0, info: 0 });
    // fix one: the baseline entry for it no longer matches, and says so
    fs.rmSync(path.join(machine.home, '.resonix-old'), { recursive: true });
    const shrunk = await json('--baseline', baseline);
    expect(shrunk.report.stale!.baseline.join('\n')).toContain('state/multiple-dirs');
    const pretty = await audit('--baseline', baseline);
    expect(pretty.stdout).toContain('baseline entry no longer matches');
    expect((await audit('--baseline', path.join(work, 'missing.json'))).code).toBe(2);
    fs.writeFileSync(path.join(work, 'bad.json'), '{"nope":1}');
    expect((await audit('--baseline', path.join(work, 'bad.json'))).code).toBe(2);
  });

  it('config suppressions need a reason, suppress by rule and path glob, and stop at their expiry date', async () => {
    const config = path.join(work, 'resonix-migrate.config.json');
    const write = (suppressions: unknown[]) => fs.writeFileSync(config, JSON.stringify({ suppressions }));
    write([{ rule: 'perms/secrets-exposed', path: '$STATEDIR', reason: 'shared lab machine, tracked in OPS-12' }]);
    const suppressed = await machine.cli(['audit', '--home', machine.home, '--config', config, '--format', 'json']);
    const report = JSON.parse(suppressed.stdout) as Report;
    const finding = report.findings.find((item) => item.ruleId === 'perms/secrets-exposed')!;
    expect(finding.suppressed).toEqual({ kind: 'config', reason: 'shared lab machine, tracked in OPS-12' });
    expect(report.summary.error).toBe(0);
    write([{ rule: 'perms/secrets-exposed', path: '~/.resonix', reason: 'temporary', expires: '2020-01-01' }]);
    const expired = JSON.parse((await machine.cli(['audit', '--home', machine.home, '--config', config, '--format', 'json'])).stdout) as Report;
    expect(expired.findings.find((item) => item.ruleId === 'perms/secrets-exposed')!.suppressed).toBeUndefined();
    expect(expired.stale!.suppressions).toEqual([{ rule: 'perms/secrets-exposed', path: '~/.resonix', expired: '2020-01-01' }]);
    write([{ rule: 'perms/secrets-exposed', path: '**' }]);
    const noReason = await runCli(['audit', '--home', machine.home, '--config', config]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('a "reason" is required');
  });
});
