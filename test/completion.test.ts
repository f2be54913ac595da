// `resonix-migrate completion bash|zsh|fish`, run for real: bash's completion function is called the way
// readline calls it (COMP_WORDS/COMP_CWORD, with "=" split off as bash's COMP_WORDBREAKS does), fish answers
// `complete -C`, zsh loads it under compinit. The scripts come from the CLI's own command tree.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, FORMATS } from '../src/cli.js';
import { completionScript, describeProgram } from '../src/completion.js';
import { builtinRules } from '../src/rules/index.js';
import { hasTool } from './helpers/tools.js';

const ids = builtinRules.map((rule) => rule.meta.id);
const program = buildProgram({ stdout: () => {}, stderr: () => {}, env: {}, cwd: '/', stdoutIsTTY: false }, () => {});
const spec = describeProgram(program, builtinRules);

let dir: string;
const script = (shell: 'bash' | 'zsh' | 'fish'): string => {
  const file = path.join(dir, `completion.${shell}`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, completionScript(shell, spec));
  return file;
};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-completion-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the command tree', () => {
  it('has every command, its flags and their values', () => {
    expect(spec.commands.map((command) => command.name)).toEqual(['audit', 'verify', 'inspect', 'snapshot', 'image', 'rules', 'explain', 'completion', 'help']);
    const verify = spec.commands.find((command) => command.name === 'verify')!;
    expect(verify.flags.find((flag) => flag.names.includes('--format'))?.value).toEqual({ kind: 'words', words: [...FORMATS] });
    expect(verify.flags.find((flag) => flag.names.includes('--only'))).toMatchObject({ value: { kind: 'words', words: ids }, repeatable: true });
    expect(verify.flags.find((flag) => flag.names.includes('--home'))?.value).toEqual({ kind: 'dirs' });
    expect(verify.flags.find((flag) => flag.names.includes('--quiet'))?.value).toBeUndefined();
    expect(spec.commands.find((command) => command.name === 'explain')!.args).toEqual([{ kind: 'words', words: ids }]);
    expect(spec.commands.find((command) => command.name === 'completion')!.args).toEqual([{ kind: 'words', words: ['bash', 'zsh', 'fish'] }]);
  });
});

describe('bash', () => {
  /** the completions bash offers for words (the last one being completed) */
  const complete = (...words: string[]): string[] => {
    const quoted = words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const run = spawnSync('bash', ['--norc', '--noprofile', '-c', `source "$1"; COMP_WORDS=(resonix-migrate ${quoted}); COMP_CWORD=${words.length}; _resonix_migrate_complete; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', script('bash')], {
      encoding: 'utf8',
      cwd: dir,
    });
    expect(run.stderr).toBe('');
    return run.stdout.split('\n').filter(Boolean);
  };

  it('registers itself: complete -p names the function', () => {
    const run = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$1"; complete -p resonix-migrate', 'bash', script('bash')], { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('complete -o filenames -F _resonix_migrate_complete resonix-migrate');
  });

  it('commands, then their flags', () => {
    expect(complete('')).toEqual(spec.commands.map((command) => command.name));
    expect(complete('ve')).toEqual(['verify']);
    expect(complete('-')).toEqual(['-V', '--version', '-h', '--help']);
    expect(complete('verify', '--fa')).toEqual(['--fail-on']);
    expect(complete('verify', '--sev')).toEqual(['--severity-min']);
    expect(complete('snapshot', '--no-')).toEqual(['--no-color', '--no-hash']);
  });

  it('formats, severities and rule ids where a flag or argument takes them', () => {
    expect(complete('verify', '--format', '')).toEqual([...FORMATS]);
    expect(complete('verify', '--format', 'd')).toEqual(['doctor-lint']);
    expect(complete('image', 'rootfs', '--severity-min', 'w')).toEqual(['warning']);
    expect(complete('audit', '--only', 'perms/')).toEqual(ids.filter((id) => id.startsWith('perms/')));
    expect(complete('verify', '--skip', '')).toEqual(ids);
    expect(complete('explain', 'copy/c')).toEqual(['copy/config-only', 'copy/channel-login-missing']);
    expect(complete('completion', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(complete('help', 'sn')).toEqual(['snapshot']);
  });

  it('--rule ID=SEVERITY across bash’s "=" word break, and --flag=VALUE', () => {
    expect(complete('verify', '--rule', 'perms/secrets')).toEqual(['perms/secrets-exposed=']);
    expect(complete('verify', '--rule', 'perms/secrets-exposed', '=')).toEqual(['off', 'info', 'warning', 'error']);
    expect(complete('verify', '--rule', 'perms/secrets-exposed', '=', 'w')).toEqual(['warning']);
    expect(complete('verify', '--format', '=', 'sa')).toEqual(['sarif']);
  });

  it('files and dirs where a path goes; nothing made up for free values', () => {
    fs.mkdirSync(path.join(dir, 'rootfs-dir'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'backup.tgz'), '');
    expect(complete('image', 'root')).toEqual(['rootfs-dir']);
    expect(complete('inspect', 'back')).toEqual(['backup.tgz']);
    expect(complete('verify', '--home', 'root')).toEqual(['rootfs-dir']);
    expect(complete('verify', '--profile', '')).toEqual([]);
  });
});

const missing = (tool: string) => `${tool} is not installed (.ci/run installs it from Debian)`;

describe.skipIf(!hasTool('fish'))(`fish${hasTool('fish') ? '' : ` — skipped: ${missing('fish')}`}`, () => {
  const complete = (line: string): string[] => {
    const run = spawnSync('fish', ['--no-config', '-c', `source $argv[1]; complete -C $argv[2]`, script('fish'), line], { encoding: 'utf8', cwd: dir });
    expect(run.stderr).toBe('');
    return run.stdout.split('\n').filter(Boolean).map((item) => item.split('\t')[0]!);
  };

  it('answers complete -C with commands, formats, rule ids and ID=SEVERITY', () => {
    expect(complete('resonix-migrate ve')).toEqual(['verify']);
    expect(complete('resonix-migrate verify --format ').sort()).toEqual([...FORMATS].sort());
    expect(complete('resonix-migrate explain gateway/').sort()).toEqual(ids.filter((id) => id.startsWith('gateway/')).sort());
    expect(complete('resonix-migrate verify --rule perms/secrets-exposed=')).toEqual(['perms/secrets-exposed=off', 'perms/secrets-exposed=info', 'perms/secrets-exposed=warning', 'perms/secrets-exposed=error'].sort());
    expect(complete('resonix-migrate verify --sev')).toEqual(['--severity-min']);
  });
});

describe.skipIf(!hasTool('zsh'))(`zsh${hasTool('zsh') ? '' : ` — skipped: ${missing('zsh')}`}`, () => {
  it('parses (zsh -n) and registers _resonix_migrate under compinit', () => {
    expect(spawnSync('zsh', ['-n', script('zsh')], { encoding: 'utf8' }).status).toBe(0);
    const run = spawnSync('zsh', ['-f', '-c', `autoload -Uz compinit; compinit -u -d "$2/zcompdump"; eval "$(<$1)"; print -r -- $_comps[resonix-migrate]`, 'zsh', script('zsh'), dir], { encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('_resonix_migrate');
    expect(fs.readFileSync(script('zsh'), 'utf8')).toContain(`'*--only[run only this rule (repeatable)]:only:(${ids.join(' ')})'`);
  });
});

it.each(['bash', 'zsh', 'fish'] as const)('resonix-migrate completion %s prints the script', async (shell) => {
  const { runCli } = await import('./helpers/scenario.js');
  const result = await runCli(['completion', shell]);
  expect([result.code, result.stderr]).toEqual([0, '']);
  expect(result.stdout).toBe(fs.readFileSync(script(shell), 'utf8'));
});
