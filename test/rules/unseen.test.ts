// Judge only what you can see (issue 11): a tree this process could not list is one finding for its root and
// nothing about its insides; the rules that would judge inside say they were skipped, and why.
import { describe, expect, it } from 'vitest';
import type { Install, Machine, Rule } from '../../src/model.js';
import { rule as configInvalid } from '../../src/rules/state/config-invalid.js';
import { rule as configOnly } from '../../src/rules/copy/config-only.js';
import { rule as hiddenOmitted } from '../../src/rules/copy/hidden-omitted.js';
import { rule as notFound } from '../../src/rules/state/not-found.js';
import { rule as unreadable } from '../../src/rules/perms/unreadable.js';
import { rule as workspaceMissing } from '../../src/rules/copy/workspace-missing.js';
import { rule as wrongOwner } from '../../src/rules/perms/wrong-owner.js';
import { config, home, install, machine } from '../helpers/machine.js';

const STATE = '/home/alice/.resonix';

/** What the scan makes of a root-owned 0700 state dir, scanned as alice (uid 1000): its root entry, unlisted. */
function rootOwnedCopy(): Install {
  const base = install(STATE, []);
  return {
    ...base,
    hasData: false,
    inventory: { root: STATE, exists: true, entries: [{ path: '', type: 'dir', mode: 0o700, uid: 0, gid: 0, size: 4096, mtimeMs: 0, unreadable: 'EACCES' }], unseen: { code: 'EACCES', uid: 1000 } },
    config: config({ parseError: { message: 'cannot read: EACCES' }, gatewayMode: undefined }),
    workspaces: [{ agentId: 'main', path: `${STATE}/workspace`, source: 'default', inventory: { root: `${STATE}/workspace`, exists: false, entries: [], unseen: { code: 'EACCES', uid: 1000 } } }],
  };
}

function run(rule: Rule, target: Machine): { reports: ReturnType<Rule['check']>; skipped?: string } {
  let skipped: string | undefined;
  const reports = rule.check({ phase: 'verify', machine: target, skip: (reason) => (skipped = reason) });
  return { reports, ...(skipped ? { skipped } : {}) };
}

describe('a state dir this process cannot list', () => {
  const target = machine([home([rootOwnedCopy()], { workspaceDirs: [{ path: '/home/alice/work/agent-main', markers: ['AGENTS.md'] }] })], { users: [{ name: 'root', uid: 0, gid: 0, home: '/root' }, { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }] });

  it('perms/wrong-owner: one finding for its root, with the chown by name, saying nothing inside was checked', () => {
    const { reports } = run(wrongOwner, target);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe(`${STATE} is owned by root, not alice (uid 1000) who runs the gateway, and cannot be read as uid 1000: nothing inside it was checked.`);
    expect(reports[0]!.fix!.commands).toEqual([`sudo chown -R alice:alice ${STATE}`]);
  });

  it('perms/unreadable says nothing more about it (wrong-owner has the fix)', () => {
    expect(run(unreadable, target).reports).toEqual([]);
  });

  for (const rule of [configOnly, configInvalid, notFound, hiddenOmitted, workspaceMissing]) {
    it(`${rule.meta.id}: no judgement of its insides, and skipped with the reason`, () => {
      const { reports, skipped } = run(rule, target);
      expect(reports).toEqual([]);
      expect(skipped).toMatch(/could not be read as uid 1000 \(EACCES\).*run it with sudo to see more/);
    });
  }

  it('perms/unreadable still reports a tree the gateway user owns but has locked itself out of (chmod, not chown)', () => {
    const locked = rootOwnedCopy();
    locked.inventory.entries[0] = { ...locked.inventory.entries[0]!, uid: 1000, gid: 1000, mode: 0o000 };
    const reports = run(unreadable, machine([home([locked])])).reports;
    expect(reports).toHaveLength(1);
    expect(reports[0]!.fix!.commands).toEqual([`chmod 700 ${STATE}`]);
  });
});
