// Wrong inputs and closed outputs (issue 11): `inspect` of a file that is no archive is a one-line exit 2,
// an inspected archive always says whether it is encrypted, and output into a pipe whose reader went away
// (`| head -1`) ends quietly in every format, with the exit code the run earned.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH, REPO_ROOT, runCli } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';

const FORMATS = ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown'];
const EXAMPLE_HOME = path.join(REPO_ROOT, 'examples/broken-migration/home/alice');
const STACK = /\n\s+at .+:\d+:\d+|EPIPE|Unhandled 'error' event/;

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-inputs-'));
  dirs.push(dir);
  return dir;
}

/** A small state dir packed as a real tar.gz, 0600. */
function backup(dir: string): string {
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.resonix/credentials'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, '.resonix/resonix.json'), '{ gateway: { mode: "local" } }\n', { mode: 0o600 });
  const file = path.join(dir, 'resonix-backup.tgz');
  execFileSync('tar', ['czf', file, '-C', home, '.resonix']);
  fs.chmodSync(file, 0o600);
  return file;
}

describe('inspect of a file that is no archive', () => {
  it('a text file like /etc/hostname: exit 2, one line on stderr, nothing on stdout, in every format', async () => {
    const dir = tempDir();
    const hostname = path.join(dir, 'hostname');
    fs.writeFileSync(hostname, 'my-laptop\n', { mode: 0o644 });
    for (const format of ['pretty', 'json', 'sarif']) {
      const run = await runCli(['inspect', hostname, '--format', format]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toEqual([`resonix-migrate: ${hostname} is not an archive inspect can read (tar, tar.gz, zip; age, OpenPGP or openssl enc encrypted files): nothing to inspect`]);
      // none of what it said before: no "Backup", no mv to a folder that does not exist, no "ready"
      expect(run.stderr).not.toMatch(/Backup|private-backups|ready/);
    }
  });

  it.runIf(fs.existsSync('/etc/hostname'))('the real /etc/hostname too', async () => {
    const run = await runCli(['inspect', '/etc/hostname']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an empty file and random bytes are no archives either; a real archive still inspects (exit 0 or 1)', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'empty.tgz'), '');
    fs.writeFileSync(path.join(dir, 'noise.tgz'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) % 256)));
    for (const name of ['empty.tgz', 'noise.tgz']) expect((await runCli(['inspect', path.join(dir, name)])).code).toBe(2);
    expect((await runCli(['inspect', backup(dir)])).code).toBeLessThan(2);
  });
});

describe('inspect always says whether the archive is encrypted (not only with --verbose)', () => {
  it('a plain tar.gz: "not encrypted" in pretty, archive.encrypted false in JSON', async () => {
    const file = backup(tempDir());
    const pretty = await runCli(['inspect', file]);
    expect(pretty.stdout).toContain(`Archive ${file}\n  ! not encrypted (tar.gz)`);
    const json = JSON.parse((await runCli(['inspect', file, '--format', 'json'])).stdout) as { archive?: unknown };
    expect(json.archive).toEqual({ path: file, format: 'tar.gz', encrypted: false });
  });

  it.runIf(hasTool('gpg'))('an OpenPGP-encrypted backup: "encrypted (OpenPGP)" without --verbose', async () => {
    const dir = tempDir();
    const plain = backup(dir);
    const gnupg = path.join(dir, 'gnupg');
    fs.mkdirSync(gnupg, { mode: 0o700 });
    const file = `${plain}.gpg`;
    execFileSync('gpg', ['--batch', '--quiet', '--homedir', gnupg, '--pinentry-mode', 'loopback', '--passphrase', 'x', '-c', '-o', file, plain]);
    spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all']);
    fs.chmodSync(file, 0o600);
    const run = await runCli(['inspect', file]);
    expect(run.code, run.stderr).toBeLessThan(2);
    expect(run.stdout).toContain('✓ encrypted (OpenPGP)');
    expect(JSON.parse((await runCli(['inspect', file, '--format', 'json'])).stdout).archive).toMatchObject({ format: 'openpgp', encrypted: true });
  });
});

describe('output into a closed pipe ends quietly, in every format', () => {
  /** Runs `resonix-migrate ARGS | READER` in bash; returns the CLI's exit code and its stderr. */
  function piped(args: string[], reader: string): { code: number; stderr: string } {
    const dir = tempDir();
    const errFile = path.join(dir, 'stderr');
    const quoted = [process.execPath, CLI_PATH, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = spawnSync('bash', ['-c', `${quoted} 2>'${errFile}' | ${reader}; exit "\${PIPESTATUS[0]}"`], { encoding: 'utf8', env: { PATH: process.env.PATH! }, cwd: dir, timeout: 60_000 });
    return { code: run.status ?? -1, stderr: fs.readFileSync(errFile, 'utf8') };
  }

  it('`verify --fix-dry-run | head -1` (the report): no EPIPE trace, exit 1 as the findings say; pretty leaves stderr empty', async () => {
    for (const format of FORMATS) {
      const args = ['verify', '--home', EXAMPLE_HOME, '--fix-dry-run', '--format', format];
      const alone = await runCli(args);
      const run = piped(args, 'head -1 >/dev/null');
      expect(run.stderr, format).not.toMatch(STACK);
      // what stderr carries is the same as without a pipe: nothing in pretty (the plan is on stdout), the plan otherwise
      expect(run.stderr, format).toBe(alone.stderr);
      if (format === 'pretty') expect(run.stderr).toBe('');
      expect(run.code, format).toBe(1);
    }
  });

  it('a reader that is gone before the first byte (`| true`): every write hits EPIPE, still quiet, in every format', () => {
    for (const format of FORMATS) {
      const run = piped(['verify', '--home', EXAMPLE_HOME, '--fix-dry-run', '--format', format], 'true');
      expect(run.stderr, format).not.toMatch(STACK);
      expect(run.code, format).toBe(1);
      const clean = piped(['verify', '--home', EXAMPLE_HOME, '--format', format], 'true');
      expect(clean.stderr, format).toBe('');
    }
  });
});
