// Running the built CLI as another user (setpriv --reuid=1000 …). A checkout that user cannot reach — a root
// clone under a 0700 dir, as many CI containers make — fails with "Cannot find module …/dist". So what the CLI
// needs at run time (bin, dist, package.json, docs and the runtime dependencies, found by walking package.json
// "dependencies" the way Node resolves them) is copied to a world-readable temp dir of its own, and run there.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './scenario.js';

export interface Staged {
  /** the world-readable copy */
  root: string;
  /** bin/resonix-migrate.js of the copy */
  cli: string;
  /** dist/ of the copy */
  dist: string;
  cleanup(): void;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The dir Node would load `name` from, for code in `from` (a package dir inside the checkout). */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === REPO_ROOT || dir === path.dirname(dir)) return undefined;
  }
}

/** Every package dir the checkout's runtime dependencies load, relative to the checkout. */
export function runtimePackages(): string[] {
  const found = new Set<string>();
  const visit = (dir: string, optional: ReadonlySet<string>): void => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    const names = { ...manifest.optionalDependencies, ...manifest.dependencies };
    for (const name of Object.keys(names)) {
      const resolved = resolvePackage(name, dir);
      if (resolved === undefined) {
        if (optional.has(name) || manifest.optionalDependencies?.[name] !== undefined) continue;
        throw new Error(`${name} (needed by ${path.relative(REPO_ROOT, dir) || 'the checkout'}) is not installed: run npm ci`);
      }
      const relative = path.relative(REPO_ROOT, resolved);
      if (found.has(relative)) continue;
      found.add(relative);
      visit(resolved, new Set(Object.keys(manifest.optionalDependencies ?? {})));
    }
  };
  visit(REPO_ROOT, new Set());
  return [...found].sort();
}

/** The first dir from `dir` up to / that other users cannot search, if any. */
function closedAncestor(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    if ((fs.statSync(current).mode & 0o001) === 0) return current;
    if (current === path.dirname(current)) return undefined;
  }
}

function openUp(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) openUp(file);
    else if (entry.isFile()) fs.chmodSync(file, fs.statSync(file).mode | 0o444);
  }
}

let staged: Staged | string | undefined;

/** A copy of the built CLI that any user can run (one per test file), or why there cannot be one. */
export function stageForOtherUsers(): Staged | string {
  if (staged !== undefined) return staged;
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'))) return (staged = 'dist/ is not built (npm run build)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-staged-'));
  const cleanup = () => {
    fs.rmSync(root, { recursive: true, force: true });
    staged = undefined;
  };
  const closed = closedAncestor(path.dirname(root));
  if (closed !== undefined) {
    cleanup();
    return (staged = `the temp dir ${path.dirname(root)} is not reachable by other users (${closed} is not searchable): set TMPDIR to one that is`);
  }
  // dist-cli: the bundle bin/ runs (it falls back to dist/ without one)
  for (const item of ['bin', 'dist', 'dist-cli', 'docs', 'package.json'].filter((name) => fs.existsSync(path.join(REPO_ROOT, name)))) fs.cpSync(path.join(REPO_ROOT, item), path.join(root, item), { recursive: true, dereference: true });
  for (const dir of runtimePackages()) fs.cpSync(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true, dereference: true });
  openUp(root);
  return (staged = { root, cli: path.join(root, 'bin', 'resonix-migrate.js'), dist: path.join(root, 'dist'), cleanup });
}

/** The staged CLI for a test that runs it as another user; a test that cannot have one is skipped with the reason. */
export function cliForOtherUsers(skip: (note: string) => never): string {
  return stagedOrSkip(skip).cli;
}

/** The staged dist/ (for a script run as another user that imports a module of it). */
export function distForOtherUsers(skip: (note: string) => never): string {
  return stagedOrSkip(skip).dist;
}

function stagedOrSkip(skip: (note: string) => never): Staged {
  const result = stageForOtherUsers();
  if (typeof result === 'string') {
    console.warn(`skipped: cannot run the CLI as another user: ${result}`);
    return skip(`cannot run the CLI as another user: ${result}`);
  }
  return result;
}

/** afterAll: remove this file's staged copy. */
export function releaseStaged(): void {
  if (typeof staged === 'object') staged.cleanup();
}
