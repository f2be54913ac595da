// Old home prefixes, recognised from the paths themselves (reference §12): any prefix, from a missing absolute
// path whose tail exists under this home, a unit's HOME=, or sessionFiles whose transcripts arrived.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sudoUserOf } from '../../src/scan/index.js';
import { detectOldHomes, markArrivedWorkspaces, oldPrefixOf } from '../../src/scan/moved-home.js';
import { config, home, install, service } from '../helpers/machine.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-moved-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
for (const dir of ['home/alice/.resonix/agents/main/sessions', 'home/alice/work/agent-main', 'home/alice/.npm-global/lib/node_modules/resonix']) fs.mkdirSync(path.join(root, dir), { recursive: true });

const HOME = '/home/alice';

describe('oldPrefixOf', () => {
  it('the shortest prefix whose tail exists under this home, whatever it is', () => {
    expect(oldPrefixOf(root, HOME, '/srv/alice/work/agent-main')).toEqual({ prefix: '/srv/alice', to: '/home/alice/work/agent-main' });
    expect(oldPrefixOf(root, HOME, '/mnt/disk2/users/alice/.npm-global/lib/node_modules/resonix')!.prefix).toBe('/mnt/disk2/users/alice');
    expect(oldPrefixOf(root, HOME, '/srv/alice/not-copied/x')).toBeUndefined();
  });
});

describe('detectOldHomes', () => {
  it('from config paths, unit HOME= and relocated sessionFiles, grouped per prefix; own paths and paths that exist are no evidence', () => {
    const state = install('/home/alice/.resonix', ['resonix.json'], {
      config: config({ paths: [{ key: 'agents.defaults.workspace', value: '/srv/alice/work/agent-main' }, { key: 'agents.list[1].workspace', value: '/home/alice/work/agent-main' }, { key: 'gateway.tls.certPath', value: '/etc/hostname' }] }),
      sessionRefs: [{ file: 'agents/main/sessions/sessions.json', sessionFiles: [], skillPaths: [], missingTranscripts: [], relocated: [{ from: '/srv/alice', to: '/home/alice/.resonix/agents/main/sessions/a.jsonl' }] }],
    });
    const unit = service('/home/alice/.resonix', { env: { HOME: '/data/old-alice' }, execStart: ['/srv/alice/.npm-global/lib/node_modules/resonix', 'gateway'] });
    const olds = detectOldHomes(root, HOME, [HOME], [state], [unit]);
    expect(olds.map((old) => [old.prefix, old.how])).toEqual([
      ['/data/old-alice', ['unit-home']],
      ['/srv/alice', ['tail']],
    ]);
    expect(olds[1]!.arrived.map((item) => item.from)).toEqual(['/srv/alice', '/srv/alice/work/agent-main', '/srv/alice/.npm-global/lib/node_modules/resonix']);
  });

  it('nothing on a home that did not move', () => {
    const state = install('/home/alice/.resonix', undefined, { config: config({ paths: [{ key: 'agents.defaults.workspace', value: '/home/alice/work/agent-main' }] }) });
    expect(detectOldHomes(root, HOME, [HOME], [state], [service('/home/alice/.resonix')])).toEqual([]);
  });

  it('a workspace configured under the old prefix that arrived here is marked, one that did not is not', () => {
    const arrived = { agentId: 'main', path: '/srv/alice/work/agent-main', source: 'config' as const, inventory: { root: '/srv/alice/work/agent-main', exists: false, entries: [] } };
    const lost = { agentId: 'x', path: '/srv/alice/work/agent-x', source: 'config' as const, inventory: { root: '/srv/alice/work/agent-x', exists: false, entries: [] } };
    const h = home([install('/home/alice/.resonix', undefined, { workspaces: [arrived, lost] })], { oldHomes: [{ prefix: '/srv/alice', how: ['tail'], arrived: [] }] });
    markArrivedWorkspaces(root, h);
    expect(h.installs[0]!.workspaces.map((workspace) => workspace.arrivedAt)).toEqual(['/home/alice/work/agent-main', undefined]);
  });
});

describe('sudoUserOf', () => {
  const users = [
    { name: 'root', uid: 0, gid: 0, home: '/root' },
    { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    { name: 'toor', uid: 0, gid: 0, home: '/root2' },
  ];
  it("under sudo (root, SUDO_USER a real user other than root) the home meant is SUDO_USER's", () => {
    expect(sudoUserOf({ SUDO_USER: 'alice', HOME: '/root' }, users, 0)?.home).toBe('/home/alice');
    expect(sudoUserOf({ SUDO_USER: 'alice' }, users, 1000)).toBeUndefined();
    expect(sudoUserOf({ SUDO_USER: 'root' }, users, 0)).toBeUndefined();
    expect(sudoUserOf({ SUDO_USER: 'toor' }, users, 0)).toBeUndefined();
    expect(sudoUserOf({ SUDO_USER: 'mallory' }, users, 0)).toBeUndefined();
    expect(sudoUserOf({}, users, 0)).toBeUndefined();
  });
});
