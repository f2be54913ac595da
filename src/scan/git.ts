// What a workspace's git repository holds that it should not: credential files and secret-looking
// values in tracked or staged content. Runs the real `git`, read-only, with every repository-config hook
// that could run a program, page, fetch or change the output format turned off: a migrated workspace is
// someone else's repository until proven otherwise. No matched value ever leaves this file.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkspaceGit } from '../model.js';
import { findNamedSecrets, maskSecrets, SECRET_PREFILTER_ERE } from './secrets.js';

export const MAX_SECRET_HITS = 50;
export const GIT_TIMEOUT_MS = 10_000;
export const GIT_MAX_BUFFER = 16 * 1024 * 1024;

export interface GitScanOptions {
  /** the git binary (default: `git` on PATH) */
  git?: string;
  timeoutMs?: number;
}

/** Kinds of findNamedSecrets that make a `.pem` file a private key. */
const PRIVATE_KEY_KIND = 'private key (PEM)';

const CREDENTIAL_NAMES = new Set([
  '.env',
  'creds.json',
  'auth-profiles.json',
  'auth-state.json',
  'auth.json',
  'oauth.json',
  'device.json',
  'device-auth.json',
  'paired.json',
  'secrets.json',
  'id_rsa',
  'id_dsa',
  'id_ecdsa',
  'id_ed25519',
  'resonix.json',
]);
const ENV_TEMPLATES = new Set(['.env.example', '.env.sample', '.env.template', '.env.dist']);

/** A file whose name says it is a credential, wherever it sits in the repository. */
export function isCredentialFileName(filePath: string): boolean {
  const name = path.posix.basename(filePath);
  if (CREDENTIAL_NAMES.has(name)) return true;
  if (name.startsWith('.env.')) return !ENV_TEMPLATES.has(name);
  // config backups carry the same secrets as the config
  if (/^resonix\.json(\.bak(\.\d+)?|\.last-good|\.clobbered\..+)$/.test(name)) return true;
  // key.pem, privkey.pem, server-key.pem, *.key; a certificate (cert.pem, chain.pem) is public
  return /\.key$/.test(name) || /(key|priv)[^/]*\.pem$/i.test(name);
}

/**
 * Credential files and secret-looking values in the index (tracked and staged) of the repository at
 * `hostDir`; undefined when `hostDir/.git` does not exist.
 */
export function scanWorkspaceGit(hostDir: string, options: GitScanOptions = {}): WorkspaceGit | undefined {
  const workTree = path.resolve(hostDir);
  const gitDir = path.join(workTree, '.git');
  try {
    fs.lstatSync(gitDir);
  } catch {
    return undefined;
  }
  const run = gitRunner(workTree, gitDir, options);

  const listed = run(['ls-files', '--stage', '-z'], [0]);
  if ('error' in listed) return failed(listed.error);
  const files = parseLsFiles(listed.stdout);

  const grep = run(
    ['grep', '--cached', '-I', '-n', '-z', '-E', '--full-name', '--no-color', '--no-textconv', ...SECRET_PREFILTER_ERE.flatMap((ere) => ['-e', ere]), '--'],
    [0, 1],
  );
  if ('error' in grep) return failed(grep.error);
  const secretHits = parseGrep(grep.stdout, files);

  const privateKeyFiles = new Set(secretHits.filter((hit) => hit.kind === PRIVATE_KEY_KIND).map((hit) => hit.path));
  const secretFiles = [...files.keys()].filter((file) => isCredentialFileName(file) || (privateKeyFiles.has(file) && /\.(pem|key)$/.test(file))).sort();
  const cut = [...(listed.truncated ? ['ls-files'] : []), ...(grep.truncated ? ['grep'] : [])];
  // not a failure: what was read is reported, and the note says it is incomplete
  return { secretFiles, secretHits, ...(cut.length > 0 ? { error: `git ${cut.join(' and ')} output passed ${GIT_MAX_BUFFER} bytes: the rest was not read` } : {}) };
}

function failed(error: string): WorkspaceGit {
  return { secretFiles: [], secretHits: [], error };
}

type RunResult = { stdout: Buffer; truncated: boolean } | { error: string };

function gitRunner(workTree: string, gitDir: string, options: GitScanOptions) {
  // A fresh environment: nothing inherited (GIT_DIR, GIT_INDEX_FILE, GIT_EXTERNAL_DIFF, HOME, …) can steer git.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LC_ALL: 'C',
    GIT_DIR: gitDir,
    GIT_WORK_TREE: workTree,
    GIT_CEILING_DIRECTORIES: path.dirname(workTree),
    GIT_OPTIONAL_LOCKS: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_NO_LAZY_FETCH: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
  };
  // Command-line config outranks the repository's own .git/config.
  const config = [
    'safe.directory=*',
    'core.fsmonitor=false',
    'core.hooksPath=/dev/null',
    'core.attributesFile=/dev/null',
    'core.pager=cat',
    'core.untrackedCache=false',
    'core.quotePath=false',
    'protocol.allow=never',
    'submodule.recurse=false',
    'grep.column=false',
    'grep.lineNumber=true',
    'grep.fullName=true',
    'grep.threads=1',
    'color.ui=never',
  ].flatMap((item) => ['-c', item]);
  const git = options.git ?? 'git';
  const timeout = options.timeoutMs ?? GIT_TIMEOUT_MS;

  return (args: string[], okCodes: number[]): RunResult => {
    const result = spawnSync(git, ['--no-pager', '--no-replace-objects', ...config, ...args], {
      cwd: workTree,
      env,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout,
      killSignal: 'SIGKILL',
      maxBuffer: GIT_MAX_BUFFER,
      windowsHide: true,
    });
    const what = `git ${args[0]}`;
    const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' && !fs.existsSync(workTree)) return { error: `${what}: ${workTree} does not exist` };
    if (code === 'ENOENT') return { error: `${what}: git is not installed (not found on PATH)` };
    if (code === 'ETIMEDOUT' || (result.signal === 'SIGKILL' && code !== 'ENOBUFS')) return { error: `${what} timed out after ${timeout / 1000} s` };
    if (code === 'ENOBUFS' && result.stdout) return { stdout: result.stdout, truncated: true };
    if (result.error) return { error: `${what} failed: ${code ?? 'spawn error'}` };
    if (result.status === null || !okCodes.includes(result.status)) {
      return { error: `${what} exited with ${result.status ?? result.signal}: ${oneLine(result.stderr)}` };
    }
    return { stdout: result.stdout, truncated: false };
  };
}

/** The first meaningful stderr line, masked and short: git may quote config values in its errors. */
function oneLine(stderr: Buffer | null): string {
  const line = (stderr?.toString('utf8') ?? '')
    .split('\n')
    .map((text) => text.trim())
    .find((text) => text !== '');
  if (!line) return 'no message';
  const clean = maskSecrets(line.replace(/[\u0000-\u001f\u007f]/g, ' '));
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean;
}

/** `<mode> <object> <stage>\t<path>\0` → regular files (mode 100644/100755) by path, gitlinks and symlinks left out. */
function parseLsFiles(stdout: Buffer): Map<string, string> {
  const files = new Map<string, string>();
  for (const record of stdout.toString('utf8').split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const mode = record.slice(0, record.indexOf(' '));
    const file = record.slice(tab + 1);
    if (mode === '100644' || mode === '100755') files.set(file, mode);
  }
  return files;
}

/**
 * `git grep -n -z` records are `<path>\0<line>\0<text>\n` (a path may hold a newline, text never does).
 * Each line is confirmed by findNamedSecrets; only where and what kind is kept.
 */
function parseGrep(stdout: Buffer, files: Map<string, string>): WorkspaceGit['secretHits'] {
  const hits: WorkspaceGit['secretHits'] = [];
  const seen = new Set<string>();
  let at = 0;
  while (at < stdout.length && hits.length < MAX_SECRET_HITS) {
    const pathEnd = stdout.indexOf(0, at);
    if (pathEnd < 0) break;
    const lineEnd = stdout.indexOf(0, pathEnd + 1);
    if (lineEnd < 0) break;
    let textEnd = stdout.indexOf(0x0a, lineEnd + 1);
    const complete = textEnd >= 0;
    if (!complete) textEnd = stdout.length;
    const file = stdout.toString('utf8', at, pathEnd);
    const line = Number(stdout.toString('latin1', pathEnd + 1, lineEnd));
    at = textEnd + 1;
    // an unterminated last record was cut by maxBuffer: its text is partial, but what it shows is real
    if (!Number.isInteger(line) || line <= 0 || !files.has(file)) continue;
    for (const { kind } of findNamedSecrets(stdout.toString('utf8', lineEnd + 1, textEnd))) {
      const key = `${file}\0${line}\0${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hits.push({ path: file, line, kind });
      if (hits.length >= MAX_SECRET_HITS) break;
    }
    if (!complete) break;
  }
  return hits;
}
