#!/usr/bin/env node
// Hashing throughput of the snapshot manifest (createManifest's hashing) against `sha256sum` over the same
// files: ~1 GB of real data in bench/.out/hash/ (a state dir with media, SQLite-sized databases, transcripts,
// many small credential and session files, and a workspace), made once and reused.
//   node bench/hash.mjs [--gb 1] [--runs 3] [--regenerate] [--check] [--dist DIR]
// Three timings, each run once to warm the page cache, then alternated for --runs timed runs (medians):
//   sha256sum    `xargs -0 sha256sum` over the NUL-separated file list (one process per ~thousands of files)
//   hashFiles    src/manifest/hash.ts hashFiles() over the same list, at the default concurrency (4)
//   createManifest  the whole createManifest({machine}, {hash: true}) on a scanned Machine (scan excluded)
// Prints MB/s of each and the ratio ours/sha256sum (higher is better; target >= 0.8), the peak RSS growth,
// and checks that every hash agrees with sha256sum's. With --check it exits 1 when the ratio of
// createManifest is below 0.8 or the RSS grew by more than 100 MB.
// Needs a build of src (`npm run build`, or `npx tsc -p tsconfig.build.json --outDir DIR` and --dist DIR).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { median, outDirOf, parseVolumeOptions, repo, transcript, withPeakRss } from './lib.mjs';

const MIN_RATIO = 0.8;
const MAX_RSS_GROWTH_MB = 100;
const USAGE = 'usage: node bench/hash.mjs [--gb 1] [--runs 3] [--regenerate] [--check] [--dist DIR]';
const outDir = outDirOf('hash');

const parseArgs = (argv) => parseVolumeOptions(argv, USAGE);

// --- the data --------------------------------------------------------------------------------------------
function writeRandom(file, bytes, mode = 0o600) {
  const fd = fs.openSync(file, 'w', mode);
  try {
    for (let left = bytes; left > 0; ) {
      const chunk = randomBytes(Math.min(left, 8 * 1024 * 1024));
      fs.writeSync(fd, chunk);
      left -= chunk.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** ~gb GiB: 50% databases (4 × 1/8), 30% media (1 MiB files), 15% transcripts (256 KiB), 5% small files (4 KiB). */
function generate(root, gb) {
  fs.rmSync(root, { recursive: true, force: true });
  const home = path.join(root, 'home', 'alice');
  const state = path.join(home, '.resonix');
  const total = gb * 1024 ** 3;
  const mk = (dir) => fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  mk(path.join(state, 'state'));
  for (const agent of ['main', 'research']) mk(path.join(state, 'agents', agent, 'agent'));
  writeRandom(path.join(state, 'state', 'resonix.sqlite'), Math.floor(total * 0.125));
  writeRandom(path.join(state, 'agents', 'main', 'agent', 'resonix-agent.sqlite'), Math.floor(total * 0.125));
  writeRandom(path.join(state, 'agents', 'research', 'agent', 'resonix-agent.sqlite'), Math.floor(total * 0.125));
  writeRandom(path.join(state, 'memory.sqlite'), Math.floor(total * 0.125));
  const media = path.join(state, 'media', 'inbound');
  mk(media);
  for (let i = 0; i < Math.floor((total * 0.3) / 1024 ** 2); i++) writeRandom(path.join(media, `photo-${i}.jpg`), 1024 ** 2, 0o644);
  const sessions = path.join(state, 'agents', 'main', 'sessions');
  mk(sessions);
  for (let i = 0; i < Math.floor((total * 0.15) / (256 * 1024)); i++) fs.writeFileSync(path.join(sessions, `s-${i}.jsonl`), transcript(256 * 1024, i + 1), { mode: 0o600 });
  const credentials = path.join(state, 'credentials', 'whatsapp', 'default');
  mk(credentials);
  const smallCount = Math.floor((total * 0.05) / 4096);
  for (let i = 0; i < smallCount; i++) fs.writeFileSync(path.join(credentials, `pre-key-${i}.json`), randomBytes(2048).toString('hex'), { mode: 0o600 });
  fs.writeFileSync(path.join(state, 'resonix.json'), `${JSON.stringify({ gateway: { mode: 'local', port: 18789 }, agents: { defaults: { workspace: '~/work/main' } } })}\n`, { mode: 0o600 });
  const workspace = path.join(home, 'work', 'main');
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(path.join(workspace, 'AGENTS.md'), '# Agents\n');
  fs.writeFileSync(path.join(root, 'made'), `${gb}\n`);
}

function listFiles(dir) {
  const out = [];
  const walk = (current) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

// --- timing -------------------------------------------------------------------------------------------
function runSha256sum(listFile) {
  const started = performance.now();
  const result = spawnSync('sh', ['-c', 'xargs -0 sha256sum -- < "$1"', 'sh', listFile], { maxBuffer: 1024 ** 3, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sha256sum failed: ${result.stderr}`);
  return { ms: performance.now() - started, stdout: result.stdout };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const root = path.join(outDir, `tree-${options.gb}g`);
  if (options.regenerate || !fs.existsSync(path.join(root, 'made'))) {
    process.stderr.write(`generating ${options.gb} GiB in ${root} …\n`);
    generate(root, options.gb);
  }
  const homeDir = path.join(root, 'home', 'alice');
  const files = listFiles(homeDir);
  const bytes = files.reduce((sum, file) => sum + fs.statSync(file).size, 0);
  const listFile = path.join(outDir, `files-${options.gb}g.nul`);
  fs.writeFileSync(listFile, files.map((file) => `${file}\0`).join(''));

  const dist = pathToFileURL(`${options.dist}/`);
  const { hashFiles } = await import(new URL('manifest/hash.js', dist).href);
  const { createManifest } = await import(new URL('manifest/snapshot.js', dist).href);
  const { scanMachine } = await import(new URL('scan/index.js', dist).href);
  const scan = await scanMachine({ mode: 'live', root: '/', env: { HOME: homeDir }, home: homeDir, cwd: repo });
  const jobs = files.map((hostPath) => ({ hostPath }));

  // warm-up, and the correctness check
  const reference = runSha256sum(listFile);
  const expected = new Map(reference.stdout.trim().split('\n').map((line) => [line.slice(66), line.slice(0, 64)]));
  const ours = await hashFiles(jobs);
  const mismatches = files.filter((file, index) => ours[index].sha256 !== expected.get(file));
  if (mismatches.length > 0) throw new Error(`hashes differ from sha256sum for ${mismatches.length} files, e.g. ${mismatches[0]}`);
  await createManifest(scan, { hash: true });

  const times = { sha256sum: [], hashFiles: [], hashFiles1: [], createManifest: [] };
  let rssGrowth = 0;
  for (let run = 0; run < options.runs; run++) {
    times.sha256sum.push(runSha256sum(listFile).ms);
    const a = await withPeakRss(() => hashFiles(jobs));
    times.hashFiles.push(a.ms);
    const one = await withPeakRss(() => hashFiles(jobs, 1));
    times.hashFiles1.push(one.ms);
    const b = await withPeakRss(() => createManifest(scan, { hash: true }));
    times.createManifest.push(b.ms);
    rssGrowth = Math.max(rssGrowth, a.rssGrowth, one.rssGrowth, b.rssGrowth);
    if (b.value.hashing.bytes !== bytes) throw new Error(`createManifest hashed ${b.value.hashing.bytes} bytes, the tree has ${bytes}`);
  }
  const mbps = (ms) => bytes / 1024 ** 2 / (ms / 1000);
  const results = {
    files: files.length,
    bytes,
    cpus: (await import('node:os')).cpus().length,
    medianMs: Object.fromEntries(Object.entries(times).map(([name, list]) => [name, Math.round(median(list))])),
    mbPerSecond: Object.fromEntries(Object.entries(times).map(([name, list]) => [name, Math.round(mbps(median(list)))])),
    ratio: {
      hashFiles: +(median(times.sha256sum) / median(times.hashFiles)).toFixed(2),
      hashFilesConcurrency1: +(median(times.sha256sum) / median(times.hashFiles1)).toFixed(2),
      createManifest: +(median(times.sha256sum) / median(times.createManifest)).toFixed(2),
    },
    peakRssGrowthMb: +(rssGrowth / 1024 ** 2).toFixed(1),
  };
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    [
      `${files.length} files, ${(bytes / 1024 ** 3).toFixed(2)} GiB, ${results.cpus} CPUs, median of ${options.runs} warm runs`,
      `  sha256sum (xargs)         ${results.medianMs.sha256sum} ms  ${results.mbPerSecond.sha256sum} MB/s`,
      `  hashFiles (concurrency 4) ${results.medianMs.hashFiles} ms  ${results.mbPerSecond.hashFiles} MB/s  ratio ${results.ratio.hashFiles}x`,
      `  hashFiles (concurrency 1) ${results.medianMs.hashFiles1} ms  ${results.mbPerSecond.hashFiles1} MB/s  ratio ${results.ratio.hashFilesConcurrency1}x`,
      `  createManifest            ${results.medianMs.createManifest} ms  ${results.mbPerSecond.createManifest} MB/s  ratio ${results.ratio.createManifest}x (target >= ${MIN_RATIO}x)`,
      `  peak RSS growth ${results.peakRssGrowthMb} MB; every hash equals sha256sum's`,
      '',
    ].join('\n'),
  );
  if (options.check && (results.ratio.createManifest < MIN_RATIO || results.peakRssGrowthMb > MAX_RSS_GROWTH_MB)) {
    process.stderr.write(`FAIL: ratio ${results.ratio.createManifest} < ${MIN_RATIO} or RSS growth ${results.peakRssGrowthMb} MB > ${MAX_RSS_GROWTH_MB} MB\n`);
    process.exit(1);
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
