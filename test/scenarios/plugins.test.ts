// Rules from outside: the shipped example plugin loads, runs like a built-in rule, and bad plugins are exit 2.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { REPO_ROOT, runCli } from '../helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom } from './run.js';

afterAll(cleanupMachines);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-plugins-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function config(body: unknown): string {
  const file = path.join(work, `config-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(body));
  return file;
}

describe('plugins', () => {
  const example = path.join(REPO_ROOT, 'examples', 'acme-plugin', 'index.mjs');

  it('the example plugin runs through the same engine: its finding, its severity override, SARIF rules', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    scenario.entries.push({ path: '{home}/.resonix/media/inbound/', mode: '0700' }, { path: '{home}/.resonix/media/inbound/video.mp4', type: 'sparse', size: 80 * 1024 * 1024, mode: '0644' });
    const machine = await machineFrom(scenario);
    const file = config({ plugins: [example], rules: { 'acme/large-media': 'error' } });
    const result = await machine.cli(['audit', '--home', machine.home, '--config', file, '--format', 'json']);
    const report = JSON.parse(result.stdout) as Report;
    const finding = report.findings.find((item) => item.ruleId === 'acme/large-media')!;
    expect(finding.severity).toBe('error');
    expect(finding.message).toContain('80 MB');
    expect(result.code).toBe(1);
    const sarif = JSON.parse((await machine.cli(['audit', '--home', machine.home, '--config', file, '--format', 'sarif'])).stdout);
    expect(sarif.runs[0].tool.driver.rules.map((rule: { id: string }) => rule.id)).toContain('acme/large-media');
    const listed = await runCli(['rules', '--config', file]);
    expect(listed.stdout).toContain('acme/large-media');
    expect((await runCli(['explain', 'acme/large-media', '--config', file])).stdout).toContain('# acme/large-media');
  });

  it('a plugin path relative to the config file', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'rel-'));
    fs.copyFileSync(example, path.join(dir, 'acme.mjs'));
    const file = path.join(dir, '.resonix-migraterc.json');
    fs.writeFileSync(file, JSON.stringify({ plugins: ['./acme.mjs'] }));
    expect((await runCli(['rules'], { cwd: dir })).stdout).toContain('acme/large-media');
  });

  const broken: [string, string, RegExp][] = [
    ['a missing plugin', JSON.stringify({ plugins: ['./nope.mjs'] }), /cannot load plugin|cannot find plugin/],
    ['an id outside its namespace', 'export const name = "acme"; export const rules = [{ meta: { id: "copy/evil", title: "t", description: "d", why: "w", fix: "f", severity: "error", phases: ["audit"] }, check: () => [] }];', /namespaced "acme\/<rule>"/],
    ['a built-in family as name', 'export const name = "copy"; export const rules = [{ meta: { id: "copy/x", title: "t", description: "d", why: "w", fix: "f", severity: "error", phases: ["audit"] }, check: () => [] }];', /built-in rule family/],
    ['a rule without check', 'export const name = "acme"; export const rules = [{ meta: { id: "acme/x" } }];', /\{ meta, check \}/],
    ['a bad phase', 'export const name = "acme"; export const rules = [{ meta: { id: "acme/x", title: "t", description: "d", why: "w", fix: "f", severity: "error", phases: ["later"] }, check: () => [] }];', /phases/],
    ['a cause that is no rule', 'export const name = "acme"; export const rules = [{ meta: { id: "acme/x", title: "t", description: "d", why: "w", fix: "f", severity: "error", phases: ["audit"], causedBy: [{ rule: "acme/nobody", relation: "inside" }] }, check: () => [] }];', /plugin rule acme\/x: caused by unknown rule "acme\/nobody"/],
    ['causes in a cycle', 'export const name = "acme"; const m = (id, cause) => ({ meta: { id, title: "t", description: "d", why: "w", fix: "f", severity: "error", phases: ["audit"], causedBy: [{ rule: cause, relation: "same-path" }] }, check: () => [] }); export const rules = [m("acme/a", "acme/b"), m("acme/b", "acme/a")];', /cycle: acme\/a → acme\/b → acme\/a/],
  ];
  for (const [what, source, message] of broken) {
    it(`exit 2 for ${what}`, async () => {
      let file: string;
      if (source.startsWith('{')) file = config(JSON.parse(source));
      else {
        const plugin = path.join(work, `${Math.random().toString(36).slice(2)}.mjs`);
        fs.writeFileSync(plugin, source);
        file = config({ plugins: [plugin] });
      }
      const result = await runCli(['rules', '--config', file]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    });
  }

  it('a plugin rule that throws becomes a finding; the run goes on', async () => {
    const plugin = path.join(work, 'throws.mjs');
    fs.writeFileSync(plugin, 'export const name = "acme"; export const rules = [{ meta: { id: "acme/boom", title: "t", description: "d", why: "w", fix: "f", severity: "warning", phases: ["audit"] }, check: () => { throw new Error("kaboom"); } }];');
    const machine = await machineFrom('healthy-file-2026.5');
    const result = await machine.cli(['audit', '--home', machine.home, '--config', config({ plugins: [plugin] }), '--format', 'json']);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.findings.find((item) => item.ruleId === 'acme/boom')!.message).toContain('kaboom');
    expect(report.rules.run).toContain('state/multiple-dirs');
  });
});
