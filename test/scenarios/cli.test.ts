// The command line as a user meets it: help, exit codes, formats, options, and no secret in any output.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRules } from '../../src/rules/index.js';
import { entry, runCli } from '../helpers/scenario.js';

// a file a refused snapshot must not write: in a temp dir of its own, never a fixed name in the shared /tmp
const neverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-never-'));
const NEVER_WRITTEN = path.join(neverDir, 'never-written.json');
afterAll(() => fs.rmSync(neverDir, { recursive: true, force: true }));
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, type Machine } from './run.js';

afterAll(cleanupMachines);

let broken: Machine;
beforeAll(async () => {
  // a loose-umask copy: one error (secrets-exposed, world) and two warnings (a second profile; the
  // old gateway still enabled at boot, as it is on every old machine before the move)
  const scenario = await liveScenario('healthy-file-2026.5');
  entry(scenario, '{home}/.resonix/').mode = '0755';
  entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
  scenario.entries.push(
    { path: '{home}/.resonix-old/', mode: '0700' },
    { path: '{home}/.resonix-old/resonix.json', mode: '0600', json: { gateway: { mode: 'local', auth: { token: '{canary:gateway}' } } } },
    // used once (a session index): a bare generated config alone would be a never-onboarded profile (reference §12), not data
    { path: '{home}/.resonix-old/agents/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/sessions/', mode: '0700' },
    { path: '{home}/.resonix-old/agents/main/sessions/sessions.json', mode: '0600', json: {} },
  );
  broken = await machineFrom(scenario);
});

describe('help and reference commands', () => {
  for (const command of ['audit', 'verify', 'image', 'rules', 'explain']) {
    it(`${command} --help explains itself and exits 0`, async () => {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: resonix-migrate ${command}`);
    });
  }

  it('with no arguments prints usage, including the exit codes', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes:');
  });

  it('rules lists every rule; --format json is machine-readable', async () => {
    const pretty = await runCli(['rules']);
    for (const rule of builtinRules) expect(pretty.stdout).toContain(rule.meta.id);
    const json = JSON.parse((await runCli(['rules', '--format', 'json'])).stdout) as { id: string }[];
    expect(json.map((rule) => rule.id)).toEqual(builtinRules.map((rule) => rule.meta.id));
  });

  it('explain prints the page of a rule, and exits 2 for an unknown one', async () => {
    const page = await runCli(['explain', 'copy/config-only']);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain('# copy/config-only');
    expect(page.stdout).toContain('## Why it matters');
    const unknown = await runCli(['explain', 'copy/nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('exit codes', () => {
  const usageErrors: [string, string[]][] = [
    ['an unknown option', ['verify', '--bogus']],
    ['an unknown command', ['frobnicate']],
    ['a bad --format', ['verify', '--format', 'xml']],
    ['a bad --rule', ['verify', '--rule', 'state/not-found']],
    ['an unknown rule id', ['verify', '--rule', 'state/nope=off']],
    ['a bad --max-warnings', ['verify', '--max-warnings', 'lots']],
    ['a bad profile name', ['verify', '--profile', 'Bad Name']],
    ['a missing ROOTFS', ['image', '/nonexistent/rootfs']],
    ['a missing tool config', ['verify', '--config', '/nonexistent/config.json']],
    ['a live-machine flag given to inspect', ['inspect', '/dev/null', '--home', '/tmp']],
    ['an unknown --user given to inspect', ['inspect', '/dev/null', '--user', 'nobody-here']],
    ['--fix given to inspect', ['inspect', '/dev/null', '--fix']],
    ['report flags given to snapshot', ['snapshot', '--out', NEVER_WRITTEN, '--rule', 'copy/config-only=off', '--format', 'json']],
    ['--fix given to snapshot', ['snapshot', '--out', NEVER_WRITTEN, '--fix']],
    ['a bad --max-entries', ['verify', '--max-entries', '0']],
  ];
  for (const [what, args] of usageErrors) {
    it(`2 for ${what}, with a one-line reason and no stack trace`, async () => {
      const result = await runCli(args);
      expect(result.code).toBe(2);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stderr.trim()).not.toBe('');
      expect(fs.existsSync(NEVER_WRITTEN)).toBe(false);
    });
  }

  it('2 for a tool config with an unknown key or a bad severity', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-config-'));
    fs.writeFileSync(path.join(dir, '.resonix-migraterc.json'), JSON.stringify({ rules: { 'copy/config-only': 'loud' } }));
    const bad = await runCli(['verify', '--home', broken.home], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('copy/config-only');
    fs.writeFileSync(path.join(dir, '.resonix-migraterc.json'), JSON.stringify({ rulez: {} }));
    expect((await runCli(['verify', '--home', broken.home], { cwd: dir })).stderr).toContain('unknown key "rulez"');
    fs.rmSync(dir, { recursive: true });
  });

  it('1 for an error finding; 0 once that rule is turned off by --rule or by the tool config', async () => {
    expect((await broken.cli(['audit', '--home', broken.home])).code).toBe(1);
    expect((await broken.cli(['audit', '--home', broken.home, '--rule', 'perms/secrets-exposed=off'])).code).toBe(0);
    expect((await broken.cli(['audit', '--home', broken.home, '--rule', 'perms/secrets-exposed=warning'])).code).toBe(0);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-config-'));
    fs.writeFileSync(path.join(dir, 'resonix-migrate.config.json'), JSON.stringify({ rules: { 'perms/secrets-exposed': 'info' } }));
    const configured = await runCli(['audit', '--home', broken.home, '--format', 'json'], { cwd: dir, env: { ...broken.env, TMPDIR: broken.path('tmp') } });
    expect(configured.code).toBe(0);
    expect(JSON.parse(configured.stdout).findings.find((finding: { ruleId: string }) => finding.ruleId === 'perms/secrets-exposed').severity).toBe('info');
    fs.rmSync(dir, { recursive: true });
  });

  it('--max-warnings fails the run when warnings exceed it; --quiet shows and counts errors only', async () => {
    const args = ['audit', '--home', broken.home, '--rule', 'perms/secrets-exposed=off'];
    expect((await broken.cli([...args, '--max-warnings', '0'])).code).toBe(1);
    expect((await broken.cli([...args, '--max-warnings', '1'])).code).toBe(1);
    expect((await broken.cli([...args, '--max-warnings', '2'])).code).toBe(0);
    const quiet = await broken.cli(['audit', '--home', broken.home, '--quiet', '--max-warnings', '0']);
    expect(quiet.stdout).toContain('perms/secrets-exposed');
    expect(quiet.stdout).not.toContain('state/multiple-dirs');
  });
});

describe('formats', () => {
  it('json: one object on stdout, the documented keys in order, findings sorted', async () => {
    const { report } = await broken.json('audit');
    expect(Object.keys(report)).toEqual(['tool', 'phase', 'installs', 'findings', 'summary', 'verdicts', 'plan', 'move', 'checked', 'rules', 'problems', 'roots']);
    expect(report.tool.name).toBe('resonix-migrate');
    expect(report.summary).toEqual({ error: 1, warning: 2, info: 0 });
    expect(report.findings.map((finding) => finding.severity)).toEqual(['error', 'warning', 'warning']);
    for (const finding of report.findings) expect(Object.keys(finding).slice(0, 3)).toEqual(['ruleId', 'severity', 'message']);
    expect(report.rules.run).toContain('perms/secrets-exposed');
    expect(report.rules.skipped.map((skipped) => skipped.id)).toContain('state/not-found');
  });

  it('json output is stable from run to run', async () => {
    const first = (await broken.cli(['audit', '--home', broken.home, '--format', 'json'])).stdout;
    const second = (await broken.cli(['audit', '--home', broken.home, '--format', 'json'])).stdout;
    expect(second).toBe(first);
  });

  it('pretty: ✗ / ! marks, the fix under each finding, a verdict; no colour when not a terminal', async () => {
    const { stdout } = await broken.cli(['audit', '--home', broken.home]);
    expect(stdout).toMatch(/✗ perms\/secrets-exposed/);
    expect(stdout).toMatch(/! state\/multiple-dirs/);
    expect(stdout).toMatch(/fix: .*\n\s+\$ chmod 700 /);
    // the two verdicts apart: the move itself only has a warning; the exposed secrets are hygiene
    expect(stdout.trim().split('\n').slice(-2)).toEqual(['migration: ! 0 errors, 1 warning, 0 info: ready, with warnings to review', 'hygiene:   ✗ 1 error, 1 warning, 0 info: needs cleaning up']);
    expect(stdout).not.toContain('\u001b[');
  });

  it('--output writes the report to a 0600 file and nothing to stdout', async () => {
    const out = path.join(broken.root, 'report.json');
    const result = await broken.cli(['audit', '--home', broken.home, '--format', 'json', '--output', out]);
    expect(result.stdout).toBe('');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(out, 'utf8');
    expectNoLeak(text, broken);
    expect(JSON.parse(text).phase).toBe('audit');
  });

  it('no command or format prints a canary secret, even with --verbose', async () => {
    for (const command of ['audit', 'verify']) {
      for (const format of ['pretty', 'json', 'doctor-lint']) await broken.cli([command, '--home', broken.home, '--format', format, '--verbose']);
    }
    await broken.cli(['image', broken.root, '--verbose']);
  });
});

describe('where it looks without flags', () => {
  it('uses HOME and RESONIX_STATE_DIR from the environment, as Resonix would', async () => {
    const viaEnv = await broken.cli(['audit', '--format', 'json'], { HOME: broken.home, RESONIX_STATE_DIR: path.join(broken.home, '.resonix-old') });
    const report = JSON.parse(viaEnv.stdout);
    const active = report.installs.find((install: { active: boolean }) => install.active);
    expect(active.stateDir).toBe(path.join(broken.home, '.resonix-old'));
  });

  it('--profile picks ~/.resonix-<profile>, unless RESONIX_STATE_DIR is already set', async () => {
    const byProfile = JSON.parse((await broken.cli(['audit', '--home', broken.home, '--profile', 'old', '--format', 'json'])).stdout);
    expect(byProfile.installs.find((install: { active: boolean }) => install.active).stateDir).toBe(path.join(broken.home, '.resonix-old'));
    const inherited = JSON.parse(
      (await broken.cli(['audit', '--home', broken.home, '--profile', 'old', '--format', 'json'], { RESONIX_STATE_DIR: path.join(broken.home, '.resonix') })).stdout,
    );
    expect(inherited.installs.find((install: { active: boolean }) => install.active).stateDir).toBe(path.join(broken.home, '.resonix'));
  });
});
