// The whole "two machines" flow without the CLI: snapshot the old machine, write and read the manifest,
// build the new machine (in the same place, as after a move), hash what can be compared, run the rules
// with the manifest as baseline.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRules } from '../../src/engine.js';
import { loadBaseline } from '../../src/manifest/baseline.js';
import { baselineOf, readManifest } from '../../src/manifest/read.js';
import { createManifest, hashForBaseline, writeManifest } from '../../src/manifest/snapshot.js';
import type { Machine, Report } from '../../src/model.js';
import { rule as incomplete } from '../../src/rules/copy/incomplete.js';
import { builtinRules } from '../../src/rules/index.js';
import { rule as freshOnboarding } from '../../src/rules/state/fresh-onboarding.js';
import { scanMachine } from '../../src/scan/index.js';
import { entry, findCanaries, materialise, removeEntries, type Materialised, type Scenario } from '../helpers/scenario.js';
import { liveScenario as loadScenario } from '../scenarios/run.js';
import { manifestFileText } from '../helpers/manifest-file.js';

const RULES = [...builtinRules.filter((rule) => rule.meta.id !== incomplete.meta.id && rule.meta.id !== freshOnboarding.meta.id), incomplete, freshOnboarding];
const FILE = 'healthy-file-2026.5';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-flow-'));
const made: Materialised[] = [];
afterAll(async () => {
  while (made.length > 0) await made.pop()!.cleanup().catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
});

async function build(scenario: Scenario, name: string): Promise<Materialised> {
  const m = await materialise(scenario, { live: true, root: path.join(work, name) });
  made.push(m);
  return m;
}

function scan(m: Materialised) {
  return scanMachine({ mode: 'live', root: '/', env: { ...m.env, TMPDIR: m.path('tmp') }, home: m.home, cwd: m.root });
}

/** Snapshot of the scenario, written and read back like `snapshot --out` then `verify --against`. */
async function snapshotOf(scenario: Scenario, name: string): Promise<Machine> {
  const old = await build(scenario, name);
  const result = await scan(old);
  const manifest = await createManifest(result, { hash: true });
  const file = path.join(work, `${name}.manifest.json`);
  await writeManifest(file, manifest);
  expect(findCanaries(manifestFileText(file), old.canaries)).toEqual([]);
  await old.cleanup();
  made.splice(made.indexOf(old), 1);
  return baselineOf(readManifest(file));
}

async function verifyAgainst(baseline: Machine, scenario: Scenario, name: string): Promise<Report> {
  const now = await build(scenario, name);
  const result = await scan(now);
  const machine = await hashForBaseline(result.machine, baseline);
  const report = runRules({ phase: 'verify', machine, baseline, rules: RULES, secrets: result.secrets });
  expect(findCanaries(JSON.stringify(report), now.canaries)).toEqual([]);
  return report;
}

const ids = (report: Report, severity?: string) => [...new Set(report.findings.filter((finding) => !severity || finding.severity === severity).map((finding) => finding.ruleId))].sort();


describe('verify against a manifest of the old machine', () => {
  it('a faithful copy: the baseline rules find nothing', async () => {
    const baseline = await snapshotOf(await loadScenario(FILE), 'clean');
    const report = await verifyAgainst(baseline, await loadScenario(FILE), 'clean');
    // the old service was still enabled when the snapshot was taken: that warning is right
    expect(ids(report)).toEqual(['secrets/duplicate-live-credentials']);
    expect(report.rules.run).toEqual(expect.arrayContaining(['copy/incomplete', 'state/fresh-onboarding']));
  }, 60_000);

  it('a faithful copy of the SQLite install and its thin-client profile: nothing', async () => {
    const baseline = await snapshotOf(await loadScenario('healthy-sqlite-2026.9'), 'clean-sqlite');
    const report = await verifyAgainst(baseline, await loadScenario('healthy-sqlite-2026.9'), 'clean-sqlite');
    expect(report.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
  }, 60_000);

  it('a glob copy without .env and WhatsApp login, a cut transcript, a re-signed device key', async () => {
    const baseline = await snapshotOf(await loadScenario(FILE), 'broken');
    const scenario = await loadScenario(FILE);
    removeEntries(scenario, '{home}/.resonix/.env');
    removeEntries(scenario, '{home}/.resonix/credentials/whatsapp');
    const transcript = entry(scenario, '{home}/.resonix/agents/main/sessions/0b8e4c1e-3f7a-4d2b-9c61-5a2e8f1d7c34.jsonl');
    transcript.jsonl = transcript.jsonl!.slice(0, 1);
    const device = entry(scenario, '{home}/.resonix/identity/device.json');
    device.json = { ...(device.json as Record<string, unknown>), createdAtMs: 1 };
    const report = await verifyAgainst(baseline, scenario, 'broken');
    expect(ids(report, 'error')).toEqual(expect.arrayContaining(['copy/channel-login-missing', 'copy/hidden-omitted', 'copy/incomplete']));
    expect(ids(report, 'warning')).toContain('copy/truncated-transcript');
    const byArea = new Map(report.findings.filter((finding) => finding.ruleId === 'copy/incomplete').map((finding) => [finding.message.split(':')[0], finding]));
    expect([...byArea.keys()].sort()).toEqual(['channels', 'config', 'credentials', 'sessions']);
    expect(byArea.get('credentials')!.evidence).toEqual([expect.stringMatching(/\/identity\/device\.json: (different content \(sha256\)|(larger|smaller): .*)$/)]);
    expect(byArea.get('config')!.evidence).toEqual([expect.stringMatching(/\/\.resonix\/\.env: missing$/)]);
    expect(byArea.get('sessions')!.evidence).toEqual([expect.stringMatching(/0b8e4c1e-3f7a-4d2b-9c61-5a2e8f1d7c34\.jsonl: smaller: \d+ bytes, \d+ in the baseline$/)]);
    expect(report.findings.find((finding) => finding.ruleId === 'copy/truncated-transcript')!.message).toMatch(/1 session transcript is shorter in .* than in the baseline/);
  }, 60_000);

  it('onboarding ran before the copy: fresh state dir, the data still on the old machine', async () => {
    const baseline = await snapshotOf(await loadScenario(FILE), 'fresh');
    const scenario = await loadScenario(FILE);
    for (const dir of ['credentials', 'agents/main/sessions', 'agents/research/sessions', 'devices', 'cron']) removeEntries(scenario, `{home}/.resonix/${dir}`);
    const report = await verifyAgainst(baseline, scenario, 'fresh');
    const finding = report.findings.find((item) => item.ruleId === 'state/fresh-onboarding')!;
    expect(finding.severity).toBe('error');
    expect(finding.message).toMatch(/looks freshly onboarded .* held 2 session transcripts, 2 credential files/);
  }, 60_000);

  it('against a backup archive: the WhatsApp login that the backup holds did not arrive', async () => {
    const old = await build(await loadScenario(FILE), 'archive-old');
    const archive = path.join(work, 'backup.tgz');
    execFileSync('tar', ['-C', old.home, '-czf', archive, '.resonix']);
    const loaded = await loadBaseline(archive);
    expect(loaded.kind).toBe('archive');
    const scenario = await loadScenario(FILE);
    removeEntries(scenario, '{home}/.resonix/credentials/whatsapp');
    const report = await verifyAgainst(loaded.machine, scenario, 'archive-new');
    const channels = report.findings.find((finding) => finding.ruleId === 'copy/incomplete' && finding.message.startsWith('channels:'))!;
    expect(channels.evidence).toEqual([expect.stringMatching(/\/credentials\/whatsapp\/default\/creds\.json: missing$/)]);
    expect(report.findings.filter((finding) => finding.ruleId === 'copy/incomplete')).toHaveLength(1);
  }, 60_000);
});
