// run(): the whole pipeline as one library call, on a materialised machine. The report it returns is what
// every format prints from, so no secret is in it; the raw fix actions beside it hold the real paths --fix
// acts on, and only the plan (never the report) uses them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FORMATS, builtinRules, formatters, planFixes, run, type RunOptions } from '../src/index.js';
import { CANARY, entry, findCanaries } from './helpers/scenario.js';
import { cleanupMachines, liveScenario, machineFrom, type Machine } from './scenarios/run.js';

afterAll(cleanupMachines);

/** A file named after the gateway token (a secret the scan learns from the config), world-writable: perms/secrets-exposed plans a chmod of it. */
async function exposedMachine(): Promise<{ machine: Machine; planted: string }> {
  const scenario = await liveScenario('healthy-file-2026.5');
  entry(scenario, '{home}/.resonix/').mode = '0755';
  scenario.entries.push({ path: `{home}/.resonix/notes-${CANARY.gateway}.txt`, mode: '0666', content: 'x\n' });
  const machine = await machineFrom(scenario);
  return { machine, planted: path.join(machine.home, '.resonix', `notes-${CANARY.gateway}.txt`) };
}

function optionsFor(machine: Machine, extra: Partial<RunOptions> = {}): RunOptions {
  const PATH = `${machine.path('usr/local/bin')}:${machine.path('usr/bin')}:${process.env.PATH}`;
  return { phase: 'audit', home: machine.home, cwd: machine.root, env: { PATH, ...machine.env, TMPDIR: machine.path('tmp') }, ...extra };
}

describe('run()', () => {
  it('scans, judges and gates in one call: no canary in the report or any format, the plan holds the real path', async () => {
    const { machine, planted } = await exposedMachine();
    const result = await run(optionsFor(machine, { fix: 'plan' }));
    const json = JSON.stringify(result.report);
    expect(findCanaries(json, machine.canaries)).toEqual([]);
    for (const format of FORMATS) expect(findCanaries(formatters[format](result.report, { rules: builtinRules, failed: result.failed }), machine.canaries), format).toEqual([]);
    // the planted name did reach the report, masked where it stands (so the checks above can fail)
    expect(json).toContain('notes-[masked].txt');
    expect(result.report.findings.map((finding) => finding.ruleId)).toContain('perms/secrets-exposed');
    expect(result.failed).toBe(result.report.summary.error > 0);
    // the fix acts on the real path, and says what it does with the masked one
    const chmod = result.plan!.planned.find((item) => item.action.path === planted);
    expect(chmod?.command).toMatch(/notes-\[masked\]\.txt/);
    expect(findCanaries(chmod!.command, machine.canaries)).toEqual([]);
    // the report alone knows only the masked paths
    expect(planFixes(result.report).some((item) => item.action.path === planted)).toBe(false);
    expect(planFixes(result.report, result.rawActions).some((item) => item.action.path === planted)).toBe(true);
    // nothing was changed by planning
    expect(fs.statSync(planted).mode & 0o777).toBe(0o666);
  });

  it("fix: 'apply' applies the plan, then scans again: the result is the rescan's", async () => {
    const { machine, planted } = await exposedMachine();
    const result = await run(optionsFor(machine, { fix: 'apply' }));
    expect(result.applied?.some((item) => item.action.path === planted)).toBe(true);
    expect(fs.statSync(planted).mode & 0o077).toBe(0);
    expect(result.report.findings.filter((finding) => finding.ruleId === 'perms/secrets-exposed' && !finding.suppressed)).toEqual([]);
  });

  it('a mistake of the caller is a one-line UsageError before anything is scanned', async () => {
    const { machine } = await exposedMachine();
    await expect(run(optionsFor(machine, { only: ['no/such-rule'] }))).rejects.toThrow('--only: unknown rule "no/such-rule" (resonix-migrate rules lists them)');
    await expect(run(optionsFor(machine, { phase: 'image', target: path.join(machine.root, 'nowhere') }))).rejects.toThrow(/ROOTFS .*nowhere is not a directory/);
    await expect(run(optionsFor(machine, { baseline: path.join(machine.root, 'no-baseline.json') }))).rejects.toThrow(/cannot read baseline .*: ENOENT/);
  });
});

describe('an error raised after the scan', () => {
  it('leaves with the values that scan saw masked, in its message and its stack, and keeps its class', async () => {
    const { maskedError } = await import('../src/run.js');
    const { FixError } = await import('../src/fix/index.js');
    const secret = 'repetitive-gateway-token-aaaaaaaaaaaa';
    const error = maskedError(new FixError(`chmod failed on /home/alice/${secret}/x`), new Set([secret])) as Error;
    expect(error).toBeInstanceOf(FixError);
    expect(error.message).not.toContain(secret);
    expect(error.stack).not.toContain(secret);
    expect(error.message).toContain('/home/alice/');
  });
});
