// After tsc: the command-line tool as a few bundled files in dist-cli/ (bin/resonix-migrate.js runs them).
// A verify loads ~120 modules from dist/; resolving, reading and linking them one by one cost ~60 ms of a
// ~140 ms start-up on every run, and esbuild's bundle does away with most of it (see README "Benchmarks").
// Libraries stay outside (imported from node_modules as before); dist/ stays the library's API, unbundled.
//
// dist-cli/ sits beside dist/, at the same depth, so what a module finds relative to itself
// (`../package.json`, the package root, a worker file `./x-worker.js` beside its caller) is found from
// the bundle too: every worker module becomes an entry of the same name, and the check below fails the
// build when a chunk names a file `new URL('./…', import.meta.url)` that is not there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const out = path.join(root, 'dist-cli');

const workers = fs
  .readdirSync(dist, { recursive: true })
  .map(String)
  .filter((file) => /(^|\/)[^/]+-worker\.js$/.test(file))
  .map((file) => path.join(dist, file));

fs.rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [path.join(dist, 'cli.js'), ...workers],
  outdir: out,
  entryNames: '[name]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});

const missing = [];
for (const file of fs.readdirSync(out)) {
  const text = fs.readFileSync(path.join(out, file), 'utf8');
  for (const [, name] of text.matchAll(/new URL\(\s*["']\.\/([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g)) {
    if (!fs.existsSync(path.join(out, name))) missing.push(`${file} names ./${name}`);
  }
}
if (missing.length > 0) {
  console.error(`dist-cli: files a bundled module looks for beside itself are missing: ${missing.join('; ')}`);
  process.exit(1);
}
