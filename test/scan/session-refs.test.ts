import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BUDGET_CODE, type ScanProblem } from '../../src/model.js';
import { MAX_SCAN_SESSION_ENTRIES, MAX_SCAN_SESSIONS_JSON_BYTES, MAX_SESSIONS_JSON_BYTES, MAX_SESSION_REFS, readSessionRefs, relocatedTo, sessionsBudget } from '../../src/scan/session-refs.js';
import { InventoryPaths } from '../../src/scan/inventory-paths.js';
import { spyOnReadsOf } from '../helpers/read-spy.js';

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

  it('an InventoryPaths of the walk\'s entries answers as the Set of their paths (#13): every kind of lookup', () => {
    const sessions = {
      relativeHere: { sessionFile: 'r1.jsonl' },
      relativeGone: { sessionFile: 'r2.jsonl' },
      relativeUp: { sessionFile: '../../work/sessions/w1.jsonl' },
      relativeElsewhere: { sessionFile: '../../../notes/n1.jsonl' },
      insideHere: { sessionFile: `${STATE}/agents/lookups/sessions/i1.jsonl` },
      insideGone: { sessionFile: `${STATE}/agents/lookups/sessions/i2.jsonl` },
      insideNotATranscript: { sessionFile: `${STATE}/workspace/AGENTS.md` },
      outsideThere: { sessionFile: '/srv/transcripts/g7.jsonl' },
      outsideGone: { sessionFile: '/srv/transcripts/gone.jsonl' },
      relocated: { sessionFile: '/Users/alice/.resonix/agents/lookups/sessions/i1.jsonl' },
      relocatedGone: { sessionFile: '/Users/alice/.resonix/agents/lookups/sessions/i2.jsonl' },
      idHere: { sessionId: 'id1' },
      idGone: { sessionId: 'id2' },
      idOnlyInAnotherAgent: { sessionId: 'w1' },
      idOfADir: { sessionId: 'dir' },
      idUnsafe: { sessionId: '../../work/sessions/w1' },
      idDot: { sessionId: '.' },
      idNotAString: { sessionId: 3 },
      emptyFileFallsBackToId: { sessionFile: '', sessionId: 'id3' },
    };
    write(`${STATE}/agents/lookups/sessions/sessions.json`, JSON.stringify(sessions, null, 2));
    const paths = [
      '',
      'agents/lookups/sessions/sessions.json',
      'agents/lookups/sessions/r1.jsonl',
      'agents/lookups/sessions/i1.jsonl',
      'agents/lookups/sessions/id1.jsonl',
      'agents/lookups/sessions/dir.jsonl',
      'agents/lookups/sessions/dir.jsonl/x',
      'agents/work/sessions/w1.jsonl',
      'workspace/AGENTS.md',
    ];
    const expected = {
      file: 'agents/lookups/sessions/sessions.json',
      sessionFiles: [
        `${STATE}/agents/lookups/sessions/i1.jsonl`,
        `${STATE}/agents/lookups/sessions/i2.jsonl`,
        `${STATE}/workspace/AGENTS.md`,
        '/srv/transcripts/g7.jsonl',
        '/srv/transcripts/gone.jsonl',
        '/Users/alice/.resonix/agents/lookups/sessions/i1.jsonl',
        '/Users/alice/.resonix/agents/lookups/sessions/i2.jsonl',
      ],
      skillPaths: [],
      missingTranscripts: [
        'agents/lookups/sessions/r2.jsonl',
        // outside the state dir (../../../notes from the sessions dir is still inside it: notes/n1.jsonl)
        'notes/n1.jsonl',
        'agents/lookups/sessions/i2.jsonl',
        '/srv/transcripts/gone.jsonl',
        '/Users/alice/.resonix/agents/lookups/sessions/i2.jsonl',
        'agents/lookups/sessions/id2.jsonl',
        'agents/lookups/sessions/w1.jsonl',
        'agents/lookups/sessions/id3.jsonl',
      ],
      relocated: [{ from: '/Users/alice/.resonix', to: `${STATE}/agents/lookups/sessions/i1.jsonl` }],
    };
    const entries = paths.map((entryPath) => ({ path: entryPath, type: 'file' as const, mode: 0o600, uid: 0, gid: 0, size: 1, mtimeMs: 0 }));
    expect(readSessionRefs(root, STATE, new Set(paths))).toEqual([expected]);
    expect(readSessionRefs(root, STATE, InventoryPaths.ofEntries(entries))).toEqual([expected]);
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

describe('the scan\'s sessions.json budget (issue 10)', () => {
  /** readSync calls on the file with this inode, while `run` runs */
  const readsOf = <T>(ino: number, run: () => T): { result: T; reads: number } => {
    const spy = spyOnReadsOf(ino);
    try {
      const result = run();
      return { result, reads: spy.reads() };
    } finally {
      spy.restore();
    }
  };

  it('a sessions.json hard-linked under 50 agents is read and parsed once; each link is judged where it lies', () => {
    const first = `${STATE}/agents/linked0/sessions/sessions.json`;
    write(first, JSON.stringify({ a: { sessionId: 'gone' }, b: { sessionFile: '/Users/alice/.resonix/agents/main/sessions/a1.jsonl' } }));
    const files = ['agents/linked0/sessions/sessions.json'];
    for (let index = 1; index <= 50; index++) {
      const file = `agents/linked${index}/sessions/sessions.json`;
      fs.mkdirSync(path.dirname(path.join(root, STATE, file)), { recursive: true });
      fs.linkSync(path.join(root, first), path.join(root, STATE, file));
      files.push(file);
    }
    const problems: ScanProblem[] = [];
    const { result, reads } = readsOf(fs.statSync(path.join(root, first)).ino, () => readSessionRefs(root, STATE, new Set(files), undefined, { budget: sessionsBudget(), problems }));
    expect(reads).toBe(1);
    expect(result).toHaveLength(51);
    for (const refs of result) {
      expect(refs).toEqual({
        file: refs.file,
        sessionFiles: ['/Users/alice/.resonix/agents/main/sessions/a1.jsonl'],
        skillPaths: [],
        // the transcript named by id lies beside this link, not beside the first one
        missingTranscripts: [`${path.posix.dirname(refs.file)}/gone.jsonl`, '/Users/alice/.resonix/agents/main/sessions/a1.jsonl'],
      });
    }
    expect(problems).toEqual([]);
  });

  it(`past the scan's byte budget (${MAX_SCAN_SESSIONS_JSON_BYTES / 1024 / 1024} MiB by default) a sessions.json is not read, and one EBUDGET problem says where it stopped`, () => {
    const files = ['a', 'b', 'c', 'd'].map((id) => `agents/budget-${id}/sessions/sessions.json`);
    for (const file of files) write(`${STATE}/${file}`, JSON.stringify({ k: { sessionId: 'x'.repeat(80) } }));
    const size = fs.statSync(path.join(root, STATE, files[0]!)).size;
    const budget = sessionsBudget(2 * size + 1);
    const problems: ScanProblem[] = [];
    const refs = readSessionRefs(root, STATE, new Set(files), undefined, { budget, problems });
    expect(refs.map((item) => item.parseError)).toEqual([undefined, undefined, "not read: the scan's sessions.json budget was spent", "not read: the scan's sessions.json budget was spent"]);
    expect(problems).toEqual([
      {
        path: `${STATE}/${files[2]}`,
        code: BUDGET_CODE,
        message: `stopped reading sessions.json files at ${STATE}/${files[2]}: the scan's budget (${2 * size + 1} bytes for every sessions.json) was spent; the ones past it were not checked for moved paths or missing transcripts`,
      },
    ]);
    // shared by the scan's next install: still spent, and said once
    expect(readSessionRefs(root, STATE, new Set([files[0]!]), undefined, { budget, problems })[0]!.parseError).toBe("not read: the scan's sessions.json budget was spent");
    expect(problems).toHaveLength(1);
  });

  it(`past the scan's entry budget (${MAX_SCAN_SESSION_ENTRIES.toLocaleString('en-US')} by default, counted again at each hard link) the rest is not judged, and one EBUDGET problem says where`, () => {
    const first = `${STATE}/agents/entries0/sessions/sessions.json`;
    write(first, JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`k${index}`, { sessionId: `gone${index}` }]))));
    const files = ['agents/entries0/sessions/sessions.json', 'agents/entries1/sessions/sessions.json', 'agents/entries2/sessions/sessions.json'];
    for (const file of files.slice(1)) {
      fs.mkdirSync(path.dirname(path.join(root, STATE, file)), { recursive: true });
      fs.linkSync(path.join(root, first), path.join(root, STATE, file));
    }
    const problems: ScanProblem[] = [];
    const refs = readSessionRefs(root, STATE, new Set(files), undefined, { budget: sessionsBudget(MAX_SCAN_SESSIONS_JSON_BYTES, 15), problems });
    expect(refs.map((item) => item.missingTranscripts.length)).toEqual([10, 5, 0]);
    expect(problems).toEqual([
      {
        path: `${STATE}/${files[1]}`,
        code: BUDGET_CODE,
        message: `stopped judging sessions.json entries at ${STATE}/${files[1]} (entry 6 of 10): the scan's budget (15 entries for every sessions.json) was spent; the ones past it were not checked for moved paths or missing transcripts`,
      },
    ]);
  });
});
