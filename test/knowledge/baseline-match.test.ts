import { describe, expect, it } from 'vitest';
import { mapPath, matchInstalls, matchWorkspaces } from '../../src/knowledge/baseline-match.js';
import type { Install, Workspace } from '../../src/model.js';
import { config, entries, HEALTHY_FILES, home, install, machine, resolution } from '../helpers/machine.js';

function workspace(path: string, agentId: string, files: string[] = ['AGENTS.md']): Workspace {
  return { agentId, path, source: 'config', inventory: { root: path, exists: true, entries: entries(files) } };
}
function mac(installs: Install[], extra = {}) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice'), ...extra })], { platform: 'darwin' });
}
const WORK_FILES = ['resonix.json', 'credentials/oauth.json', 'agents/w/sessions/sessions.json', 'agents/w/sessions/x.jsonl'];
const workConfig = (stateDir: string) => config({ agents: [{ id: 'w' }], channels: ['telegram'] }, `${stateDir}/resonix.json`);

describe('mapPath', () => {
  const homeMap = { from: '/Users/alice', to: '/home/alice' };
  it('moves paths under the old home into the new one, and nothing else', () => {
    expect(mapPath('/Users/alice', homeMap)).toBe('/home/alice');
    expect(mapPath('/Users/alice/.resonix/credentials', homeMap)).toBe('/home/alice/.resonix/credentials');
    expect(mapPath('/Users/alicex/file', homeMap)).toBe('/Users/alicex/file');
    expect(mapPath('/srv/resonix', homeMap)).toBe('/srv/resonix');
    expect(mapPath('/Users/alice/work/agent', { from: '/Users/alice/', to: '/home/alice' })).toBe('/home/alice/work/agent');
  });
});

describe('matchInstalls', () => {
  it('maps /Users/alice to /home/alice and pairs installs by their dir name in the home', () => {
    const baseline = mac([install('/Users/alice/.resonix'), install('/Users/alice/.resonix-work', WORK_FILES, { active: false })]);
    const current = machine([home([install('/home/alice/.resonix-work', WORK_FILES, { active: false }), install('/home/alice/.resonix')])]);
    const matches = matchInstalls(baseline, current);
    expect(matches.map((match) => [match.baseline.stateDir, match.current?.stateDir, match.renamed ?? false])).toEqual([
      ['/Users/alice/.resonix', '/home/alice/.resonix', false],
      ['/Users/alice/.resonix-work', '/home/alice/.resonix-work', false],
    ]);
    expect(matches[0]!.homeMap).toEqual({ from: '/Users/alice', to: '/home/alice' });
  });

  it('detects a renamed profile dir by its config and inventory shape, and says so', () => {
    const baseline = mac([install('/Users/alice/.resonix'), install('/Users/alice/.resonix-work', WORK_FILES, { active: false, config: workConfig('/Users/alice/.resonix-work') })]);
    const current = machine([
      home([
        install('/home/alice/.resonix'),
        install('/home/alice/.resonix-job', [...WORK_FILES, 'agents/w/sessions/y.jsonl'], { active: false, config: workConfig('/home/alice/.resonix-job') }),
        install('/home/alice/.resonix-other', ['resonix.json', 'cron/jobs.json'], { active: false }),
      ]),
    ]);
    const work = matchInstalls(baseline, current).find((match) => match.baseline.stateDir.endsWith('-work'))!;
    expect(work.current?.stateDir).toBe('/home/alice/.resonix-job');
    expect(work.renamed).toBe(true);
  });

  it('an empty dir at the old name does not hide the renamed one', () => {
    const baseline = mac([install('/Users/alice/.resonix', WORK_FILES, { config: workConfig('/Users/alice/.resonix') })]);
    const empty = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries([]) } });
    const current = machine([home([empty, install('/home/alice/.resonix-main', WORK_FILES, { active: false, config: workConfig('/home/alice/.resonix-main') })])]);
    const [match] = matchInstalls(baseline, current);
    expect(match!.current?.stateDir).toBe('/home/alice/.resonix-main');
    expect(match!.renamed).toBe(true);
  });

  it('nothing alike: no current install, or the empty one at the old name', () => {
    const baseline = mac([install('/Users/alice/.resonix', HEALTHY_FILES), install('/Users/alice/.resonix-work', WORK_FILES, { active: false, config: workConfig('/Users/alice/.resonix-work') })]);
    const empty = install('/home/alice/.resonix', [], { inventory: { root: '/home/alice/.resonix', exists: true, entries: entries([]) } });
    const current = machine([home([empty, install('/home/alice/.resonix-other', ['resonix.json', 'cron/jobs.json'], { active: false })])]);
    const matches = matchInstalls(baseline, current);
    expect(matches.map((match) => [match.baseline.stateDir, match.current?.stateDir, match.renamed ?? false])).toEqual([
      ['/Users/alice/.resonix', '/home/alice/.resonix', false],
      ['/Users/alice/.resonix-work', undefined, false],
    ]);
  });

  it('a state dir outside the home keeps its absolute path; homes pair by user name', () => {
    const baseline = machine([home([install('/srv/resonix', HEALTHY_FILES)], { path: '/home/al', user: 'alice', resolution: resolution('/home/al') })]);
    const current = machine([
      home([install('/home/bob/.resonix')], { path: '/home/bob', user: 'bob', resolution: resolution('/home/bob') }),
      home([install('/srv/resonix', HEALTHY_FILES)], { path: '/home/alice', user: 'alice' }),
    ]);
    const [match] = matchInstalls(baseline, current);
    expect(match!.homeMap).toEqual({ from: '/home/al', to: '/home/alice' });
    expect(match!.current?.stateDir).toBe('/srv/resonix');
  });

  it('workspaces pair by agent id, else by mapped path', () => {
    const old = install('/Users/alice/.resonix', HEALTHY_FILES, { workspaces: [workspace('/Users/alice/work/main', 'main'), workspace('/Users/alice/work/r', 'research')] });
    const now = install('/home/alice/.resonix', HEALTHY_FILES, { workspaces: [workspace('/home/alice/agents/main', 'main'), workspace('/home/alice/work/r', 'r2')] });
    const pairs = matchWorkspaces(old, now, { from: '/Users/alice', to: '/home/alice' });
    expect(pairs.map((pair) => [pair.baseline.path, pair.current?.path])).toEqual([
      ['/Users/alice/work/main', '/home/alice/agents/main'],
      ['/Users/alice/work/r', '/home/alice/work/r'],
    ]);
  });

  it('past the agent limit, a workspace of an agent the scan did not look at is unknown, not missing', () => {
    const workspaces = ['main', 'a1', 'a2', 'a3'].map((id) => workspace(`/home/alice/work/${id}`, id));
    const old = install('/home/alice/.resonix', HEALTHY_FILES, { workspaces });
    const cut = (omitted: number) =>
      install('/home/alice/.resonix', HEALTHY_FILES, {
        workspaces: workspaces.slice(0, 2),
        config: { ...config({ agents: [{ id: 'main' }, { id: 'a1' }] }, '/home/alice/.resonix/resonix.json'), ...(omitted ? { agentsOmitted: omitted } : {}) },
      });
    const homeMap = { from: '/home/alice', to: '/home/alice' };
    expect(matchWorkspaces(old, cut(2), homeMap).map((pair) => [pair.baseline.agentId, pair.current !== undefined])).toEqual([
      ['main', true],
      ['a1', true],
    ]);
    // without a cut the two are missing indeed
    expect(matchWorkspaces(old, cut(0), homeMap).filter((pair) => !pair.current).map((pair) => pair.baseline.agentId)).toEqual(['a2', 'a3']);
  });
});
