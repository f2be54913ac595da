import { expect } from 'vitest';
import { rule } from '../../../src/rules/copy/incomplete.js';
import type { FileEntry, Install, Workspace } from '../../../src/model.js';
import { entries, HEALTHY_FILES, home, install, machine, resolution } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const SNAPSHOT = Date.parse('2026-11-24T00:00:00.000Z');
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

/** The old machine: a Mac, home /Users/alice. */
function oldMachine(installs: Install[]) {
  return machine([home(installs, { path: '/Users/alice', resolution: resolution('/Users/alice') })], { platform: 'darwin' });
}

function workspace(path: string, files: string[], agentId = 'research'): Workspace {
  return { agentId, path, source: 'config', inventory: { root: path, exists: true, entries: entries(files) } };
}

const FULL = [...HEALTHY_FILES, 'cron/jobs.json', ['cache/ui/app.js', 0o600], ['logs/gateway.log', 0o600], ['agents/main/agent/resonix-agent.sqlite-wal', 0o600]] as never[];
const baseline = oldMachine([install('/Users/alice/.resonix', FULL, { workspaces: [workspace('/Users/alice/work/research', ['AGENTS.md', 'notes/a.md'])] })]);
const here = (specs: never[], extra: Partial<Install> = {}) =>
  machine([home([install('/home/alice/.resonix', specs, { workspaces: [workspace('/home/alice/work/research', ['AGENTS.md', 'notes/a.md'])], ...extra })])]);

ruleCases(rule, {
  fires: [
    {
      name: 'credentials and the WhatsApp login left behind: one finding per area, mapped from /Users/alice to /home/alice',
      phase: 'verify',
      baseline,
      machine: here(['resonix.json', 'agents/main/agent/auth-profiles.json', 'agents/main/sessions/sessions.json', 'agents/main/sessions/a1.jsonl', 'workspace/', ['workspace/AGENTS.md', 0o644], 'cron/jobs.json'] as never[]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toMatch(/^channels: 1 of the baseline's 1 file did not arrive intact \(1 missing\) in \/home\/alice\/\.resonix\.$/);
        expect(reports[0]!.evidence).toEqual(['/home/alice/.resonix/credentials/whatsapp/default/creds.json: missing']);
        expect(reports[0]!.path).toBe('/home/alice/.resonix/credentials');
        expect(reports[0]!.fix!.commands).toEqual(['rsync -a <old-host>:/Users/alice/.resonix/credentials/ /home/alice/.resonix/credentials/']);
      },
    },
    {
      name: 'a file that differs in size, and one that differs by hash only',
      phase: 'verify',
      baseline: oldMachine([
        install('/Users/alice/.resonix', ['resonix.json', ['agents/main/agent/auth-profiles.json', 0o600, undefined, { size: 900, sha256: HASH_A } as Partial<FileEntry>], ['identity/device.json', 0o600, undefined, { size: 300, sha256: HASH_A } as Partial<FileEntry>]]),
      ]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', ['agents/main/agent/auth-profiles.json', 0o600, undefined, { size: 100 }], ['identity/device.json', 0o600, undefined, { size: 300, sha256: HASH_B } as Partial<FileEntry>]])])]),
      expect: (reports) => {
        const areas = reports.map((report) => report.message.split(':')[0]).sort();
        expect(areas).toEqual(['agents/auth', 'credentials']);
        expect(reports.flatMap((report) => report.evidence!)).toEqual(
          expect.arrayContaining([
            '/home/alice/.resonix/agents/main/agent/auth-profiles.json: smaller: 100 bytes, 900 in the baseline',
            '/home/alice/.resonix/identity/device.json: different content (sha256)',
          ]),
        );
      },
    },
    {
      name: 'a workspace outside the state dir arrived without a file',
      phase: 'verify',
      baseline,
      machine: machine([home([install('/home/alice/.resonix', FULL, { workspaces: [workspace('/home/alice/work/research', ['AGENTS.md'])] })])]),
      expect: (reports) => {
        expect(reports).toHaveLength(1);
        expect(reports[0]!.message).toMatch(/^workspace: 1 of the baseline's 3 files/);
        expect(reports[0]!.evidence).toEqual(['/home/alice/work/research/notes/a.md: missing']);
      },
    },
    {
      name: 'a profile dir that did not arrive at all',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json']), install('/Users/alice/.resonix-work', ['resonix.json', 'credentials/oauth.json'], { active: false })]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json'])])]),
      expect: (reports) => {
        expect(reports.map((report) => report.message)).toEqual(
          expect.arrayContaining([expect.stringContaining('/Users/alice/.resonix-work did not arrive at /home/alice/.resonix-work')]),
        );
      },
    },
    {
      name: 'inspect: a backup without the sessions; the fix makes the backup again',
      phase: 'inspect',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', 'agents/main/sessions/a1.jsonl'])]),
      machine: machine([home([install('/Users/alice/.resonix', ['resonix.json'])], { path: '/Users/alice' })], { mode: 'image', root: '/tmp/backup.tgz' }),
      expect: (reports) => {
        expect(reports[0]!.message).toMatch(/^sessions:/);
        expect(reports[0]!.fix!.commands[1]).toBe('tar -C /Users/alice -czf resonix-backup.tgz .resonix   # make the backup again, then encrypt it');
      },
    },
    {
      name: 'a transcript shorter here although written after the snapshot (append-only)',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 5000 }]])]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 10, mtimeMs: SNAPSHOT + 3_600_000 }]])])]),
    },
    {
      name: 'an unimportant file missing is a warning',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', 'cron/jobs.json'])]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json'])])]),
      expect: (reports) => expect(reports[0]!.severity).toBe('warning'),
    },
  ],
  passes: [
    { name: 'everything arrived (cache, logs and -wal files do not count)', phase: 'verify', baseline, machine: here(HEALTHY_FILES.concat(['cron/jobs.json']) as never[]) },
    {
      name: 'same hash on both sides, or a hash on one side only',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', ['resonix.json', ['identity/device.json', 0o600, undefined, { sha256: HASH_A } as Partial<FileEntry>], ['identity/device-auth.json', 0o600, undefined, { sha256: HASH_A } as Partial<FileEntry>]])]),
      machine: machine([home([install('/home/alice/.resonix', ['resonix.json', ['identity/device.json', 0o600, undefined, { sha256: HASH_A } as Partial<FileEntry>], 'identity/device-auth.json'])])]),
    },
    {
      name: 'files the running gateway rewrote after the snapshot (config, a grown transcript)',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', [['resonix.json', 0o600, undefined, { size: 900 }], ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 100 }]])]),
      machine: machine([home([install('/home/alice/.resonix', [['resonix.json', 0o600, undefined, { size: 880, mtimeMs: SNAPSHOT + 60_000 }], ['agents/main/sessions/a1.jsonl', 0o600, undefined, { size: 4000, mtimeMs: SNAPSHOT + 60_000 }]])])]),
    },
    {
      name: 'a renamed profile dir holds everything',
      phase: 'verify',
      baseline: oldMachine([install('/Users/alice/.resonix', HEALTHY_FILES), install('/Users/alice/.resonix-work', ['resonix.json', 'credentials/oauth.json', 'agents/w/sessions/x.jsonl'], { active: false })]),
      machine: machine([home([install('/home/alice/.resonix', HEALTHY_FILES), install('/home/alice/.resonix-job', ['resonix.json', 'credentials/oauth.json', 'agents/w/sessions/x.jsonl'], { active: false })])]),
    },
  ],
});
