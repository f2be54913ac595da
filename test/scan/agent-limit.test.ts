// The agents of a config looked at follow the scan's entry limit (--max-entries): one agent per
// ENTRIES_PER_AGENT entries, between MIN_AGENTS and MAX_AGENTS; the rest are counted, not kept, and the cut
// is a problem.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_CODE } from '../../src/model.js';
import { agentLimit, ENTRIES_PER_AGENT, MAX_AGENTS, MIN_AGENTS, summariseConfig } from '../../src/scan/config-summary.js';
import { scanMachine } from '../../src/scan/index.js';
import { DEFAULT_MAX_ENTRIES } from '../../src/scan/walk.js';

describe('agentLimit', () => {
  it('one agent per ENTRIES_PER_AGENT entries, between MIN_AGENTS and MAX_AGENTS', () => {
    expect(agentLimit(DEFAULT_MAX_ENTRIES)).toBe(MAX_AGENTS);
    expect(agentLimit(MAX_AGENTS * ENTRIES_PER_AGENT)).toBe(MAX_AGENTS);
    expect(agentLimit(MAX_AGENTS * ENTRIES_PER_AGENT - 1)).toBe(MAX_AGENTS - 1);
    expect(agentLimit(10_000)).toBe(Math.floor(10_000 / ENTRIES_PER_AGENT));
    expect(agentLimit(MIN_AGENTS * ENTRIES_PER_AGENT)).toBe(MIN_AGENTS);
    expect(agentLimit(MIN_AGENTS * ENTRIES_PER_AGENT - 1)).toBe(MIN_AGENTS);
    expect(agentLimit(1)).toBe(MIN_AGENTS);
  });

  it('summariseConfig keeps the first agents of the list, then of entries, and counts the rest', () => {
    const list = Array.from({ length: 5 }, (_, i) => ({ id: `l${i}` }));
    const { summary } = summariseConfig({ agents: { list, entries: { e0: {}, e1: {} } } }, 6);
    expect(summary.agents.map((agent) => agent.id)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'e0']);
    expect(summary.agentsOmitted).toBe(1);
    expect(summariseConfig({ agents: { list } }).summary.agentsOmitted).toBeUndefined();
  });
});

describe('scanMachine: --max-entries sets the agent limit', () => {
  const AGENTS = 1500;
  let root: string;
  let home: string;
  let configPath: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-agent-limit-'));
    home = path.join(root, 'home', 'alice');
    const state = path.join(home, '.resonix');
    fs.mkdirSync(state, { recursive: true, mode: 0o700 });
    const list = Array.from({ length: AGENTS }, (_, i) => ({ id: `agent-${i}`, workspace: `~/ws/agent-${i}` }));
    configPath = path.join(state, 'resonix.json');
    fs.writeFileSync(configPath, JSON.stringify({ gateway: { mode: 'local' }, agents: { list } }), { mode: 0o600 });
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  async function scan(maxEntries?: number) {
    const { machine } = await scanMachine({ mode: 'live', root: '/', env: { HOME: home, TMPDIR: path.join(root, 'tmp') }, home, ...(maxEntries !== undefined ? { maxEntries } : {}) });
    const install = machine.homes[0]!.installs.find((item) => item.config.path === configPath)!;
    return { install, budget: machine.problems.filter((problem) => problem.code === BUDGET_CODE && problem.path === configPath) };
  }

  it('by default looks at MAX_AGENTS agents and says it cut the rest', async () => {
    const { install, budget } = await scan();
    expect(install.config.agents).toHaveLength(MAX_AGENTS);
    expect(install.config.agentsOmitted).toBe(AGENTS - MAX_AGENTS);
    expect(budget.map((problem) => problem.message)).toEqual([
      `${configPath} names ${AGENTS} agents: only the first ${MAX_AGENTS} were looked at (the scan's agent limit); the other ${AGENTS - MAX_AGENTS} were not checked`,
    ]);
  });

  it('a smaller --max-entries looks at fewer agents, and the problem names the flag', async () => {
    const maxEntries = 6_000;
    const limit = maxEntries / ENTRIES_PER_AGENT;
    const { install, budget } = await scan(maxEntries);
    expect(install.config.agents.map((agent) => agent.id)).toEqual(Array.from({ length: limit }, (_, i) => `agent-${i}`));
    expect(install.config.agentsOmitted).toBe(AGENTS - limit);
    expect(install.workspaces.length).toBeLessThanOrEqual(limit);
    expect(budget.map((problem) => problem.message)).toEqual([
      `${configPath} names ${AGENTS} agents: only the first ${limit} were looked at (the scan's agent limit, one per ${ENTRIES_PER_AGENT} entries of --max-entries ${maxEntries}); the other ${AGENTS - limit} were not checked`,
    ]);
  });

  it('a tiny --max-entries still looks at MIN_AGENTS agents', async () => {
    const few = path.join(root, 'few');
    fs.mkdirSync(path.join(few, '.resonix'), { recursive: true, mode: 0o700 });
    const fewConfig = path.join(few, '.resonix', 'resonix.json');
    fs.writeFileSync(fewConfig, JSON.stringify({ agents: { list: Array.from({ length: 10 }, (_, i) => ({ id: `a${i}` })) } }), { mode: 0o600 });
    const { machine } = await scanMachine({ mode: 'live', root: '/', env: { HOME: few, TMPDIR: path.join(root, 'tmp') }, home: few, maxEntries: 1 });
    const install = machine.homes[0]!.installs.find((item) => item.config.path === fewConfig)!;
    expect(install.config.agents).toHaveLength(10);
    expect(install.config.agentsOmitted).toBeUndefined();
    // the entry limit cut the tree, not the agents
    expect(machine.problems.filter((problem) => problem.code === BUDGET_CODE)).toEqual([]);
    expect(machine.problems.some((problem) => problem.code === 'ETOOMANY')).toBe(true);
  });
});
