#!/usr/bin/env node
// Speed benchmark: resonix-migrate verify against `find -printf` (the floor of a metadata-only walk), with
// bench/floor-walk.mjs beside them: the least any Node walker must do (readdir + lstat), on 1 and 2 threads.
//   node bench/run.mjs [--dir D] [--sessions N] [--credentials N] [--media-gb G] [--runs 5] [--regenerate] [--check]
// Generates the tree with bench/generate.mjs (or reuses one made with the same parameters), runs each
// tool once to warm up, then alternates the two for --runs timed runs each and reports median wall times,
// their ratio and the peak RSS. Nothing is dropped from the page cache: both tools run warm.
// With --check it exits 1 when the ratio exceeds 1.5 or the peak RSS of verify exceeds 200 MB.
// Results go to bench/.out/results.json. Needs `npm run build` first (it runs bin/, which loads dist/).
// Both tools run with TMPDIR set to an empty dir of bench/.out: verify looks for backup archives in the
// temp dir, and whatever other programs left in /tmp (a 12 MB .tgz is enough) must not be measured.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from './generate.mjs';
import { benchDir, findTimeBinary, median, outDirOf, parseOptions, prepareTree, repo, timed } from './lib.mjs';

const MAX_RATIO = 1.5;
const MAX_RSS_MB = 200;
const USAGE = 'usage: node bench/run.mjs [--dir D] [--sessions 100000] [--credentials 3000] [--media-gb 2] [--runs 5] [--regenerate] [--check]';

const outDir = outDirOf();
const bin = path.join(repo, 'bin', 'resonix-migrate.js');

const parseArgs = (argv) => {
  const { operands, ...options } = parseOptions(
    argv,
    {
      '--dir': { key: 'dir', type: 'path' },
      '--sessions': { key: 'sessions', type: 'int', min: 0 },
      '--credentials': { key: 'credentials', type: 'int', min: 0 },
      '--media-gb': { key: 'mediaGb', type: 'number', min: 0 },
      '--runs': { key: 'runs', type: 'int', min: 1 },
      '--regenerate': { key: 'regenerate', type: 'flag' },
      '--check': { key: 'check', type: 'flag' },
    },
    { dir: path.join(outDir, 'tree'), sessions: 100_000, credentials: 3000, mediaGb: 2, runs: 5, regenerate: false, check: false },
    USAGE,
  );
  if (operands.length > 0) throw new Error(`unknown argument ${operands[0]}\n${USAGE}`);
  return options;
};

/** A word as a POSIX shell would need it, for the commands recorded in results.json. */
const shellWord = (word) => (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/\n/g, '\\n').replace(/'/g, `'\\''`)}'`);

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  fs.mkdirSync(outDir, { recursive: true });
  const tree = prepareTree(options, generate);
  const home = tree.home;
  const state = path.join(home, '.resonix');
  const timeBinary = findTimeBinary();
  // an empty temp dir, the same for both tools: nothing in the real /tmp gets measured
  const tmpDir = path.join(outDir, 'tmp');
  fs.rmSync(tmpDir, { recursive: true, force: true });
  fs.mkdirSync(tmpDir, { mode: 0o700 });
  const env = { ...process.env, TMPDIR: tmpDir };

  const tools = {
    find: { label: `find -printf`, command: 'find', args: [state, '-printf', '%m %U %s %p\n'], ok: (status) => status === 0 },
    // what any Node walker must do at the least (readdir + lstat, nothing kept), on one thread and on two
    floor: { label: 'node readdir+lstat', command: process.execPath, args: [path.join(benchDir, 'floor-walk.mjs'), state], ok: (status) => status === 0 },
    floor2: { label: 'node readdir+lstat, 2 threads', command: process.execPath, args: [path.join(benchDir, 'floor-walk.mjs'), state, '--threads', '2'], ok: (status) => status === 0 },
    ours: {
      label: 'resonix-migrate verify',
      command: process.execPath,
      args: [bin, 'verify', '--home', home, '--format', 'json'],
      // 0 = clean, 1 = findings; 2 (usage/internal error) or a signal is a failure
      ok: (status) => status === 0 || status === 1,
    },
  };
  const run = (name, captureStdout = false) => {
    const tool = tools[name];
    const result = timed(tool.command, tool.args, timeBinary, captureStdout, env, outDir);
    if (!tool.ok(result.status)) {
      throw new Error(`${tool.label} failed (exit ${result.status ?? result.signal}):\n${[tool.command, ...tool.args].join(' ')}\n${result.stderr}`);
    }
    return result;
  };

  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}`);
  console.log('cache: nothing is dropped; both tools run with a warm cache after one warm-up run each');
  const load = os.loadavg()[0];
  console.log(`load average ${load.toFixed(2)} on ${os.cpus().length} CPUs${load > os.cpus().length / 2 ? ': a busy machine, expect noisy wall times' : ''}`);
  // warm-up: one each, not timed; verify's output is kept once to check that it saw the whole tree
  run('find');
  run('floor');
  run('floor2');
  const warm = run('ours', true);
  let seen;
  try {
    seen = JSON.parse(warm.stdout).installs?.find((install) => install.stateDir === state)?.files;
  } catch {
    seen = undefined;
  }
  const expected = tree.dirs + tree.files;
  if (seen !== expected) console.log(`warning: verify reported ${seen ?? 'no'} entries for ${state}, the generator made ${expected}`);

  const samples = { find: [], floor: [], floor2: [], ours: [] };
  for (let i = 0; i < options.runs; i++) {
    // alternate, so drift on the machine hits all alike
    for (const name of Object.keys(samples)) {
      const result = run(name);
      samples[name].push(result);
      if (process.stdout.isTTY) process.stdout.write(`\rrun ${i + 1}/${options.runs}`);
    }
  }
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');

  const summary = (name) => {
    const list = samples[name];
    const rss = list.map((sample) => sample.rssKb).filter((value) => value !== undefined);
    const cpu = list.map((sample) => sample.cpuMs).filter((value) => value !== undefined);
    return {
      medianMs: Math.round(median(list.map((sample) => sample.ms)) * 10) / 10,
      // user + system CPU time (GNU time, 10 ms resolution): steadier than wall time on a busy machine
      medianCpuMs: cpu.length === list.length ? Math.round(median(cpu)) : null,
      samplesMs: list.map((sample) => Math.round(sample.ms * 10) / 10),
      exitCodes: [...new Set(list.map((sample) => sample.status))],
      peakRssKb: rss.length > 0 ? Math.max(...rss) : null,
    };
  };
  const find = summary('find');
  const floor = summary('floor');
  const floor2 = summary('floor2');
  const ours = summary('ours');
  const ratioOf = (a, b) => Math.round((a.medianMs / b.medianMs) * 100) / 100;
  const ratio = ratioOf(ours, find);
  const floorRatio = ratioOf(floor, find);
  const floor2Ratio = ratioOf(floor2, find);
  const peakRssMb = ours.peakRssKb === null ? null : Math.round((ours.peakRssKb / 1024) * 10) / 10;
  const ratioOk = ratio <= MAX_RATIO;
  const cpuRatio = find.medianCpuMs && ours.medianCpuMs !== null ? Math.round((ours.medianCpuMs / find.medianCpuMs) * 100) / 100 : null;
  const rssOk = peakRssMb === null ? null : peakRssMb <= MAX_RSS_MB;

  const cpuText = (ms) => (ms === null ? 'n/a' : `${ms} ms`);
  const mb = (kb) => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
  const rows = [
    ['tool', 'median wall', 'wall of each run (ms)', 'median CPU', 'peak RSS'],
    [tools.find.label, `${find.medianMs.toFixed(1)} ms`, find.samplesMs.join(' '), cpuText(find.medianCpuMs), mb(find.peakRssKb)],
    ...[
      ['floor', floor],
      ['floor2', floor2],
      ['ours', ours],
    ].map(([name, item]) => [tools[name].label, `${item.medianMs.toFixed(1)} ms`, item.samplesMs.join(' '), cpuText(item.medianCpuMs), mb(item.peakRssKb)]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  console.log(`tree: ${state}: ${expected} entries (${tree.dirs} dirs, ${tree.files} files), ${tree.sessions} sessions, ${(tree.apparentBytes / 1024 ** 3).toFixed(2)} GB apparent`);
  console.log(`${options.runs} timed runs each\n`);
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  '));
  console.log(`\nratio verify/find (median wall): ${ratio.toFixed(2)} (limit ${MAX_RATIO}) ${ratioOk ? 'ok' : 'OVER'}`);
  if (cpuRatio !== null) console.log(`ratio verify/find (median CPU, for information): ${cpuRatio.toFixed(2)}`);
  console.log(`floor: a bare Node readdir+lstat walk takes ${floorRatio.toFixed(2)} × find (${floor2Ratio.toFixed(2)} × on 2 threads); verify takes ${ratioOf(ours, floor).toFixed(2)} × that one-thread floor`);
  if (peakRssMb === null) console.log(`peak RSS of verify: could not measure (no GNU /usr/bin/time; on Debian: apt-get install time)`);
  else console.log(`peak RSS of verify: ${peakRssMb.toFixed(1)} MB (limit ${MAX_RSS_MB} MB) ${rssOk ? 'ok' : 'OVER'}`);

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.platform()} ${os.release()}`,
    cache: 'warm: nothing dropped from the page cache; one untimed warm-up run of each tool first',
    runs: options.runs,
    tree: {
      dir: options.dir,
      home,
      stateDir: state,
      entries: expected,
      dirs: tree.dirs,
      files: tree.files,
      sessions: tree.sessions,
      credentials: tree.credentials,
      mediaGb: tree.mediaGb,
      apparentBytes: tree.apparentBytes,
      reused: tree.reused,
      entriesSeenByVerify: seen ?? null,
    },
    find: { command: ['find', ...tools.find.args].map(shellWord).join(' '), ...find },
    floor: { command: ['node', ...tools.floor.args.map((arg) => (arg.startsWith('/') ? path.relative(repo, arg) : arg))].map(shellWord).join(' '), ...floor, ratioToFind: floorRatio },
    floor2: { command: ['node', ...tools.floor2.args.map((arg) => (arg.startsWith('/') ? path.relative(repo, arg) : arg))].map(shellWord).join(' '), ...floor2, ratioToFind: floor2Ratio },
    ours: { command: ['node', path.relative(repo, bin), ...tools.ours.args.slice(1)].map(shellWord).join(' '), ...ours, peakRssMb, ratioToFloor: ratioOf(ours, floor) },
    rssMeasuredWith: timeBinary ? `${timeBinary} -f '%M %U %S'` : null,
    tmpDir,
    ratio,
    cpuRatio,
    loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
    limits: { ratio: MAX_RATIO, peakRssMb: MAX_RSS_MB },
    pass: { ratio: ratioOk, peakRss: rssOk },
    checked: options.check,
  };
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${path.relative(process.cwd(), path.join(outDir, 'results.json')) || path.join(outDir, 'results.json')}`);
  if (options.check && (!ratioOk || rssOk === false)) return 1;
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
