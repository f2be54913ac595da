// What a workspace's git repository holds that it should not: credential files and secret-looking
// values in tracked or staged content. Runs the real `git`, read-only, with every repository-config hook
// that could run a program, page, fetch or change the output format turned off: a migrated workspace is
// someone else's repository until proven otherwise. git runs as the repository's owner (runAsOwner),
// never as root for someone else's repository, and only after the files it opens first were seen to be
// regular files (a FIFO .git/index would stall it). No matched value ever leaves this file.
import fs from 'node:fs';
import path from 'node:path';
import type { WorkspaceGit } from '../model.js';
import { FIXED_PATH, runAsOwner, whichOnPath } from './run-as-owner.js';
import { findNamedSecrets, maskSecrets, SECRET_PREFILTER_ERE } from '../knowledge/mask.js';

export const MAX_SECRET_HITS = 50;
export const GIT_TIMEOUT_MS = 10_000;
export const GIT_MAX_BUFFER = 16 * 1024 * 1024;

export interface GitScanOptions {
  /** the git binary (default: `git` on the tool's PATH, else on /usr/local/bin:/usr/bin:/bin) */
  git?: string;
  timeoutMs?: number;
}

/** Files under .git that git opens before it reads anything else: each must be a regular file if present. */
const GIT_FILES_OPENED = ['HEAD', 'config', 'index', 'commondir', 'packed-refs', 'shallow', 'info/attributes', 'info/grafts', 'objects/info/alternates'];
const INDEX_SIGNATURE = 0x44495243; // "DIRC"

const FILE_KINDS: [(stat: fs.Stats) => boolean, string][] = [
  [(stat) => stat.isFIFO(), 'a FIFO'],
  [(stat) => stat.isSymbolicLink(), 'a symlink'],
  [(stat) => stat.isDirectory(), 'a directory'],
  [(stat) => stat.isSocket(), 'a socket'],
  [(stat) => stat.isCharacterDevice() || stat.isBlockDevice(), 'a device'],
];

/**
 * Why git must not be started on `gitDir`, or undefined: a file it opens first that is not a regular
 * file (git would block on a FIFO), or an index without git's signature and a known version.
 */
function unsafeGitDir(gitDir: string): string | undefined {
  let dirStat: fs.Stats;
  try {
    dirStat = fs.lstatSync(gitDir);
  } catch (error) {
    return `${gitDir}: ${(error as NodeJS.ErrnoException).code ?? 'cannot stat'}`;
  }
  // a gitfile (`gitdir: …`, a worktree or submodule) is for git to judge
  if (!dirStat.isDirectory()) return dirStat.isFile() ? undefined : `.git is not a directory or a gitfile`;
  for (const name of GIT_FILES_OPENED) {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(path.join(gitDir, name));
    } catch {
      continue;
    }
    if (stat.isFile()) continue;
    const kind = FILE_KINDS.find(([test]) => test(stat))?.[1] ?? 'not a regular file';
    return `.git/${name} is ${kind}, not a regular file: git was not run on it`;
  }
  const index = path.join(gitDir, 'index');
  let fd: number | undefined;
  try {
    fd = fs.openSync(index, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    if (!fs.fstatSync(fd).isFile()) return '.git/index changed while it was checked';
    const head = Buffer.alloc(12);
    const read = fs.readSync(fd, head, 0, 12, 0);
    const version = read === 12 ? head.readUInt32BE(4) : 0;
    if (read < 12 || head.readUInt32BE(0) !== INDEX_SIGNATURE || version < 2 || version > 4) return '.git/index is corrupt (no git index signature): the repository was not checked';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // no index yet (a fresh repository) is git's to report; an unreadable one is ours
    if (code !== 'ENOENT') return `.git/index: ${code ?? 'cannot read'}`;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return undefined;
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
  const unsafe = unsafeGitDir(gitDir);
  if (unsafe !== undefined) return failed(unsafe);
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
  return { secretFiles: [], secretHits: [], error, unchecked: true };
}

type RunResult = { stdout: Buffer; truncated: boolean } | { error: string };

function gitRunner(workTree: string, gitDir: string, options: GitScanOptions) {
  // A fresh environment: nothing inherited (GIT_DIR, GIT_INDEX_FILE, GIT_EXTERNAL_DIFF, HOME, PATH, …) can steer git.
  const env: Record<string, string> = {
    PATH: FIXED_PATH,
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
  const named = options.git ?? 'git';
  const git = path.isAbsolute(named) ? named : whichOnPath(named, process.env.PATH ?? FIXED_PATH) ?? whichOnPath(named, FIXED_PATH);
  const timeout = options.timeoutMs ?? GIT_TIMEOUT_MS;

  return (args: string[], okCodes: number[]): RunResult => {
    const what = `git ${args[0]}`;
    if (git === undefined || !fs.existsSync(git)) return { error: `${what}: git is not installed (not found on PATH)` };
    if (!fs.existsSync(workTree)) return { error: `${what}: ${workTree} does not exist` };
    // as the user who owns the repository (and the git binary is root's or theirs), or not at all
    const result = runAsOwner({
      binary: git,
      args: ['--no-pager', '--no-replace-objects', ...config, ...args],
      scanMode: 'live',
      cwd: workTree,
      inputs: [gitDir],
      env,
      timeoutMs: timeout,
      maxOutputBytes: GIT_MAX_BUFFER,
    });
    if (!result.ran) return { error: `${what} was not run: ${result.reason}` };
    if (result.timedOut) return { error: `${what} timed out after ${timeout / 1000} s` };
    if (result.truncated) return { stdout: result.stdout, truncated: true };
    if (result.errorCode !== undefined) return { error: `${what} failed: ${result.errorCode}` };
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
