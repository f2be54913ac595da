// The npm package as a user gets it: `npm pack` (prepack builds dist from nothing) in a copy of the checkout,
// then `npm install --global --prefix <temp> --ignore-scripts` of the tarball, then the installed bin and
// library are used. The copy keeps this run's dist (which other tests are using) untouched by prepack.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/scenario.js';
import { hasTool } from './helpers/tools.js';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> };

/** the checkout's files as git sees them (tracked and untracked, not ignored), or why they cannot be listed */
function checkoutFiles(): string[] | string {
  if (!hasTool('git')) return 'git is not installed';
  const run = spawnSync('git', ['-C', REPO_ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  if (run.status !== 0) return `${REPO_ROOT} is not a git checkout (${run.stderr.trim().split('\n')[0]})`;
  // node_modules is a symlink in a worktree (its "node_modules/" ignore line matches dirs only)
  return run.stdout.split('\0').filter((file) => file !== '' && file !== 'node_modules' && fs.existsSync(path.join(REPO_ROOT, file)));
}

const files = checkoutFiles();
const cannot = typeof files === 'string' ? files : !fs.existsSync(path.join(REPO_ROOT, 'node_modules', 'typescript')) ? 'node_modules has no typescript (run npm ci)' : undefined;
if (cannot) console.warn(`package.test.ts skipped: ${cannot}`);

/** child processes get no npm_* variables of the `npm test` that runs us, except where the cache is */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || /^npm_config_(cache|registry|userconfig)$/i.test(key)));
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

function expectOk(result: SpawnSyncReturns<string>, what: string): string {
  expect(result.status, `${what}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0);
  return result.stdout;
}

describe.skipIf(cannot !== undefined)(`npm pack, then npm install --global of the tarball${cannot ? ` — skipped: ${cannot}` : ''}`, () => {
  let work: string;
  let packed: { filename: string; files: { path: string }[] };
  let installed: string;
  let bin: string;
  let installLog: SpawnSyncReturns<string>;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-package-'));
    const copy = path.join(work, 'checkout');
    for (const file of files as string[]) {
      fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(copy, file));
    }
    fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, 'node_modules')), path.join(copy, 'node_modules'));
    // a stale file in dist must not reach the package: prepack starts from an empty dist
    fs.mkdirSync(path.join(copy, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(copy, 'dist', 'stale-leftover.js'), 'export {};\n');
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const pack = run('npm', ['pack', '--json', '--pack-destination', out], copy);
    expectOk(pack, 'npm pack');
    // prepack's build output goes to stdout before the JSON
    packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1)) as (typeof packed)[])[0]!;
    const prefix = path.join(work, 'prefix');
    installLog = run('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', path.join(out, packed.filename)], work);
    expectOk(installLog, 'npm install --global of the tarball');
    installed = path.join(prefix, 'lib', 'node_modules', pkg.name);
    bin = path.join(prefix, 'bin', pkg.name);
  }, 180_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships the built CLI, LICENSE, README, the config schema, the rule docs and an example; no tests, benchmarks, sources or maps', () => {
    const names = packed.files.map((file) => file.path);
    for (const file of ['package.json', 'LICENSE', 'README.md', 'resonix-migrate.schema.json', 'bin/resonix-migrate.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'docs/rules/perms/secrets-exposed.md', 'examples/broken-migration/home/alice/.resonix/resonix.json']) {
      expect(names).toContain(file);
    }
    expect(names.filter((name) => /^(test|bench|scripts|\.ci)\//.test(name) || /\.map$/.test(name) || (name.startsWith('src/') && name !== 'src/manifest/README.md'))).toEqual([]);
    expect(names).not.toContain('dist/stale-leftover.js');
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('runs nothing at install: no install scripts, and consumers never need tsc', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; dependencies: Record<string, string> };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[script], script).toBeUndefined();
    expect(Object.keys(manifest.dependencies)).not.toContain('typescript');
    expect(installLog.stderr).not.toMatch(/script/i);
  });

  it('the installed bin prints the version and verifies the shipped example', () => {
    expect(expectOk(run(bin, ['--version'], work), '--version').trim()).toBe(pkg.version);
    const verify = run(bin, ['verify', '--home', path.join(installed, 'examples', 'broken-migration', 'home', 'alice'), '--format', 'json'], work);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(1);
    const report = JSON.parse(verify.stdout) as { tool: { version: string }; findings: { ruleId: string }[] };
    expect(report.tool.version).toBe(pkg.version);
    expect(report.findings.map((finding) => finding.ruleId)).toEqual(expect.arrayContaining(['copy/config-only', 'remote/mode-unset', 'state/profile-mismatch']));
    // rule pages are read from the package's docs/
    expect(expectOk(run(bin, ['explain', 'copy/config-only'], work), 'explain')).toContain('copy/config-only');
  });

  it('imports as a library: resonix-migrate, and resonix-migrate/health when the package has it', () => {
    const hasHealth = fs.existsSync(path.join(installed, 'dist', 'health.js'));
    if (!hasHealth) console.warn('package.test.ts: resonix-migrate/health not imported — this build has no dist/health.js (src/health.ts not merged yet)');
    const script = path.join(installed, '..', '..', 'check-import.mjs');
    fs.writeFileSync(
      script,
      `const lib = await import('resonix-migrate');
const health = ${hasHealth ? "await import('resonix-migrate/health')" : 'undefined'};
const schema = (await import('resonix-migrate/resonix-migrate.schema.json', { with: { type: 'json' } })).default;
console.log(JSON.stringify({ rules: lib.builtinRules.length, main: typeof lib.main, scan: typeof lib.scanMachine, health: health && Object.keys(health).sort(), schema: schema.title }));
`,
    );
    const result = JSON.parse(expectOk(run(process.execPath, [script], path.dirname(script)), 'import').trim()) as { rules: number; main: string; scan: string; health?: string[]; schema: string };
    expect(result).toMatchObject({ main: 'function', scan: 'function', schema: 'resonix-migrate config' });
    expect(result.rules).toBeGreaterThan(30);
    if (hasHealth) expect(result.health).toEqual(expect.arrayContaining(['healthChecks', 'registerHealthChecks']));
  });

  it('runs the whole pipeline as a library: run() on the shipped example, every format by name', () => {
    const script = path.join(installed, '..', '..', 'check-run.mjs');
    const home = path.join(installed, 'examples', 'broken-migration', 'home', 'alice');
    fs.writeFileSync(
      script,
      `const lib = await import('resonix-migrate');
const result = await lib.run({ phase: 'verify', home: ${JSON.stringify(home)}, cwd: ${JSON.stringify(work)}, env: { PATH: process.env.PATH } });
const formats = Object.fromEntries(lib.FORMATS.map((format) => [format, typeof lib.formatters[format](result.report, { rules: lib.builtinRules, failed: result.failed })]));
console.log(JSON.stringify({ failed: result.failed, ruleIds: result.report.findings.map((finding) => finding.ruleId), version: JSON.parse(lib.formatters.json(result.report, { rules: lib.builtinRules })).tool.version, formats, gate: lib.failsGate(result.report) }));
`,
    );
    const result = JSON.parse(expectOk(run(process.execPath, [script], path.dirname(script)), 'run()').trim()) as { failed: boolean; ruleIds: string[]; version: string; formats: Record<string, string>; gate: boolean };
    expect(result.ruleIds).toEqual(expect.arrayContaining(['copy/config-only', 'remote/mode-unset', 'state/profile-mismatch']));
    expect(result).toMatchObject({ failed: true, gate: true, version: pkg.version });
    expect(Object.keys(result.formats).sort()).toEqual(['doctor-lint', 'github', 'json', 'junit', 'markdown', 'pretty', 'sarif']);
    expect(new Set(Object.values(result.formats))).toEqual(new Set(['string']));
  });

  it('every relative link of the README resolves inside the package (nothing points out of it, e.g. ../shared)', () => {
    const readme = fs.readFileSync(path.join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1]!).filter((target) => !/^(https?:|mailto:|#)/.test(target));
    expect(links.length).toBeGreaterThan(30);
    const broken = links.filter((target) => {
      const file = path.resolve(installed, decodeURI(target.split('#')[0]!));
      return !file.startsWith(`${installed}${path.sep}`) || !fs.existsSync(file);
    });
    expect(broken).toEqual([]);
  });
});
