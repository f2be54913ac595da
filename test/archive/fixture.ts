// A small, realistic file-based Resonix home (reference §2, §11) for the inspect tests, and helpers to
// archive it with the real tools.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { hasTool } from '../helpers/tools.js';

export { hasTool };
export const missing = (...tools: string[]): string[] => tools.filter((tool) => !hasTool(tool));
/** skipIf reason text: vitest shows the test name, so the name says what it needs */
export const needs = (...tools: string[]): string => `(needs ${tools.join(', ')})`;

// Fake secrets: none of them may appear in any output.
export const GATEWAY_TOKEN = '9f3c1a7e5b2d4f608a1c3e5f7b9d2a4c6e8f0a1b3c5d7e9f';
export const API_KEY = 'sk-ant-api03-FAKEfakeFAKEfake0123456789abcdefABCDEF-fakeKEYforTESTS';
export const DOTENV_VALUE = 'sk-or-v1-0fakeOpenRouterKeyForInspectTests9876';
export const FAKE_SECRETS = [GATEWAY_TOKEN, API_KEY, DOTENV_VALUE];

export function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function sh(script: string, cwd: string): void {
  execFileSync('sh', ['-c', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function write(file: string, content: string | Buffer, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

function mkdir(dir: string, mode: number): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, mode);
}

/** A SQLite file header (reference §3) and the file's bytes: `pages` pages of `pageSize`, `actualPages` written. */
export function sqliteFile(pageSize: number, pages: number, actualPages = pages, userVersion = 0): Buffer {
  const file = Buffer.alloc(pageSize * actualPages);
  file.write('SQLite format 3\0', 0, 'latin1');
  file.writeUInt16BE(pageSize === 65536 ? 1 : pageSize, 16);
  file.writeUInt32BE(pages, 28);
  file.writeUInt32BE(userVersion, 60);
  return file;
}

const CONFIG = `// written by the inspect tests (JSON5, as Resonix writes it)
{
  meta: { lastTouchedVersion: "2026.5.28" },
  gateway: { mode: "local", port: 18789, bind: "loopback", auth: { mode: "token", token: "${GATEWAY_TOKEN}" } },
  agents: {
    list: [
      { id: "main", default: true },
      { id: "research", workspace: "/home/alice/work/agent-research", agentDir: "/home/alice/.resonix/agents/research/agent" },
    ],
  },
  channels: { whatsapp: { accounts: { default: {} } } },
}
`;

/**
 * `<dir>/home/alice` with a file-based state dir `.resonix` (0700) and a visible workspace
 * `work/agent-research`. Returns the home.
 */
export function makeHome(dir: string): string {
  const home = path.join(dir, 'home', 'alice');
  const state = path.join(home, '.resonix');
  mkdir(home, 0o750);
  mkdir(state, 0o700);
  write(path.join(state, 'resonix.json'), CONFIG);
  write(path.join(state, 'resonix.json.bak'), CONFIG);
  write(path.join(state, '.env'), `OPENROUTER_API_KEY=${DOTENV_VALUE}\nLOG_LEVEL=info\n`);
  write(path.join(state, 'credentials', 'whatsapp', 'default', 'creds.json'), '{"noiseKey":{"private":"fake","public":"fake"},"registrationId":1}\n');
  write(path.join(state, 'agents', 'main', 'agent', 'auth-profiles.json'), `{"version":1,"profiles":{"anthropic:default":{"type":"api_key","provider":"anthropic","key":"${API_KEY}"}}}\n`);
  fs.chmodSync(path.join(state, 'agents', 'main'), 0o755);
  write(path.join(state, 'agents', 'main', 'sessions', 'sessions.json'), '{"agent:main:main":{"sessionId":"a1","updatedAt":1}}\n');
  write(path.join(state, 'agents', 'main', 'sessions', 'a1.jsonl'), '{"type":"session","id":"a1"}\n{"type":"message"}\n');
  // copied while the gateway was appending: the last line is cut
  write(path.join(state, 'agents', 'main', 'sessions', 'a2.jsonl'), '{"type":"session","id":"a2"}\n{"type":"mess');
  write(path.join(state, 'agents', 'research', 'agent', 'models.json'), '{"providers":{}}\n');
  write(path.join(state, 'state', 'resonix.sqlite'), sqliteFile(4096, 3, 3, 18));
  write(path.join(state, 'state', 'resonix.sqlite-wal'), Buffer.alloc(4096 + 32, 7));
  // torn: the header says 10 pages, 2 arrived
  write(path.join(state, 'memory', 'main.sqlite'), sqliteFile(4096, 10, 2));
  write(path.join(state, 'workspace', 'AGENTS.md'), '# agents\n', 0o644);
  write(path.join(state, 'workspace', 'SOUL.md'), '# soul\n', 0o644);
  fs.symlinkSync('workspace/AGENTS.md', path.join(state, 'agents-link'));
  write(path.join(home, 'notes.txt'), 'hello\n', 0o644);
  write(path.join(home, 'work', 'agent-research', 'AGENTS.md'), '# research\n', 0o644);
  write(path.join(home, 'work', 'agent-research', 'SOUL.md'), '# soul\n', 0o644);
  write(path.join(home, 'work', 'agent-research', 'memory', '2026-05-01.md'), '- note\n', 0o644);
  return home;
}

export interface TreeEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size?: number;
  linkTarget?: string;
}

/** What lstat says of every entry under `root` (relative paths, '' for the root). */
export function walkSource(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const visit = (relative: string): void => {
    const full = relative === '' ? root : path.join(root, relative);
    const stat = fs.lstatSync(full);
    if (stat.isSymbolicLink()) {
      out.push({ path: relative, type: 'symlink', mode: stat.mode & 0o7777, linkTarget: fs.readlinkSync(full) });
    } else if (stat.isDirectory()) {
      out.push({ path: relative, type: 'dir', mode: stat.mode & 0o7777 });
      for (const name of fs.readdirSync(full).sort()) visit(relative === '' ? name : `${relative}/${name}`);
    } else {
      out.push({ path: relative, type: 'file', mode: stat.mode & 0o7777, size: stat.size });
    }
  };
  visit('');
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Every path under `dir` with its size and mtime: to prove that nothing was written. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const visit = (full: string): void => {
    const stat = fs.lstatSync(full);
    out.push(`${path.relative(dir, full)} ${stat.mode.toString(8)} ${stat.isFile() ? stat.size : ''} ${stat.mtimeMs}`);
    if (stat.isDirectory()) for (const name of fs.readdirSync(full).sort()) visit(path.join(full, name));
  };
  visit(dir);
  return out;
}
