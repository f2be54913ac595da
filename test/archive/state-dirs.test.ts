// Where state dirs are inside an archive and where they stood: the pure parts of inspect.
import { describe, expect, it } from 'vitest';
import { memberKey, sortMembers } from '../../src/archive/members.js';
import { findStateRoots, originalStateDirs, relocate, stateDirPath, toArchive, toMachine } from '../../src/archive/state-dirs.js';
import type { ArchiveMember } from '../../src/model.js';

const roots = (...keys: string[]) => findStateRoots(keys, (key) => key.endsWith('/') || !key.includes('.'));

describe('memberKey', () => {
  it.each([
    ['./.resonix/resonix.json', '.resonix/resonix.json'],
    ['.resonix//credentials/./x.json', '.resonix/credentials/x.json'],
    ['./', ''],
    ['home/alice/.resonix/', 'home/alice/.resonix'],
    ['../evil', undefined],
    ['a/../../evil', undefined],
    ['/etc/passwd', undefined],
    ['C:\\Windows\\evil', undefined],
  ])('%s → %s', (name, key) => {
    expect(memberKey(name)).toBe(key);
  });
});

describe('sortMembers', () => {
  const member = (path: string, extra: Partial<ArchiveMember> = {}): ArchiveMember => ({ path, type: 'file', mode: 0o600, size: 1, ...extra });

  it('keeps the last of duplicate names, sets apart traversal and writes through links', () => {
    const sorted = sortMembers([
      member('.resonix/resonix.json', { size: 1 }),
      member('.resonix/link', { type: 'symlink', linkTarget: '/etc' }),
      member('.resonix/link/passwd'),
      member('../x'),
      member('/abs'),
      member('./.resonix/resonix.json', { size: 2 }),
    ]);
    expect(sorted.members.map((item) => [item.key, item.member.size])).toEqual([
      ['.resonix/link', 1],
      ['.resonix/resonix.json', 2],
    ]);
    expect(sorted.traversal).toEqual([
      { name: '../x', kind: 'dot-dot' },
      { name: '/abs', kind: 'absolute' },
      { name: '.resonix/link/passwd', kind: 'through-symlink', via: '.resonix/link' },
    ]);
  });
});

describe('findStateRoots', () => {
  it('finds .resonix and profile dirs at any depth, outermost only', () => {
    expect(roots('home/alice/.resonix/resonix.json', 'home/alice/.resonix/.resonix/resonix.json', 'home/bob/.resonix-work/credentials/x.json').map((root) => root.dir)).toEqual([
      'home/alice/.resonix',
      'home/bob/.resonix-work',
    ]);
  });

  it("leaves a workspace's own .resonix/workspace-state.json alone", () => {
    expect(roots('work/agent/AGENTS.md', 'work/agent/.resonix/workspace-state.json')).toEqual([]);
  });

  it('knows an archive of the state dir contents and a dir named otherwise', () => {
    expect(roots('resonix.json', 'agents/main/agent/auth.json')).toEqual([{ dir: '', kind: 'sibling', frame: { prefix: '', machineRoot: '/.resonix', stateOnly: true } }]);
    expect(roots('srv/rx/resonix.json', 'srv/rx/credentials/')).toEqual([{ dir: 'srv/rx', kind: 'sibling', frame: { prefix: '', machineRoot: '/' } }]);
    expect(roots('resonix.json', 'notes.txt')).toEqual([]);
  });

  it('maps a `resonix backup create` payload to the paths it records', () => {
    const [root] = roots('b/manifest.json', 'b/payload/srv/rx/resonix.json', 'b/payload/srv/rx/state/resonix.sqlite');
    expect(root).toEqual({ dir: 'b/payload/srv/rx', kind: 'backup', frame: { prefix: 'b/payload', machineRoot: '/' } });
    expect(stateDirPath(root!)).toBe('/srv/rx');
  });
});

describe('frames', () => {
  it('map keys to machine paths and back', () => {
    const frame = { prefix: 'backup', machineRoot: '/home/alice' };
    expect(toMachine(frame, 'backup/.resonix/x')).toBe('/home/alice/.resonix/x');
    expect(toMachine(frame, 'other/x')).toBeUndefined();
    expect(toArchive(frame, '/home/alice/work/agent')).toBe('backup/work/agent');
    expect(toArchive(frame, '/home/alice')).toBe('backup');
    expect(toArchive(frame, '/etc/passwd')).toBeUndefined();
  });
});

describe('relocate', () => {
  const segment = (dir: string) => ({ dir, kind: 'segment' as const, frame: { prefix: '', machineRoot: '/' } });

  it('moves an archive path that is a tail of the original', () => {
    expect(stateDirPath(relocate(segment('.resonix'), '/home/alice/.resonix'))).toBe('/home/alice/.resonix');
    expect(relocate(segment('alice/.resonix'), '/home/alice/.resonix').frame).toEqual({ prefix: '', machineRoot: '/home' });
  });

  it('keeps what the archive records when it says more, or something else', () => {
    expect(stateDirPath(relocate(segment('tmp/x/home/alice/.resonix'), '/home/alice/.resonix'))).toBe('/tmp/x/home/alice/.resonix');
    expect(stateDirPath(relocate(segment('.resonix'), '/home/alice/.resonix-work'))).toBe('/.resonix');
    expect(stateDirPath(relocate(segment('.resonix'), undefined))).toBe('/.resonix');
  });

  it("takes the config's word for an archive of the state dir contents", () => {
    const contents = { dir: '', kind: 'sibling' as const, frame: { prefix: '', machineRoot: '/.resonix', stateOnly: true } };
    expect(relocate(contents, '/Users/alice/.resonix').frame).toEqual({ prefix: '', machineRoot: '/Users/alice/.resonix', stateOnly: true });
  });
});

describe('originalStateDirs', () => {
  it('reads agent dirs and paths through a state dir, most named first', () => {
    expect(
      originalStateDirs({
        agents: [{ id: 'main', agentDir: '/home/alice/.resonix/agents/main/agent' }, { id: 'x', agentDir: 'relative/agent' }],
        paths: [
          { key: 'agents.entries.research.agentDir', value: '/home/alice/.resonix/agents/research/agent' },
          { key: 'logging.file', value: '/var/log/resonix.log' },
          { key: 'channels.whatsapp.accounts.work.authDir', value: '/home/bob/.resonix-work/credentials/whatsapp/work' },
        ],
      }),
    ).toEqual(['/home/alice/.resonix', '/home/bob/.resonix-work']);
  });
});
