#!/usr/bin/env node
// Speed benchmark for `inspect ARCHIVE`: inspectArchive() on a ~1 GB .tgz of a realistic state dir, against
// `tar -tzf` (the floor: GNU tar listing the same archive, its gzip running in a second process).
//   node bench/inspect.mjs [--gb 1] [--runs 3] [--regenerate] [--check] [--dist DIR]
// The archive is bench/.out/inspect/state-<gb>g.tgz, made once with the real `tar czf` from a tree built by
// bench/generate.mjs plus media (random, incompressible) and long transcripts (text, compressible), so
// gunzip and the tar parser both get real work. Each tool runs once to warm the page cache, then they
// alternate for --runs timed runs; the medians, their ratio and the peak RSS of inspectArchive are printed.
// With --check it exits 1 when the ratio exceeds 1.2 or the RSS grew by more than 100 MB.
// Needs `npm run build` first (it loads dist/archive/inspect.js; --dist names another build output).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { generate } from './generate.mjs';
import { median, outDirOf, parseVolumeOptions, transcript, withPeakRss } from './lib.mjs';

const MAX_RATIO = 1.2;
const MAX_RSS_GROWTH_MB = 100;
const USAGE = 'usage: node bench/inspect.mjs [--gb 1] [--runs 3] [--regenerate] [--check] [--dist DIR]';
const outDir = outDirOf('inspect');

const parseArgs = (argv) => parseVolumeOptions(argv, USAGE);

// --- the archive ------------------------------------------------------------------------------------
export function makeArchive(gb, archive) {
  const tree = path.join(outDir, 'tree');
  fs.rmSync(tree, { recursive: true, force: true });
  fs.mkdirSync(tree, { recursive: true });
  const quiet = () => undefined;
  generate({ dir: tree, sessions: 20_000, credentials: 3000, mediaGb: 0, force: true }, quiet);
  const state = path.join(tree, 'home', 'alice', '.resonix');
  // about 60% of the compressed bytes: media (incompressible), 40%: long transcripts (text, ~5.5:1 under gzip -6)
  const target = gb * 1024 ** 3;
  const mediaDir = path.join(state, 'media', 'inbound');
  fs.mkdirSync(mediaDir, { recursive: true, mode: 0o700 });
  const mediaFiles = Math.ceil((target * 0.6) / (1024 * 1024));
  for (let i = 0; i < mediaFiles; i++) fs.writeFileSync(path.join(mediaDir, `photo-${i}.jpg`), randomBytes(1024 * 1024), { mode: 0o644 });
  const longDir = path.join(state, 'agents', 'research', 'sessions');
  const longFiles = Math.ceil((target * 0.4 * 5.5) / (4 * 1024 * 1024));
  for (let i = 0; i < longFiles; i++) fs.writeFileSync(path.join(longDir, `long-${i}.jsonl`), transcript(4 * 1024 * 1024, i + 1), { mode: 0o600 });
  fs.rmSync(archive, { force: true });
  const made = spawnSync('tar', ['-C', path.join(tree, 'home', 'alice'), '-czf', archive, '.resonix'], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error('tar czf failed');
  fs.rmSync(tree, { recursive: true, force: true });
}

// --- timing -------------------------------------------------------------------------------------------
function timeTar(archive) {
  const started = performance.now();
  const result = spawnSync('sh', ['-c', 'tar -tzf "$1" > /dev/null', 'sh', archive], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error('tar -tzf failed');
  return performance.now() - started;
}

async function timeInspect(inspectArchive, archive) {
  const { ms, value: result, rssGrowth } = await withPeakRss(() => inspectArchive(archive), 25);
  const members = result.machine.homes.flatMap((home) => home.installs).reduce((sum, install) => sum + install.inventory.entries.length, 0);
  if (result.problems.length > 0) throw new Error(`inspectArchive reported: ${result.problems.map((problem) => problem.message).join('; ')}`);
  return { ms, rssGrowth, members };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const entry = path.join(options.dist, 'archive', 'inspect.js');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const { inspectArchive } = await import(pathToFileURL(entry).href);
  fs.mkdirSync(outDir, { recursive: true });
  const archive = path.join(outDir, `state-${options.gb}g.tgz`);
  if (options.regenerate || !fs.existsSync(archive)) {
    process.stdout.write(`generating ${archive} …\n`);
    makeArchive(options.gb, archive);
  }
  const size = fs.statSync(archive).size;
  process.stdout.write(`archive: ${archive} (${(size / 1024 ** 3).toFixed(2)} GiB)\n`);

  timeTar(archive);
  await timeInspect(inspectArchive, archive);
  const tar = [];
  const inspect = [];
  for (let run = 0; run < options.runs; run++) {
    tar.push(timeTar(archive));
    inspect.push(await timeInspect(inspectArchive, archive));
  }
  const tarMs = median(tar);
  const inspectMs = median(inspect.map((item) => item.ms));
  const rssGrowthMb = Math.max(...inspect.map((item) => item.rssGrowth)) / 1024 ** 2;
  const ratio = inspectMs / tarMs;
  const results = {
    archiveBytes: size,
    members: inspect[0].members,
    runs: options.runs,
    tarMs: Math.round(tarMs),
    inspectMs: Math.round(inspectMs),
    ratio: Number(ratio.toFixed(3)),
    rssGrowthMb: Number(rssGrowthMb.toFixed(1)),
  };
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    `tar -tzf: ${results.tarMs} ms   inspectArchive: ${results.inspectMs} ms (${results.members} inventory entries)   ratio ${results.ratio}   RSS growth ${results.rssGrowthMb} MB\n`,
  );
  if (options.check && (ratio > MAX_RATIO || rssGrowthMb > MAX_RSS_GROWTH_MB)) {
    process.stderr.write(`FAIL: ratio ${results.ratio} (max ${MAX_RATIO}), RSS growth ${results.rssGrowthMb} MB (max ${MAX_RSS_GROWTH_MB})\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  });
}
