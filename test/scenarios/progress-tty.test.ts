// The progress line end to end: the built CLI under a pseudo-terminal (util-linux `script`), stdout sent to a
// file so that what the terminal shows is stderr alone. RESONIX_MIGRATE_PROGRESS_DELAY_MS=0 (test-only) shows
// the line at once, so a small tree will do. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/scenario.js';
import { hasTool } from '../helpers/tools.js';

const ERASE = '\r\x1b[2K';
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

let dir: string;
let home: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-progress-'));
  home = path.join(dir, 'home', 'alice');
  const sessions = path.join(home, '.resonix', 'agents', 'main', 'sessions');
  fs.mkdirSync(sessions, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, '.resonix', 'resonix.json'), '{}\n', { mode: 0o600 });
  // more entries than the counter's check interval (512), so the walk itself draws the line
  for (let i = 0; i < 1500; i++) fs.writeFileSync(path.join(sessions, `s-${i}.jsonl`), '', { mode: 0o600 });
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What the terminal received (stderr only: stdout goes to `stdoutFile`), and the exit status of `script`. */
function underTerminal(args: string[], env: Record<string, string>, stdoutFile: string): { terminal: string; stdout: string } {
  const command = `${[process.execPath, CLI_PATH, ...args].map(quote).join(' ')} >${quote(stdoutFile)}`;
  const run = spawnSync('script', ['-qfec', command, '/dev/null'], {
    encoding: 'utf8',
    // no CI from the environment the tests run in (CI sets it), unless the case sets it
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', RESONIX_MIGRATE_PROGRESS_DELAY_MS: '0', ...env },
    timeout: 60_000,
  });
  if (run.error) throw run.error;
  return { terminal: run.stdout, stdout: fs.readFileSync(stdoutFile, 'utf8') };
}

describe.skipIf(!hasTool('script'))('the progress line on a terminal', () => {
  it('verify: one line on stderr, redrawn in place, erased before the end; the report on stdout has none of it', () => {
    const { terminal, stdout } = underTerminal(['verify', '--home', home], {}, path.join(dir, 'verify.txt'));
    expect(terminal).toMatch(/resonix-migrate: [\d,]+ entries walked \([\d,]+\/s\)/);
    // every draw starts by erasing the line, nothing ever moves to a new line, and the last thing is the erase
    expect(terminal.startsWith(ERASE)).toBe(true);
    expect(terminal).not.toMatch(/\n/);
    expect(terminal.endsWith(ERASE)).toBe(true);
    expect(stdout).toMatch(/1505 entries/);
    expect(stdout).not.toMatch(/entries walked|\x1b\[2K/);
  });

  it('snapshot: the line is erased before the summary line', () => {
    const out = path.join(dir, 'm.json');
    const { terminal } = underTerminal(['snapshot', '--home', home, '--out', out], {}, path.join(dir, 'snapshot.txt'));
    expect(terminal).toMatch(/entries walked/);
    const summary = terminal.indexOf('Snapshot of 1 state dir');
    expect(summary).toBeGreaterThan(0);
    expect(terminal.slice(0, summary).endsWith(ERASE)).toBe(true);
    expect(terminal.slice(summary)).not.toMatch(/entries walked/);
  });

  it('nothing with CI set, --quiet, or JSON on stdout', () => {
    for (const [args, env] of [
      [['verify', '--home', home], { CI: '1' }],
      [['verify', '--home', home, '--quiet'], {}],
      [['verify', '--home', home, '--format', 'json'], {}],
      [['snapshot', '--home', home, '--out', path.join(dir, 'quiet.json'), '--quiet'], {}],
    ] as const) {
      const { terminal } = underTerminal([...args], env, path.join(dir, 'silent.txt'));
      expect(terminal, args.join(' ')).toBe('');
    }
  });
});
