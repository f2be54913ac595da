// Microsoft's SARIF Multitool judges our SARIF: `validate --rule-kind Sarif` (the spec's advice) and
// `--rule-kind Gh` (what GitHub code scanning ingests), on a verify of a root-copied home and of the
// shipped example, a `verify --against` a snapshot of the old machine, and an `inspect` of a backup archive
// (plain and `--against`). .ci/run installs the tool into a temp prefix and sets SARIF_MULTITOOL (it is not
// a dependency of the package); without it these tests skip and say why.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Sarif from 'sarif';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, canChown } from '../helpers/scenario.js';
import { cleanupMachines, machineFrom, type Machine } from '../scenarios/run.js';

afterAll(cleanupMachines);

const asides: string[] = [];
afterAll(() => {
  for (const dir of asides.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * As test/scenarios/two-machines.test.ts moves a machine: snapshot the old one (the manifest in a temp dir
 * of its own), move its tree aside, and leave an empty home at the same path for the copy.
 */
async function moved(name: string): Promise<{ old: string; fresh: Machine; manifest: string }> {
  const machine = await machineFrom(name);
  const aside = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-multitool-move-'));
  asides.push(aside);
  const manifest = path.join(aside, 'manifest.json');
  const snapshot = await machine.cli(['snapshot', '--home', machine.home, '--out', manifest]);
  expect(snapshot.code, snapshot.stderr).toBe(0);
  const old = path.join(aside, 'old');
  fs.renameSync(machine.root, old);
  fs.mkdirSync(machine.home, { recursive: true, mode: 0o755 });
  fs.mkdirSync(machine.path('tmp'), { mode: 0o1777 });
  fs.cpSync(path.join(old, 'usr'), machine.path('usr'), { recursive: true, verbatimSymlinks: true });
  if (fs.existsSync(path.join(old, 'opt'))) fs.cpSync(path.join(old, 'opt'), machine.path('opt'), { recursive: true, verbatimSymlinks: true });
  if (canChown) fs.chownSync(machine.home, 1000, 1000);
  return { old: path.join(old, path.relative(machine.root, machine.home)), fresh: machine, manifest };
}

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
  it('verify --against a snapshot of the old machine (only resonix.json copied): 0 errors under both rule kinds; the warnings left are directories and missing paths', async () => {
    const target = await moved('healthy-file-2026.5');
    fs.mkdirSync(path.join(target.fresh.home, '.resonix'), { mode: 0o700 });
    fs.copyFileSync(path.join(target.old, '.resonix/resonix.json'), path.join(target.fresh.home, '.resonix/resonix.json'));
    if (canChown) execFileSync('chown', ['-R', '1000:1000', path.join(target.fresh.home, '.resonix')]);
    const result = await target.fresh.cli(['verify', '--home', target.fresh.home, '--against', target.manifest, '--format', 'sarif']);
    expect(result.code, result.stderr).toBe(1);
    const log = JSON.parse(result.stdout) as Sarif.Log;
    // the findings only a baseline gives are in it
    expect(log.runs[0]!.results!.map((item) => item.ruleId)).toEqual(expect.arrayContaining(['copy/config-only', 'copy/incomplete', 'copy/workspace-missing']));
    // each SARIF2017 left: a finding on a dir (the state dir here, as a whole) or on what the baseline had and this machine lacks
    const unplaced = expectOnlyDocumentedWarnings(result.stdout).map((item) => item.replace(target.fresh.home, '~'));
    expect(unplaced.sort()).toEqual([
      'copy/channel-login-missing ~/.resonix/credentials/whatsapp/default/creds.json (missing)',
      'copy/config-only ~/.resonix/',
      'copy/hidden-omitted ~/.resonix/.env (missing)',
      ...Array.from({ length: 4 }, () => 'copy/incomplete ~/.resonix/'),
      'copy/incomplete ~/.resonix/agents (missing)',
      'copy/incomplete ~/.resonix/agents (missing)',
      'copy/incomplete ~/.resonix/credentials (missing)',
      'copy/workspace-missing ~/.resonix/workspace (missing)',
      'copy/workspace-missing ~/work/agent-research (missing)',
      'gateway/service-missing ~/.resonix/',
      'secrets/duplicate-live-credentials ~/.config/systemd/user/resonix-gateway.service (missing)',
    ]);
  });

  it('inspect of a backup archive, plain and --against the snapshot: 0 errors under both rule kinds; no warning on the archive, and against the snapshot only what the archive lacks', async () => {
    const target = await moved('healthy-file-2026.5');
    const aside = path.dirname(target.old);
    const full = path.join(aside, 'state-full.tgz');
    const partial = path.join(aside, 'state-partial.tgz');
    execFileSync('tar', ['czf', full, '-C', target.old, '.resonix']);
    execFileSync('tar', ['czf', partial, '-C', target.old, '.resonix/resonix.json', '.resonix/agents']);
    const inspect = async (archive: string, extra: string[] = []): Promise<string[]> => {
      const result = await target.fresh.cli(['inspect', archive, ...extra, '--format', 'sarif']);
      expect(result.code, result.stderr).toBe(1);
      const log = JSON.parse(result.stdout) as Sarif.Log;
      expect(log.runs[0]!.results!.map((item) => item.ruleId)).toContain('secrets/unencrypted-backup');
      return expectOnlyDocumentedWarnings(result.stdout).map((item) => item.replace(target.fresh.home, '~')).sort();
    };
    // the findings on the archive itself carry it whole as their region: no warning at all
    expect(await inspect(full)).toEqual([]);
    // against the snapshot: what the archive lacks, at the old machine's paths (the state dir is not here yet)
    expect(await inspect(partial, ['--against', target.manifest])).toEqual([
      'copy/hidden-omitted ~/.resonix/.env (missing)',
      ...Array.from({ length: 4 }, () => 'copy/incomplete ~/.resonix/ (missing)'),
      'copy/incomplete ~/.resonix/credentials (missing)',
    ]);
  });
});
