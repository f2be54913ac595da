// --max-entries bounds the scan's memory: one budget for every tree it walks. A scan cut short must say so
// and must never invent a finding: rules that judge absence skip what was not listed.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { entry, type Scenario } from '../helpers/scenario.js';
import { scanMachine } from '../../src/scan/index.js';
import { cleanupMachines, liveScenario, machineFrom } from './run.js';

afterAll(cleanupMachines);

const keyOf = (finding: Report['findings'][number]): string => `${finding.ruleId} ${finding.path ?? ''}`;

describe('--max-entries', () => {
  const variants: { name: string; scenario: () => Promise<Scenario> }[] = [
    { name: 'healthy-file-2026.5', scenario: () => liveScenario('healthy-file-2026.5') },
    { name: 'healthy-sqlite-2026.9', scenario: () => liveScenario('healthy-sqlite-2026.9') },
    {
      // a second state dir with nothing but a rebuildable cache: cut short, it must not look like data
      name: 'healthy-file-2026.5 beside a cache-only ~/.resonix-dev',
      scenario: async () => {
        const scenario = await liveScenario('healthy-file-2026.5');
        scenario.entries.push({ path: '{home}/.resonix-dev/', mode: '0700' }, { path: '{home}/.resonix-dev/cache/', mode: '0700' }, { path: '{home}/.resonix-dev/cache/x.bin', mode: '0600', content: 'x' });
        return scenario;
      },
    },
  ];
  for (const variant of variants) {
    it(`${variant.name}: a scan cut short at any limit reports it and finds nothing a full scan does not`, async () => {
      const machine = await machineFrom(await variant.scenario());
      const snapshot = machine.path('tmp/old.manifest.json');
      expect((await machine.cli(['snapshot', '--home', machine.home, '--out', snapshot])).code).toBe(0);
      for (const extra of [[], ['--against', snapshot]]) {
        const full = await machine.json('verify', extra);
        expect(full.report.problems.filter((problem) => problem.code === 'ETOOMANY')).toEqual([]);
        const fullKeys = new Set(full.report.findings.map(keyOf));
        const listed = full.report.installs.reduce((sum, install) => sum + install.files, 0);
        for (const limit of [1, 2, 3, 5, 8, 12, 20, 30, listed - 5, listed - 1]) {
          const { report } = await machine.json('verify', [...extra, '--max-entries', String(limit)]);
          const cut = report.problems.filter((problem) => problem.code === 'ETOOMANY');
          expect(cut.length, `limit ${limit}`).toBeGreaterThan(0);
          expect(cut[0]!.message).toMatch(/entry limit was reached \(--max-entries\)/);
          // one budget for all trees: the state dirs hold no more than the limit between them, plus the root
          // entry of each tree walked after it ran out (that tells whether the tree exists)
          expect(report.installs.reduce((sum, install) => sum + install.files, 0)).toBeLessThanOrEqual(limit + report.installs.length - 1);
          // the rules that judge absence say why they are silent
          expect(report.rules.skipped.filter((item) => /entry limit \(--max-entries\)/.test(item.reason)).length, `limit ${limit}`).toBeGreaterThan(0);
          const invented = report.findings.filter((finding) => !fullKeys.has(keyOf(finding))).map((finding) => `${keyOf(finding)}: ${finding.message}`);
          expect(invented, `limit ${limit} ${extra.join(' ')}`).toEqual([]);
        }
      }
    });
  }

  it('one budget covers state dirs and workspaces alike (scanMachine)', async () => {
    const machine = await machineFrom(await variants[2]!.scenario());
    const scan = async (maxEntries?: number) => {
      const { machine: scanned } = await scanMachine({ mode: 'live', root: '/', env: { HOME: machine.home, TMPDIR: machine.path('tmp') }, home: machine.home, ...(maxEntries ? { maxEntries } : {}) });
      const inventories = scanned.homes.flatMap((home) => home.installs.flatMap((install) => [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]));
      // a workspace inside a state dir is a view of its inventory: count each listed path once
      const listed = new Set(inventories.flatMap((inventory) => inventory.entries.map((entry) => `${inventory.root}/${entry.path}`.replace(/\/$/, ''))));
      return { listed: listed.size, trees: inventories.length, cut: scanned.problems.some((problem) => problem.code === 'ETOOMANY') };
    };
    const full = await scan();
    expect(full.cut).toBe(false);
    for (const limit of [1, 4, 10, 25, full.listed - 2]) {
      const cut = await scan(limit);
      expect(cut.cut, `limit ${limit}`).toBe(true);
      expect(cut.listed, `limit ${limit}`).toBeLessThanOrEqual(limit + cut.trees);
    }
  });

  it('agents that share a workspace share one walk of it (charged to the budget once)', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json').json as { agents: { list: { id: string; workspace?: string }[] } };
    config.agents.list.push({ id: 'ops', workspace: '{homeAbs}/work/agent-research' });
    const machine = await machineFrom(scenario);
    const { machine: scanned } = await scanMachine({ mode: 'live', root: '/', env: { HOME: machine.home, TMPDIR: machine.path('tmp') }, home: machine.home });
    const workspaces = scanned.homes.flatMap((home) => home.installs.flatMap((install) => install.workspaces));
    const research = workspaces.find((workspace) => workspace.agentId === 'research')!;
    const ops = workspaces.find((workspace) => workspace.agentId === 'ops')!;
    expect(ops.path).toBe(research.path);
    expect(ops.inventory).toBe(research.inventory);
    expect(research.inventory.entries.length).toBeGreaterThan(1);
  });

  it('takes a whole number of at least 1 (exit 2 otherwise)', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    for (const bad of ['0', '-3', 'many', '1.5']) {
      const result = await machine.cli(['verify', '--home', machine.home, '--max-entries', bad]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--max-entries takes a whole number/);
    }
    const result = await machine.cli(['snapshot', '--home', machine.home, '--max-entries', '3', '--out', path.join(machine.path('tmp'), 'cut.json')]);
    expect(result.code).toBe(0);
  });
});
