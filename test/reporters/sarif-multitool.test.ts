// Microsoft's SARIF Multitool judges our SARIF: `validate --rule-kind Sarif` (the spec's advice) and
// `--rule-kind Gh` (what GitHub code scanning ingests), on a verify of a root-copied home and of the
// shipped example. .ci/run installs the tool into a temp prefix and sets SARIF_MULTITOOL (it is not a
// dependency of the package); without it these tests skip and say why.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Sarif from 'sarif';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, canChown } from '../helpers/scenario.js';
import { cleanupMachines, machineFrom } from '../scenarios/run.js';

afterAll(cleanupMachines);

function findMultitool(): { tool?: string; reason: string } {
  const candidates = [process.env.SARIF_MULTITOOL, ...(process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, 'Sarif.Multitool'))];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', env: multitoolEnv(), timeout: 60_000 });
      if (probe.status === 0) return { tool: candidate, reason: '' };
      return { reason: `${candidate} does not run (${(probe.stderr || probe.error?.message || `exit ${probe.status}`).split('\n')[0]})` };
    } catch {
      continue;
    }
  }
  return { reason: 'the SARIF Multitool is not installed (set SARIF_MULTITOOL; .ci/run installs @microsoft/sarif-multitool-linux into a temp prefix)' };
}

function multitoolEnv(): NodeJS.ProcessEnv {
  // no ICU needed; no telemetry
  return { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1', DOTNET_CLI_TELEMETRY_OPTOUT: '1' };
}

const { tool: MULTITOOL, reason: SKIP_REASON } = findMultitool();
// the default reporter folds a skipped file into one line: say why there too
if (!MULTITOOL) console.warn(`SARIF Multitool tests skipped: ${SKIP_REASON}`);

interface Verdict {
  ruleId: string;
  level: string;
  message: string;
}

/** Runs `validate --rule-kind <kind>` and returns its errors and warnings (the tool exits 0 even with errors). */
function validate(sarifText: string, kind: 'Sarif' | 'Gh'): Verdict[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-multitool-'));
  try {
    const input = path.join(dir, 'report.sarif');
    const output = path.join(dir, 'validation.sarif');
    fs.writeFileSync(input, sarifText);
    execFileSync(MULTITOOL!, ['validate', '--rule-kind', kind, '--level', 'Error;Warning', '--log', 'ForceOverwrite', '--output', output, input], {
      env: multitoolEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    const log = JSON.parse(fs.readFileSync(output, 'utf8')) as Sarif.Log;
    const run = log.runs[0]!;
    const failures = (run.invocations ?? []).flatMap((invocation) => [...(invocation.toolExecutionNotifications ?? []), ...(invocation.toolConfigurationNotifications ?? [])]);
    expect(failures.filter((item) => item.level === 'error').map((item) => item.message.text)).toEqual([]);
    return (run.results ?? [])
      .filter((result) => result.level === 'error' || result.level === 'warning' || result.level === undefined)
      .map((result) => ({ ruleId: result.ruleId ?? '?', level: result.level ?? 'warning', message: (result.message.text ?? '').slice(0, 200) }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The results that have no region, as `ruleId host-path`, each checked on the real filesystem: the
 * reporter leaves the region out only for a directory (URI ending in '/') or a path that does not exist.
 */
function withoutRegion(log: Sarif.Log): string[] {
  const run = log.runs[0]!;
  const unplaced: string[] = [];
  for (const result of run.results ?? []) {
    const physical = result.locations?.[0]?.physicalLocation;
    expect(physical?.artifactLocation?.uri, `${result.ruleId} has no location`).toBeDefined();
    if (physical!.region) continue;
    const { uri, uriBaseId } = physical!.artifactLocation!;
    const base = uriBaseId ? run.originalUriBaseIds![uriBaseId]!.uri! : undefined;
    const host = fileURLToPath(new URL(uri!, base));
    const stat = fs.lstatSync(host, { throwIfNoEntry: false });
    expect(stat === undefined || stat.isDirectory(), `${result.ruleId}: ${host} is a file but has no region`).toBe(true);
    if (stat?.isDirectory()) expect(uri!.endsWith('/'), `${result.ruleId}: directory URI ${uri} ends with '/'`).toBe(true);
    unplaced.push(`${result.ruleId} ${host}${stat ? '' : ' (missing)'}`);
  }
  return unplaced;
}

/** What the Multitool says, less the SARIF2017 warnings on region-less results (each one checked by withoutRegion). */
function expectOnlyDocumentedWarnings(text: string): string[] {
  const log = JSON.parse(text) as Sarif.Log;
  const unplaced = withoutRegion(log);
  const spec = validate(text, 'Sarif');
  expect(spec.filter((item) => item.ruleId !== 'SARIF2017')).toEqual([]);
  expect(spec).toHaveLength(unplaced.length);
  expect(validate(text, 'Gh')).toEqual([]);
  return unplaced;
}

// each validation starts a .NET binary (2-5 s here): more time than the default per test
describe.skipIf(!MULTITOOL)(MULTITOOL ? 'SARIF Multitool' : `SARIF Multitool (skipped: ${SKIP_REASON})`, { timeout: 180_000 }, () => {
  it('the validator is not vacuous: a result without a region is a SARIF2017 warning, an empty locations array a GitHub error', () => {
    const log: Sarif.Log = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'probe', rules: [{ id: 'X1', shortDescription: { text: 'probe' } }] } },
          results: [
            { ruleId: 'X1', message: { text: 'no region' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'a.txt' } } }] },
            { ruleId: 'X1', message: { text: 'no location' }, locations: [] },
          ],
        },
      ],
    };
    expect(validate(JSON.stringify(log), 'Sarif').map((item) => item.ruleId)).toContain('SARIF2017');
    expect(validate(JSON.stringify(log), 'Gh').some((item) => item.level === 'error')).toBe(true);
  });

  it('the shipped example: 0 errors under both rule kinds; config and unit findings carry regions; the warnings left are its directories and its missing state dir', () => {
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin/resonix-migrate.js'), 'verify', '--home', path.join(REPO_ROOT, 'examples/broken-migration/home/alice'), '--format', 'sarif'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH! },
    });
    expect(run.status, run.stderr).toBe(1);
    const log = JSON.parse(run.stdout) as Sarif.Log;
    const results = log.runs[0]!.results!;
    expect(results.length).toBeGreaterThan(3);
    const unit = results.find((item) => item.ruleId === 'state/profile-mismatch')!;
    expect(unit.locations![0]!.physicalLocation!.region).toEqual({ byteOffset: 0, byteLength: expect.any(Number) });
    const unplaced = expectOnlyDocumentedWarnings(run.stdout).map((item) => item.replace(REPO_ROOT, ''));
    expect(unplaced.sort()).toEqual([
      'copy/config-only examples/broken-migration/home/alice/.resonix/',
      'gateway/service-missing examples/broken-migration/home/alice/.resonix/',
      'perms/secrets-exposed examples/broken-migration/home/alice/.resonix/',
      'state/not-found examples/broken-migration/home/alice/.resonix-work (missing)',
    ]);
  });

  it.skipIf(!canChown)(canChown ? 'a root-copied home (`sudo cp -r`): 0 errors under both rule kinds; the warnings left are the two findings on the state dir itself' : 'a root-copied home (skipped: needs root to copy as root)', async () => {
    const old = await machineFrom('healthy-file-2026.5');
    const fresh = await machineFrom('healthy-file-2026.5');
    fs.rmSync(path.join(fresh.home, '.resonix'), { recursive: true });
    execFileSync('cp', ['-r', path.join(old.home, '.resonix'), path.join(fresh.home, '.resonix')]);
    const result = await fresh.cli(['verify', '--home', fresh.home, '--format', 'sarif']);
    expect(result.code, result.stderr).toBe(1);
    const log = JSON.parse(result.stdout) as Sarif.Log;
    expect(log.runs[0]!.results!.map((item) => item.ruleId)).toContain('perms/wrong-owner');
    // 7 SARIF2017 warnings before file findings got regions; what is left is the state dir itself
    const unplaced = expectOnlyDocumentedWarnings(result.stdout);
    const stateDir = path.join(fresh.home, '.resonix');
    expect(unplaced.sort()).toEqual([`perms/unreadable ${stateDir}/`, `perms/wrong-owner ${stateDir}/`]);
  });
});
