import { describe, expect, it } from 'vitest';
import type { FileInventory, Workspace } from '../../../src/model.js';
import { foreignHome, rule } from '../../../src/rules/paths/foreign-home.js';
import { HEALTHY_FILES, config, entries, home, install, machine, resolution, service } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const STATE = '/home/alice/.resonix';

function workspace(agentId: string, path: string, exists = true, files: string[] = ['AGENTS.md']): Workspace {
  const inventory: FileInventory = { root: path, exists, entries: exists ? entries(files) : [] };
  return { agentId, path, source: 'config', inventory };
}

const withConfig = (paths: { key: string; value: string }[], extra: Parameters<typeof install>[2] = {}) =>
  machine([home([install(STATE, HEALTHY_FILES, { config: config({ paths }), ...extra })])]);

ruleCases(rule, {
  fires: [
    {
      name: 'a workspace from the Mac (/Users/alice) on a Linux home',
      machine: withConfig([{ key: 'agents.list[1].workspace', value: '/Users/alice/Projects/work-agent' }]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toContain('/Users/alice');
        expect(reports[0]!.evidence).toEqual(['agents.list[1].workspace = /Users/alice/Projects/work-agent']);
        expect(reports[0]!.fix!.commands).toEqual(["resonix config set 'agents.list[1].workspace' '~/Projects/work-agent'", 'resonix doctor']);
        expect(reports[0]!.install).toBe(STATE);
      },
    },
    {
      name: 'the finding sits at the first flagged key, where the scan located it',
      machine: machine([
        home([
          install(STATE, HEALTHY_FILES, {
            config: config({
              paths: [
                { key: 'logging.file', value: '/tmp/ok.log' },
                { key: 'agents.list[1].workspace', value: '/Users/alice/w' },
              ],
              keyPositions: { 'agents.list[1].workspace': { line: 9, column: 7, endLine: 9, endColumn: 18 } },
            }),
          }),
        ]),
      ]),
      expect: (reports) => expect(reports[0]).toMatchObject({ line: 9, column: 7, endLine: 9, endColumn: 18 }),
    },
    {
      name: 'a Windows home in the config',
      machine: withConfig([{ key: 'logging.file', value: 'C:\\Users\\alice\\resonix\\gateway.log' }]),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe("resonix config set logging.file '~/resonix/gateway.log'"),
    },
    {
      name: 'an authDir that did not arrive in the state dir',
      machine: withConfig([{ key: 'channels.whatsapp.accounts.work.authDir', value: '~/.resonix/credentials/whatsapp/work' }]),
      expect: (reports) => {
        expect(reports[0]!.message).toContain('missing on this machine');
        expect(reports[0]!.evidence).toEqual(['channels.whatsapp.accounts.work.authDir = ~/.resonix/credentials/whatsapp/work (missing)']);
        expect(reports[0]!.fix!.commands[0]).toBe('resonix config set channels.whatsapp.accounts.work.authDir <new-path>');
      },
    },
    {
      // the keys' lookups are made together, one pass per tree (#13): each key still gets its own verdict, in config order
      name: 'present and missing places in the state dir and a workspace, between paths into another home',
      machine: withConfig(
        [
          { key: 'channels.whatsapp.accounts.a.authDir', value: '~/.resonix/credentials/whatsapp/a' },
          { key: 'channels.whatsapp.accounts.default.authDir', value: '~/.resonix/credentials/whatsapp/default' },
          { key: 'agents.list[1].workspace', value: '/Users/alice/w' },
          { key: 'plugins.installs.x.installPath', value: '/home/alice/Projects/work-agent/plugins/x' },
          { key: 'plugins.installs.y.installPath', value: '/home/alice/Projects/work-agent/AGENTS.md' },
          { key: 'channels.whatsapp.accounts.b.authDir', value: `${STATE}/credentials/whatsapp/a` },
          { key: 'hooks.dir', value: `${STATE}/agents/main` },
        ],
        { workspaces: [workspace('work', '/home/alice/Projects/work-agent')] },
      ),
      expect: (reports) =>
        expect(reports[0]!.evidence).toEqual([
          'channels.whatsapp.accounts.a.authDir = ~/.resonix/credentials/whatsapp/a (missing)',
          'agents.list[1].workspace = /Users/alice/w',
          'plugins.installs.x.installPath = /home/alice/Projects/work-agent/plugins/x (missing)',
          `channels.whatsapp.accounts.b.authDir = ${STATE}/credentials/whatsapp/a (missing)`,
        ]),
    },
    {
      name: 'a configured workspace that is not on this machine',
      machine: withConfig([{ key: 'agents.list[1].workspace', value: '/srv/agents/work' }], { workspaces: [workspace('work', '/srv/agents/work', false)] }),
    },
    {
      name: 'a profile install gets --profile in its commands',
      machine: machine([
        home([
          install(STATE),
          install('/home/alice/.resonix-work', HEALTHY_FILES, { profile: 'work', active: false, config: config({ paths: [{ key: 'agents.defaults.workspace', value: '/home/bob/ws' }] }, '/home/alice/.resonix-work/resonix.json') }),
        ]),
      ]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.install).toBe('/home/alice/.resonix-work');
        expect(reports[0]!.fix!.commands[0]).toBe("resonix --profile work config set agents.defaults.workspace '~/ws'");
      },
    },
    {
      name: 'sessions.json records /Users/alice sessionFile and skill paths',
      machine: machine([
        home([
          install(STATE, HEALTHY_FILES, {
            sessionRefs: [
              {
                file: 'agents/main/sessions/sessions.json',
                sessionFiles: ['/Users/alice/.resonix/agents/main/sessions/a1.jsonl', `${STATE}/agents/main/sessions/b2.jsonl`],
                skillPaths: ['/Users/alice/.resonix/workspace/skills/weather/SKILL.md', '~/skills/x'],
                missingTranscripts: [],
              },
            ],
          }),
        ]),
      ]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.path).toBe(`${STATE}/agents/main/sessions/sessions.json`);
        expect(reports[0]!.evidence).toEqual([
          'agents/main/sessions/sessions.json: sessionFile = /Users/alice/.resonix/agents/main/sessions/a1.jsonl',
          'agents/main/sessions/sessions.json: skillsSnapshot = /Users/alice/.resonix/workspace/skills/weather/SKILL.md',
        ]);
        expect(reports[0]!.fix!.commands).toEqual(['resonix gateway stop', 'resonix doctor --fix']);
        expect(reports[0]!.fix!.summary).toMatch(/Stop the gateway first/);
      },
    },
    {
      name: 'the service unit still runs the Mac nvm node',
      machine: machine([
        home([install()], {
          services: [
            service(STATE, {
              execStart: ['/Users/alice/.nvm/versions/node/v22.19.0/bin/node', '/Users/alice/.nvm/versions/node/v22.19.0/lib/node_modules/resonix/dist/index.js', 'gateway'],
              env: { HOME: '/home/alice', PATH: '/Users/alice/.nvm/versions/node/v22.19.0/bin:/usr/bin:/bin' },
            }),
          ],
        }),
      ]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.evidence).toHaveLength(3);
        expect(reports[0]!.evidence![2]).toBe('resonix-gateway.service: Environment PATH = /Users/alice/.nvm/versions/node/v22.19.0/bin');
        expect(reports[0]!.fix!.commands[0]).toBe('resonix gateway install --force');
      },
    },
    {
      name: 'a system unit with the old HOME is edited by hand',
      phase: 'image',
      machine: machine(
        [home([install()], { services: [service(STATE, { kind: 'systemd-system', name: 'resonix-gateway.service', env: { HOME: '/home/olduser' }, workingDirectory: '/home/olduser' })] })],
        { mode: 'image', root: '/tmp/rootfs' },
      ),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe('sudo systemctl edit --full resonix-gateway.service'),
    },
    {
      name: 'a skills symlink in the workspace points into the old home',
      machine: machine([
        home([install(STATE, [...HEALTHY_FILES, ['workspace/skills', 0o777, undefined, { type: 'symlink', linkTarget: '/Users/alice/Dropbox/skills' }]])]),
      ]),
      expect: (reports) => {
        expect(reports[0]!.evidence).toEqual([`${STATE}/workspace/skills = /Users/alice/Dropbox/skills`]);
        expect(reports[0]!.fix!.commands).toEqual([`ln -sfn /home/alice/Dropbox/skills ${STATE}/workspace/skills`]);
      },
    },
    {
      // reference §12: a home moved to /srv/alice names the old prefix in the config, sessions.json and the unit
      name: 'a moved home (any prefix, recognised by the scan) is one finding with one ordered plan',
      machine: machine([
        home(
          [
            install(STATE, HEALTHY_FILES, {
              config: config({ paths: [{ key: 'agents.defaults.workspace', value: '/srv/alice/work/agent-main' }] }),
              sessionRefs: [{ file: 'agents/main/sessions/sessions.json', sessionFiles: ['/srv/alice/.resonix/agents/main/sessions/a1.jsonl'], skillPaths: [], missingTranscripts: [] }],
            }),
          ],
          {
            oldHomes: [{ prefix: '/srv/alice', how: ['tail', 'unit-home'], arrived: [] }],
            services: [service(STATE, { execStart: ['/srv/alice/.local/node22/bin/node', '/srv/alice/.npm-global/lib/node_modules/resonix/dist/index.js', 'gateway'], env: { HOME: '/home/alice' } })],
          },
        ),
      ]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toMatch(/^The state in \/home\/alice still names the old home \/srv\/alice \(/);
        expect(reports[0]!.fix!.commands).toEqual([
          'resonix gateway stop',
          "resonix config set agents.defaults.workspace '~/work/agent-main'",
          'resonix doctor --fix',
          'resonix gateway install --force',
          'resonix doctor',
        ]);
        expect(reports[0]!.evidence).toEqual([
          'agents.defaults.workspace = /srv/alice/work/agent-main',
          'agents/main/sessions/sessions.json: sessionFile = /srv/alice/.resonix/agents/main/sessions/a1.jsonl',
          'resonix-gateway.service: ExecStart = /srv/alice/.local/node22/bin/node',
          'resonix-gateway.service: ExecStart = /srv/alice/.npm-global/lib/node_modules/resonix/dist/index.js',
        ]);
      },
    },
    {
      name: "with a baseline, its home is an old home whatever its path (/data/users/alice)",
      phase: 'verify',
      baseline: machine([home([install('/data/users/alice/.resonix')], { path: '/data/users/alice', resolution: resolution('/data/users/alice') })]),
      machine: withConfig([{ key: 'agents.list[1].workspace', value: '/data/users/alice/research' }]),
      expect: (reports) => expect(reports[0]!.fix!.commands[0]).toBe("resonix config set 'agents.list[1].workspace' '~/research'"),
    },
  ],
  passes: [
    { name: 'a healthy install', machine: machine() },
    {
      name: 'a prefix the scan did not recognise as an old home (and no home pattern) is not judged',
      machine: withConfig([{ key: 'agents.list[1].workspace', value: '/srv/alice/work/agent-main' }]),
    },
    {
      name: 'paths under this home, with ~, or in places it cannot judge',
      machine: withConfig(
        [
          { key: 'agents.defaults.workspace', value: '~/.resonix/workspace' },
          { key: 'agents.list[1].workspace', value: '/home/alice/Projects/work-agent' },
          { key: 'gateway.tls.certPath', value: '/etc/resonix/tls/cert.pem' },
          { key: 'session.store', value: '~/.resonix/agents/{agentId}/sessions/sessions.json' },
          { key: 'logging.file', value: '~/.resonix/logs/gateway.log' },
          { key: 'plugins.installs.x.installPath', value: `${STATE}/workspace/AGENTS.md` },
        ],
        { workspaces: [workspace('work', '/home/alice/Projects/work-agent')] },
      ),
    },
    {
      name: 'a macOS home with its own /Users paths, /Users/Shared and Homebrew on Linux',
      machine: machine([
        home([install('/Users/alice/.resonix', HEALTHY_FILES, { config: config({ paths: [{ key: 'agents.list[0].workspace', value: '/Users/Shared/agents' }, { key: 'skills.load.extraDirs[0]', value: '/Users/alice/skills' }] }, '/Users/alice/.resonix/resonix.json') })], {
          path: '/Users/alice',
          resolution: resolution('/Users/alice'),
          services: [service('/Users/alice/.resonix', { execStart: ['/home/linuxbrew/.linuxbrew/bin/node', '/Users/alice/lib/resonix/dist/index.js'], env: { HOME: '/Users/alice' } })],
        }),
      ]),
    },
    {
      name: 'a missing path is not judged when the inventory was cut short',
      machine: withConfig([{ key: 'channels.whatsapp.accounts.work.authDir', value: '~/.resonix/credentials/whatsapp/work' }], {
        inventory: { root: STATE, exists: true, entries: entries(HEALTHY_FILES), truncated: true },
      }),
    },
    {
      name: 'paths of inline secret keys are never shown',
      machine: withConfig([{ key: 'gateway.auth.token', value: '/Users/alice/secret' }], { config: config({ paths: [{ key: 'gateway.auth.token', value: '/Users/alice/secret' }], inlineSecretKeys: ['gateway.auth.token'] }) }),
    },
    {
      name: 'a unit that runs another state dir is not this install',
      machine: machine([home([install()], { services: [service('/srv/other', { execStart: ['/Users/bob/node'] })] })]),
    },
    {
      name: 'relative and in-state symlinks',
      machine: machine([home([install(STATE, [...HEALTHY_FILES, ['workspace/a', 0o777, undefined, { type: 'symlink', linkTarget: '../x' }], ['workspace/b', 0o777, undefined, { type: 'symlink', linkTarget: `${STATE}/x` }]])])]),
    },
  ],
});

describe('foreignHome', () => {
  it('tells another home from this one', () => {
    expect(foreignHome('/Users/alice/x', ['/home/alice'])).toEqual({ home: '/Users/alice', rest: '/x' });
    expect(foreignHome('/home/alice2/x', ['/home/alice'])).toEqual({ home: '/home/alice2', rest: '/x' });
    expect(foreignHome('/home/alice', ['/home/alice/'])).toBeUndefined();
    expect(foreignHome('c:\\users\\Alice\\x\\y', ['C:\\Users\\alice'])).toBeUndefined();
    expect(foreignHome('C:\\Users\\alice\\x\\y', ['/home/alice'])).toEqual({ home: 'C:\\Users\\alice', rest: '/x/y' });
    expect(foreignHome('/opt/resonix', ['/home/alice'])).toBeUndefined();
    // any prefix known to be an old home, the longest first
    expect(foreignHome('/srv/alice/work/x', ['/home/alice'], ['/srv/alice'])).toEqual({ home: '/srv/alice', rest: '/work/x' });
    expect(foreignHome('/mnt/d/u/alice/x', ['/home/alice'], ['/mnt/d', '/mnt/d/u/alice'])).toEqual({ home: '/mnt/d/u/alice', rest: '/x' });
    expect(foreignHome('/srv/alice2/x', ['/home/alice'], ['/srv/alice'])).toBeUndefined();
  });
});
