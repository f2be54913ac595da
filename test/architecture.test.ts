// The layering the design doc draws, checked on the code: who may import whom, no circles, uniform rule files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** src-relative module name without extension: rules/copy/config-only */
function moduleOf(file: string): string {
  return path.relative(SRC, file).replace(/\.ts$/, '').split(path.sep).join('/');
}

/** Relative imports (static and dynamic, type-only included) of one file, as module names. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found = new Set<string>();
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    found.add(moduleOf(path.resolve(path.dirname(file), match[1]!).replace(/\.js$/, '.ts')));
  }
  return [...found];
}

const graph = new Map(sourceFiles(SRC).map((file) => [moduleOf(file), importsOf(file)]));

function layerOf(module: string): string {
  if (/^rules\/[^/]+\//.test(module)) return 'rule';
  return module.split('/')[0]!.replace(/\.ts$/, '');
}

function violations(from: (module: string) => boolean, allowed: (target: string) => boolean): string[] {
  const bad: string[] = [];
  for (const [module, targets] of graph) {
    if (!from(module)) continue;
    for (const target of targets) if (!allowed(target)) bad.push(`${module} -> ${target}`);
  }
  return bad;
}

describe('architecture', () => {
  it('has no import circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (module: string): void => {
      if (state.get(module) === 'done') return;
      if (state.get(module) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(module)), module].join(' -> '));
        return;
      }
      state.set(module, 'open');
      stack.push(module);
      for (const target of graph.get(module) ?? []) visit(target);
      stack.pop();
      state.set(module, 'done');
    };
    for (const module of graph.keys()) visit(module);
    expect(cycles).toEqual([]);
  });

  it('keeps the knowledge floor pure: it imports only the model and itself', () => {
    expect(violations((m) => m.startsWith('knowledge/'), (t) => t === 'model' || t.startsWith('knowledge/'))).toEqual([]);
  });

  it('lets rules import only the model, the knowledge floor and rules/lib', () => {
    expect(violations((m) => layerOf(m) === 'rule', (t) => t === 'model' || t.startsWith('knowledge/') || t === 'rules/lib')).toEqual([]);
  });

  it('keeps reporters, engine, diagnosis and fix off the scanner and out of each other', () => {
    const pure = ['reporters', 'engine', 'diagnose', 'plan', 'gate', 'fix'];
    const bad = violations(
      (m) => pure.includes(layerOf(m)),
      (t) => {
        const layer = layerOf(t);
        if (layer === 'scan' || layer === 'cli' || layer === 'run') return false;
        return true;
      },
    );
    expect(bad).toEqual([]);
    // reporters import no engine/fix internals; fix imports only the model and the floor
    expect(violations((m) => layerOf(m) === 'reporters', (t) => !['engine', 'fix', 'rule'].includes(layerOf(t)))).toEqual([]);
    expect(violations((m) => layerOf(m) === 'fix', (t) => t === 'model' || t.startsWith('knowledge/') || t.startsWith('fix/'))).toEqual([]);
  });

  it('keeps the CLI thin: at most ~300 lines, and it never calls the scanner itself', () => {
    const cli = fs.readFileSync(path.join(SRC, 'cli.ts'), 'utf8');
    expect(cli.split('\n').length).toBeLessThanOrEqual(320);
    expect(graph.get('cli')!.filter((t) => layerOf(t) === 'scan')).toEqual([]);
    expect(cli).not.toMatch(/scanMachine\s*\(/);
  });

  it('opens every rule file with its metadata, before any helper', () => {
    const late: string[] = [];
    for (const module of graph.keys()) {
      if (layerOf(module) !== 'rule') continue;
      const text = fs.readFileSync(path.join(SRC, `${module}.ts`), 'utf8');
      const body = text.split('\n').filter((line) => !/^\s*(import\s|\/\/|$)/.test(line));
      const first = body.find((line) => /^(export\s+)?(const|function|let|class|type|interface)\b/.test(line));
      if (!first || !/^export const rule\b/.test(first)) late.push(`${module}: ${first ?? '(no rule)'}`);
    }
    expect(late).toEqual([]);
  });
});
