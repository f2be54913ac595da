// Runs the real CLI on a materialised machine and checks, on every run, that no canary secret leaks.
import fs from 'node:fs';
import { expect } from 'vitest';
import type { Report } from '../../src/model.js';
import { findCanaries, loadScenario, materialise, runCli, type CliResult, type Materialised, type Scenario } from '../helpers/scenario.js';

export interface Machine extends Materialised {
  /** the CLI, run live on this machine with --home and a TMPDIR inside it */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
  /** `verify|audit --format json`, parsed */
  json(command: 'verify' | 'audit', extraArgs?: string[]): Promise<{ code: number; report: Report }>;
  /** `image ROOTFS --format json`, parsed */
  image(extraArgs?: string[]): Promise<{ code: number; report: Report }>;
}

export function expectNoLeak(text: string, machine: Materialised): void {
  expect(findCanaries(text, machine.canaries)).toEqual([]);
}

const live: Machine[] = [];

const MACHINE_PREFIXES = /(?<![\w/.{}-])\/(usr\/bin\/node|usr\/local\/bin\/node|usr\/lib\/node_modules|opt\/resonix-prefix)/g;

/**
 * A live machine runs with the host's `/`, so absolute paths of the scenario's own programs
 * (node, the Resonix package) are moved under {root}, where the scenario put them.
 */
function rootProgramPaths<T>(value: T): T {
  if (typeof value === 'string') return value.replace(MACHINE_PREFIXES, '{root}/$1') as T;
  if (Array.isArray(value)) return value.map(rootProgramPaths) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, key === 'path' ? item : rootProgramPaths(item)])) as T;
  }
  return value;
}

export async function liveScenario(name: string): Promise<Scenario> {
  const scenario = await loadScenario(name);
  return { ...scenario, entries: scenario.entries.map(rootProgramPaths) };
}

export async function machineFrom(scenario: Scenario | string, options: { live?: boolean } = { live: true }): Promise<Machine> {
  const isLive = options.live ?? true;
  const resolved = typeof scenario === 'string' && isLive ? await liveScenario(scenario) : scenario;
  const materialised = await materialise(resolved, { live: isLive });
  const cli = async (args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> => {
    // the machine's own programs (its node, its resonix) come first on PATH, the host's tools after
    const PATH = `${materialised.path('usr/local/bin')}:${materialised.path('usr/bin')}:${process.env.PATH}`;
    const result = await runCli(args, { env: { PATH, ...materialised.env, TMPDIR: materialised.path('tmp'), ...extraEnv } });
    expectNoLeak(result.stdout, materialised);
    expectNoLeak(result.stderr, materialised);
    expect(result.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // never a stack trace
    return result;
  };
  const parse = (result: CliResult): { code: number; report: Report } => {
    expect(result.code, result.stderr).toBeLessThan(2);
    return { code: result.code, report: JSON.parse(result.stdout) as Report };
  };
  const machine: Machine = Object.assign(materialised, {
    cli,
    json: async (command: 'verify' | 'audit', extraArgs: string[] = []) => parse(await cli([command, '--home', materialised.home, '--format', 'json', ...extraArgs])),
    image: async (extraArgs: string[] = []) => parse(await cli(['image', materialised.root, '--format', 'json', ...extraArgs])),
  });
  live.push(machine);
  return machine;
}

export async function cleanupMachines(): Promise<void> {
  while (live.length > 0) await live.pop()!.cleanup();
}

export function ruleIds(report: Report, severity?: 'error' | 'warning' | 'info'): string[] {
  return [...new Set(report.findings.filter((finding) => !severity || finding.severity === severity).map((finding) => finding.ruleId))].sort();
}

export function readIfExists(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}
