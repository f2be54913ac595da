import { expect } from 'vitest';
import type { Workspace } from '../../../src/model.js';
import { rule } from '../../../src/rules/copy/workspace-missing.js';
import { config, home, install, machine } from '../../helpers/machine.js';
import { ruleCases } from '../../helpers/rule-cases.js';

const workspace = (exists: boolean, files = true): Workspace => ({
  agentId: 'research',
  path: '/home/alice/work/agent-research',
  source: 'config',
  inventory: {
    root: '/home/alice/work/agent-research',
    exists,
    entries: exists ? [{ path: '', type: 'dir', mode: 0o755, uid: 1000, gid: 1000, size: 1, mtimeMs: 0 }, ...(files ? [{ path: 'AGENTS.md', type: 'file' as const, mode: 0o644, uid: 1000, gid: 1000, size: 1, mtimeMs: 0 }] : [])] : [],
  },
});

ruleCases(rule, {
  fires: [
    {
      name: 'a workspace outside ~/.resonix was not copied',
      machine: machine([home([install(undefined, undefined, { workspaces: [workspace(false)] })])]),
      expect: (reports) => expect(reports[0]!.message).toContain('does not exist'),
    },
    { name: 'an empty workspace dir', machine: machine([home([install(undefined, undefined, { workspaces: [workspace(true, false)] })])]) },
  ],
  passes: [
    { name: 'the workspace arrived', machine: machine([home([install(undefined, undefined, { workspaces: [workspace(true)] })])]) },
    {
      name: 'the scan stopped at its entry limit before the workspace files (--max-entries)',
      machine: machine([home([install(undefined, undefined, { workspaces: [{ ...workspace(true, false), inventory: { ...workspace(true, false).inventory, truncated: true } }] })])]),
    },
    { name: 'a thin client has no workspace here', machine: machine([home([install(undefined, undefined, { config: config({ gatewayMode: 'remote' }), workspaces: [workspace(false)] })])]) },
  ],
});
