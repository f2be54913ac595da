import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCredentialFileName, MAX_SECRET_HITS, scanWorkspaceGit } from '../../src/scan/git.js';
import { findNamedSecrets, SECRET_PREFILTER_ERE } from '../../src/knowledge/mask.js';

// Fake values shaped like the real thing. None of them may come back in anything the scan returns.
const ANTHROPIC_BODY = 'Xq7vB2mN9kL4pR8sT1wY6zA3cD5fG0hJaBcDeFgHiJkLmNoPqRsTuVw';
const ANTHROPIC = `sk-ant-api03-${ANTHROPIC_BODY}`;
const TELEGRAM_BODY = 'AAHfA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p';
const TELEGRAM = `123456789:${TELEGRAM_BODY}`;
const SLACK = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const OPENAI_UNTRACKED = 'sk-proj-4fJ8kLq2Mn7Pr1St5Vw9Xy3Zb6Cd0Ef';
const GITHUB_UNTRACKED = 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj';
const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n-----END PRIVATE KEY-----\n`;
const PLANTED = [ANTHROPIC, ANTHROPIC_BODY, TELEGRAM, TELEGRAM_BODY, SLACK, SLACK.slice(5), OPENAI_UNTRACKED, GITHUB_UNTRACKED, PEM_BODY];

const GIT_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };

function git(dir: string, ...args: string[]): void {
  execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args],
    { cwd: dir, env: GIT_ENV, stdio: 'pipe' },
  );
}

function write(dir: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), text);
}

function expectNoPlantedValue(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of PLANTED) expect(text).not.toContain(secret);
}

let tmp: string;
const repo = (name: string) => path.join(tmp, name);

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-git-'));
  // git runs as the repository's owner, or as nobody for root's repositories below the sticky /tmp:
  // like a real home, the dir must be reachable by them
  fs.chmodSync(tmp, 0o755);

  // a workspace that committed its .env and a key, and staged (not committed) a channel login
  const leaky = repo('leaky');
  fs.mkdirSync(leaky);
  git(leaky, 'init', '-q');
  write(leaky, 'AGENTS.md', '# Agents\nBe helpful.\n');
  write(leaky, '.env', `# keys\nANTHROPIC_API_KEY=${ANTHROPIC}\n`);
  write(leaky, '.env.example', 'ANTHROPIC_API_KEY=\n');
  write(leaky, 'certs/cert.pem', '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n');
  write(leaky, 'certs/server.pem', PEM);
  write(leaky, 'memory/2026-11-01.md', 'Installed sk-learn-models-2024 and read commit 3f9a1c0b7e2d4f6a8b1c3e5d7f9a0b2c4d6e8f0a.\n');
  git(leaky, 'add', '-A');
  git(leaky, 'commit', '-q', '-m', 'workspace');
  write(leaky, 'credentials/creds.json', `{"slack":"${SLACK}"}\n`);
  git(leaky, 'add', 'credentials/creds.json');

  // a workspace whose notes hold a bot token; its .env is untracked (ignored or not) and must not count
  const notes = repo('notes');
  fs.mkdirSync(notes);
  git(notes, 'init', '-q');
  write(notes, 'MEMORY.md', `# Memory\n\nThe user's bot:\n\ntoken ${TELEGRAM} (do not share)\n`);
  git(notes, 'add', 'MEMORY.md');
  git(notes, 'commit', '-q', '-m', 'memory');
  write(notes, '.env', `OPENAI_API_KEY=${OPENAI_UNTRACKED}\n`);
  write(notes, 'scratch.md', `gh: ${GITHUB_UNTRACKED}\n`);

  const clean = repo('clean');
  fs.mkdirSync(clean);
  git(clean, 'init', '-q');
  write(clean, 'AGENTS.md', '# Agents\n');
  write(clean, 'SOUL.md', 'Kind and brief.\n');
  write(clean, '.gitignore', '.env\n');
  write(clean, '.env', `ANTHROPIC_API_KEY=${ANTHROPIC}\n`);
  git(clean, 'add', '-A');
  git(clean, 'commit', '-q', '-m', 'clean');

  fs.mkdirSync(repo('plain'));
  write(repo('plain'), 'AGENTS.md', '# not a repo\n');
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('scanWorkspaceGit', () => {
  it('is undefined for a dir without .git', () => {
    expect(scanWorkspaceGit(repo('plain'))).toBeUndefined();
    expect(scanWorkspaceGit(repo('does-not-exist'))).toBeUndefined();
  });

  it('reports a tracked .env, a staged creds.json, a private key and the values in them', () => {
    const result = scanWorkspaceGit(repo('leaky'))!;
    expect(result.error).toBeUndefined();
    expect(result.secretFiles).toEqual(['.env', 'certs/server.pem', 'credentials/creds.json']);
    expect(result.secretHits).toEqual(
      expect.arrayContaining([
        { path: '.env', line: 2, kind: 'Anthropic API key' },
        { path: 'certs/server.pem', line: 1, kind: 'private key (PEM)' },
        { path: 'credentials/creds.json', line: 1, kind: 'Slack token' },
      ]),
    );
    expect(result.secretHits).toHaveLength(3);
    expectNoPlantedValue(result);
  });

  it('finds a Telegram bot token in MEMORY.md and ignores untracked files', () => {
    const result = scanWorkspaceGit(repo('notes'))!;
    expect(result).toEqual({ secretFiles: [], secretHits: [{ path: 'MEMORY.md', line: 5, kind: 'Telegram bot token' }] });
    expectNoPlantedValue(result);
  });

  it('reports nothing for a clean repository (an ignored .env does not count)', () => {
    expect(scanWorkspaceGit(repo('clean'))).toEqual({ secretFiles: [], secretHits: [] });
  });

  it('does not write to the repository', () => {
    const index = path.join(repo('leaky'), '.git', 'index');
    const before = fs.statSync(index);
    const bytes = fs.readFileSync(index);
    scanWorkspaceGit(repo('leaky'));
    expect(fs.readFileSync(index).equals(bytes)).toBe(true);
    expect(fs.statSync(index).mtimeMs).toBe(before.mtimeMs);
    expect(fs.existsSync(path.join(repo('leaky'), '.git', 'index.lock'))).toBe(false);
  });

  const isRoot = process.getuid?.() === 0;
  it.skipIf(!isRoot)('scans a repository owned by another uid (needs root to chown; skipped when not root)', () => {
    const other = repo('other-owner');
    fs.cpSync(repo('notes'), other, { recursive: true });
    execFileSync('chown', ['-R', '1001:1001', other]);
    expect(fs.statSync(path.join(other, '.git')).uid).toBe(1001);
    const result = scanWorkspaceGit(other)!;
    expect(result.error).toBeUndefined();
    expect(result.secretHits).toEqual([{ path: 'MEMORY.md', line: 5, kind: 'Telegram bot token' }]);
  });

  it('runs nothing a hostile repository configures and keeps its output format', () => {
    const hostile = repo('hostile');
    const marks = path.join(tmp, 'marks');
    fs.mkdirSync(marks);
    fs.cpSync(repo('notes'), hostile, { recursive: true });
    const touch = (name: string) => `touch ${marks}/${name}`;
    fs.appendFileSync(
      path.join(hostile, '.git', 'config'),
      [
        '[core]',
        `\tfsmonitor = "${touch('fsmonitor')}"`,
        `\tpager = "${touch('pager')}; cat"`,
        `\thooksPath = ${path.join(hostile, 'evil-hooks')}`,
        `\tattributesFile = ${path.join(hostile, 'evil-attributes')}`,
        '[grep]',
        '\tcolumn = true',
        '\tlineNumber = false',
        '\tfullName = false',
        '\tpatternType = fixed',
        '[submodule]',
        '\trecurse = true',
        '[diff "evil"]',
        `\ttextconv = "${touch('textconv')}; cat"`,
        `\tcommand = "${touch('diffcmd')}"`,
        '[filter "evil"]',
        `\tclean = "${touch('clean')}; cat"`,
        `\tsmudge = "${touch('smudge')}; cat"`,
        `\tprocess = "${touch('process')}"`,
        '[pager]',
        `\tgrep = "${touch('pager-grep')}"`,
        '',
      ].join('\n'),
    );
    write(hostile, '.git/info/attributes', '* diff=evil filter=evil\n');
    write(hostile, 'evil-attributes', '* diff=evil filter=evil\n');
    for (const dir of ['.git/hooks', 'evil-hooks']) {
      for (const hook of ['post-index-change', 'reference-transaction', 'pre-auto-gc', 'post-checkout']) {
        write(hostile, `${dir}/${hook}`, `#!/bin/sh\n${touch(`hook-${hook}`)}\n`);
        fs.chmodSync(path.join(hostile, dir, hook), 0o755);
      }
    }
    const result = scanWorkspaceGit(hostile)!;
    expect(result).toEqual({ secretFiles: [], secretHits: [{ path: 'MEMORY.md', line: 5, kind: 'Telegram bot token' }] });
    expect(fs.readdirSync(marks)).toEqual([]);
  });

  it('caps the hits', () => {
    const many = repo('many');
    fs.mkdirSync(many);
    git(many, 'init', '-q');
    const lines = Array.from({ length: MAX_SECRET_HITS + 20 }, (_, i) => `bot${i} ${100000000 + i}:${TELEGRAM_BODY}`);
    write(many, 'bots.md', `${lines.join('\n')}\n`);
    git(many, 'add', '-A');
    const result = scanWorkspaceGit(many)!;
    expect(result.secretHits).toHaveLength(MAX_SECRET_HITS);
    expect(result.secretHits[0]).toEqual({ path: 'bots.md', line: 1, kind: 'Telegram bot token' });
  });

  it('says so in one line when git is missing', () => {
    const result = scanWorkspaceGit(repo('leaky'), { git: path.join(tmp, 'no-such-git') })!;
    expect(result).toEqual({ secretFiles: [], secretHits: [], error: expect.stringContaining('git is not installed'), unchecked: true });
  });

  it('says so in one line, masked, when git fails', () => {
    const fake = path.join(tmp, 'failing-git');
    fs.writeFileSync(fake, `#!/bin/sh\necho "fatal: bad config value '${ANTHROPIC}' for 'core.x'" >&2\necho "second line" >&2\nexit 128\n`, { mode: 0o755 });
    const result = scanWorkspaceGit(repo('leaky'), { git: fake })!;
    expect(result.secretFiles).toEqual([]);
    expect(result.secretHits).toEqual([]);
    expect(result.error).toMatch(/^git ls-files exited with 128: fatal: bad config value/);
    expect(result.error).not.toContain('\n');
    expectNoPlantedValue(result);
  });

  it('gives up after the timeout', () => {
    const slow = path.join(tmp, 'slow-git');
    fs.writeFileSync(slow, '#!/bin/sh\nsleep 5\n', { mode: 0o755 });
    const result = scanWorkspaceGit(repo('leaky'), { git: slow, timeoutMs: 200 })!;
    expect(result.error).toBe('git ls-files timed out after 0.2 s');
  });

  it('reports a .git it cannot use as an error, not a throw', () => {
    const broken = repo('broken');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, '.git'), 'gitdir: /home/alice/old-machine/repo/.git/worktrees/ws\n');
    const result = scanWorkspaceGit(broken)!;
    expect(result.secretFiles).toEqual([]);
    expect(result.error).toMatch(/^git ls-files exited with 128: /);
    expect(result.error).not.toContain('\n');
  });
});

describe('a .git git must not be started on', () => {
  it('a FIFO .git/index: refused at once with the reason, nothing stalls, not a clean repository', () => {
    const fifo = repo('fifo-index');
    fs.cpSync(repo('notes'), fifo, { recursive: true });
    fs.rmSync(path.join(fifo, '.git', 'index'));
    execFileSync('mkfifo', [path.join(fifo, '.git', 'index')]);
    const started = Date.now();
    const result = scanWorkspaceGit(fifo)!;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toEqual({ secretFiles: [], secretHits: [], error: '.git/index is a FIFO, not a regular file: git was not run on it', unchecked: true });
  });

  it('a FIFO .git/HEAD or .git/config is refused the same way', () => {
    for (const name of ['HEAD', 'config']) {
      const fifo = repo(`fifo-${name}`);
      fs.cpSync(repo('notes'), fifo, { recursive: true });
      fs.rmSync(path.join(fifo, '.git', name));
      execFileSync('mkfifo', [path.join(fifo, '.git', name)]);
      const started = Date.now();
      expect(scanWorkspaceGit(fifo)).toMatchObject({ unchecked: true, error: `.git/${name} is a FIFO, not a regular file: git was not run on it` });
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('a corrupt .git/index: a reason, not a clean repository', () => {
    const corrupt = repo('corrupt-index');
    fs.cpSync(repo('notes'), corrupt, { recursive: true });
    fs.writeFileSync(path.join(corrupt, '.git', 'index'), Buffer.alloc(4096, 0x5a));
    const result = scanWorkspaceGit(corrupt)!;
    expect(result).toEqual({ secretFiles: [], secretHits: [], error: expect.stringContaining('.git/index is corrupt'), unchecked: true });
  });

  it('an index with the right signature but a broken body: git\'s own one-line reason, not a clean repository', () => {
    const broken = repo('broken-index');
    fs.cpSync(repo('notes'), broken, { recursive: true });
    const index = path.join(broken, '.git', 'index');
    const bytes = fs.readFileSync(index);
    bytes.fill(0x5a, 12, bytes.length - 4);
    fs.writeFileSync(index, bytes);
    const started = Date.now();
    const result = scanWorkspaceGit(broken)!;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.unchecked).toBe(true);
    expect(result.secretHits).toEqual([]);
    expect(result.error).toMatch(/^git ls-files exited with 128: .*(index|corrupt|bad)/i);
  });
});

describe.skipIf(process.getuid?.() !== 0)('as whom git runs (needs root to chown; skipped when not root)', () => {
  it('as the owner of the repository, never as root', () => {
    const owned = repo('owned-by-1001');
    fs.cpSync(repo('notes'), owned, { recursive: true });
    execFileSync('chown', ['-R', '1001:1001', owned]);
    const marks = path.join(tmp, 'git-marks');
    fs.mkdirSync(marks, { mode: 0o1777 });
    fs.chmodSync(marks, 0o1777);
    // a stand-in for git (root's, like /usr/bin/git) that says who ran it, then hands over to the real one
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const wrapper = path.join(tmp, 'recording-git');
    fs.writeFileSync(wrapper, `#!/bin/sh\nid -u >> ${marks}/uid\nexec ${real} "$@"\n`, { mode: 0o755 });
    const result = scanWorkspaceGit(owned, { git: wrapper })!;
    expect(result).toEqual({ secretFiles: [], secretHits: [{ path: 'MEMORY.md', line: 5, kind: 'Telegram bot token' }] });
    expect(fs.readFileSync(path.join(marks, 'uid'), 'utf8').trim().split('\n')).toEqual(['1001', '1001']);
  });

  it('not at all on a repository in a dir anyone may write, nor with a git another user owns', () => {
    const open = path.join(tmp, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const inOpen = path.join(open, 'repo');
    fs.cpSync(repo('notes'), inOpen, { recursive: true });
    const refused = scanWorkspaceGit(inOpen)!;
    expect(refused.unchecked).toBe(true);
    expect(refused.error).toMatch(/^git ls-files was not run: .*open is writable by anyone/);

    const owned = repo('owned-by-1001-b');
    fs.cpSync(repo('notes'), owned, { recursive: true });
    execFileSync('chown', ['-R', '1001:1001', owned]);
    const bobsGit = path.join(tmp, 'bobs-git');
    fs.writeFileSync(bobsGit, `#!/bin/sh\ntouch ${tmp}/bobs-git-ran\n`, { mode: 0o755 });
    fs.chownSync(bobsGit, 1002, 1002);
    const other = scanWorkspaceGit(owned, { git: bobsGit })!;
    expect(other).toMatchObject({ unchecked: true, error: expect.stringContaining('more than one user') });
    expect(fs.existsSync(path.join(tmp, 'bobs-git-ran'))).toBe(false);
  });
});

describe('isCredentialFileName', () => {
  it.each([
    '.env',
    'sub/.env.local',
    'creds.json',
    'credentials/whatsapp/default/creds.json',
    'auth-profiles.json',
    'auth.json',
    'oauth.json',
    'identity/device.json',
    'device-auth.json',
    'secrets.json',
    'keys/privkey.pem',
    'tls/server-key.pem',
    'tls/server.key',
    '.ssh/id_rsa',
    'id_ed25519',
    'resonix.json',
    'backup/resonix.json.bak.2',
  ])('%s is a credential', (name) => expect(isCredentialFileName(name)).toBe(true));
  it.each(['.env.example', 'docs/.env.sample', 'cert.pem', 'id_ed25519.pub', 'AGENTS.md', 'package.json', 'environment.md'])('%s is not', (name) =>
    expect(isCredentialFileName(name)).toBe(false),
  );
});

describe('SECRET_PREFILTER_ERE', () => {
  it('matches every line findNamedSecrets reports on (checked with grep -E)', () => {
    const samples = [ANTHROPIC, TELEGRAM, SLACK, OPENAI_UNTRACKED, GITHUB_UNTRACKED, '-----BEGIN RSA PRIVATE KEY-----', 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig',
      // ported from secretlint's recommended preset
      'npm_abcdefghijklmnopqrstuvwxyz0123456789', 'SG.abcdefghijklmnopqrst.abcdefghijklmnopqrstuvwxyz01234', 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH',
      'dckr_pat_abcdefghijklmnopqrstuvwxyz0', `gsk_${'a1'.repeat(26)}`, 'https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF', 'ASIAIOSFODNN7EXAMPLE'];
    for (const sample of samples) {
      expect(findNamedSecrets(sample).length).toBeGreaterThan(0);
      const out = execFileSync('grep', ['-c', '-E', ...SECRET_PREFILTER_ERE.flatMap((ere) => ['-e', ere])], { input: `${sample}\n`, env: { ...GIT_ENV } });
      expect(out.toString().trim()).toBe('1');
    }
  });
});
