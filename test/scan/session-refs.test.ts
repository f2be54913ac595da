import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_SESSIONS_JSON_BYTES, MAX_SESSION_REFS, readSessionRefs, relocatedTo } from '../../src/scan/session-refs.js';

let root: string;
const STATE = '/home/alice/.resonix';

function write(machinePath: string, text: string): void {
  const host = path.join(root, machinePath);
  fs.mkdirSync(path.dirname(host), { recursive: true });
  fs.writeFileSync(host, text);
}

// sessions.json as 2026.5.28 writes it, copied from a Mac
const MAC_SESSIONS = {
  'agent:main:main': {
    sessionId: 'a1',
    updatedAt: 1760000000000,
    sessionFile: '/Users/alice/.resonix/agents/main/sessions/a1.jsonl',
    skillsSnapshot: {
      skills: [
        { name: 'weather', path: '/Users/alice/.resonix/workspace/skills/weather/SKILL.md', description: 'forecasts' },
        { name: 'notes', path: '~/notes/SKILL.md', dirs: ['C:\\Users\\alice\\skills'] },
      ],
      prompt: 'not a path',
    },
  },
  'agent:main:telegram:42': {
    sessionId: 'b2',
    sessionFile: '/Users/alice/.resonix/agents/main/sessions/b2.jsonl',
    skillsSnapshot: { skills: [{ path: '/Users/alice/.resonix/workspace/skills/weather/SKILL.md' }] },
  },
  // moved correctly: inside this state dir, transcript present
  'agent:main:discord:1': { sessionId: 'c3', sessionFile: `${STATE}/agents/main/sessions/c3.jsonl` },
  // inside this state dir, transcript gone
  'agent:main:discord:2': { sessionId: 'd4', sessionFile: `${STATE}/agents/main/sessions/d4.jsonl` },
  // no sessionFile: <sessionId>.jsonl next to sessions.json
  'agent:main:slack:1': { sessionId: 'e5' },
  'agent:main:slack:2': { sessionId: 'f6' },
  // outside the state dir but present on this machine
  'agent:main:cli': { sessionId: 'g7', sessionFile: '/srv/transcripts/g7.jsonl' },
  junk: 'not an entry',
};

let inventory: Set<string>;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-sessions-'));
  write(`${STATE}/agents/main/sessions/sessions.json`, JSON.stringify(MAC_SESSIONS));
  write('/srv/transcripts/g7.jsonl', '{}\n');
  write(`${STATE}/agents/work/sessions/sessions.json`, '{ "oops": ');
  write(`${STATE}/agents/array/sessions/sessions.json`, '[]');
  inventory = new Set([
    '',
    'agents/main/sessions/sessions.json',
    'agents/main/sessions/a1.jsonl',
    'agents/main/sessions/b2.jsonl',
    'agents/main/sessions/c3.jsonl',
    'agents/main/sessions/e5.jsonl',
    'agents/work/sessions/sessions.json',
    'agents/array/sessions/sessions.json',
    'workspace/AGENTS.md',
  ]);
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('readSessionRefs', () => {
  it('collects old absolute paths and missing transcripts', () => {
    const refs = readSessionRefs(root, STATE, inventory);
    expect(refs.map((item) => item.file)).toEqual([
      'agents/array/sessions/sessions.json',
      'agents/main/sessions/sessions.json',
      'agents/work/sessions/sessions.json',
    ]);
    const main = refs[1]!;
    expect(main.parseError).toBeUndefined();
    expect(main.sessionFiles).toEqual([
      '/Users/alice/.resonix/agents/main/sessions/a1.jsonl',
      '/Users/alice/.resonix/agents/main/sessions/b2.jsonl',
      `${STATE}/agents/main/sessions/c3.jsonl`,
      `${STATE}/agents/main/sessions/d4.jsonl`,
      '/srv/transcripts/g7.jsonl',
    ]);
    expect(main.skillPaths).toEqual(['/Users/alice/.resonix/workspace/skills/weather/SKILL.md', '~/notes/SKILL.md', 'C:\\Users\\alice\\skills']);
    // a1/b2 are named under the Mac's path but arrived in this state dir with the same tail: not missing (issue 11),
    // they are relocated (the old prefix is paths/foreign-home's finding)
    expect(main.missingTranscripts).toEqual(['agents/main/sessions/d4.jsonl', 'agents/main/sessions/f6.jsonl']);
    expect(main.relocated).toEqual([
      { from: '/Users/alice/.resonix', to: `${STATE}/agents/main/sessions/a1.jsonl` },
      { from: '/Users/alice/.resonix', to: `${STATE}/agents/main/sessions/b2.jsonl` },
    ]);
  });

  it('with the home known, a transcript under an old home prefix maps onto this home (any prefix)', () => {
    const refs = readSessionRefs(root, STATE, inventory, path.posix.dirname(STATE));
    expect(refs[1]!.relocated![0]).toEqual({ from: '/Users/alice', to: `${STATE}/agents/main/sessions/a1.jsonl` });
    expect(relocatedTo({ stateDir: '/home/alice/.resonix', home: '/home/alice', inventoryPaths: new Set(['agents/main/sessions/x.jsonl']) }, '/data/disk2/users/alice/.resonix/agents/main/sessions/x.jsonl')).toEqual({
      from: '/data/disk2/users/alice',
      to: '/home/alice/.resonix/agents/main/sessions/x.jsonl',
    });
    expect(relocatedTo({ stateDir: '/home/alice/.resonix', home: '/home/alice', inventoryPaths: new Set(['agents/main/sessions/x.jsonl']) }, '/srv/alice/.resonix/agents/main/sessions/gone.jsonl')).toBeUndefined();
  });

  it('keeps parse errors as data without quoting the content', () => {
    const refs = readSessionRefs(root, STATE, inventory);
    expect(refs[0]).toMatchObject({ parseError: 'not a JSON object', sessionFiles: [] });
    expect(refs[2]).toEqual({ file: 'agents/work/sessions/sessions.json', sessionFiles: [], skillPaths: [], missingTranscripts: [], parseError: 'invalid JSON' });
  });

  it('ignores sessions.json files not in the inventory and other files', () => {
    expect(readSessionRefs(root, STATE, new Set(['agents/main/sessions/a1.jsonl', 'sessions.json']))).toEqual([]);
  });

  it('reports a sessions.json listed but gone', () => {
    const [refs] = readSessionRefs(root, STATE, new Set(['agents/ghost/sessions/sessions.json']));
    expect(refs?.parseError).toBe('ENOENT');
  });

  it('keeps at most 500 paths of each kind', () => {
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 700; i++) {
      many[`k${i}`] = { sessionId: `s${i}`, sessionFile: `/Users/bob/.resonix/agents/big/sessions/s${i}.jsonl`, skillsSnapshot: { skills: [{ path: `/Users/bob/skills/${i}/SKILL.md` }] } };
    }
    write(`${STATE}/agents/big/sessions/sessions.json`, JSON.stringify(many));
    const [refs] = readSessionRefs(root, STATE, new Set(['agents/big/sessions/sessions.json']));
    expect(refs!.sessionFiles).toHaveLength(MAX_SESSION_REFS);
    expect(refs!.skillPaths).toHaveLength(MAX_SESSION_REFS);
    expect(refs!.missingTranscripts).toHaveLength(MAX_SESSION_REFS);
  });

  it('refuses a sessions.json over 64 MiB without reading it', () => {
    const file = `${STATE}/agents/huge/sessions/sessions.json`;
    write(file, '');
    fs.truncateSync(path.join(root, file), MAX_SESSIONS_JSON_BYTES + 1); // sparse: no disk used
    const readSync = vi.spyOn(fs, 'readSync');
    try {
      const [refs] = readSessionRefs(root, STATE, new Set(['agents/huge/sessions/sessions.json']));
      expect(refs).toEqual({ file: 'agents/huge/sessions/sessions.json', sessionFiles: [], skillPaths: [], missingTranscripts: [], parseError: 'too large' });
      expect(readSync).not.toHaveBeenCalled();
    } finally {
      readSync.mockRestore();
    }
  });
});
