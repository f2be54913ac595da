#!/usr/bin/env node
// Every row of issue #13's table in one command: verify, snapshot and verify --against on the benchmark tree,
// each paired with what it is measured against, plus verify's peak RSS at a million entries.
//   node bench/scale.mjs [--check] [--entries 100000] [--runs 5] [--skip-million] [--million-entries 1000000]
//                        [--dir D] [--bin FILE] [--regenerate]
// --entries is the number of sessions of the bench/generate.mjs tree (100,000 sessions make 103,762 entries;
// 3,000 credentials and 2 GB of sparse media as bench/run.mjs makes it). One untimed warm-up run of each
// command, then --runs rounds in which all of them run one after another (paired: drift on the machine hits
// all alike); medians of wall time, peak RSS from GNU time. The million-entry row runs bench/million.mjs
// (slow: it makes 1,000,000 files the first time and scans them twice); --skip-million leaves it out, and
// then the row says "skipped" and --check cannot pass it.
// --check exits 1 when any row is outside its target (or could not be measured). --bin runs another build,
// e.g. a copy of main's (bin/ beside its dist/). Results: bench/.out/scale.json. Needs `npm run build` first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { generate } from './generate.mjs';
import { benchDir, findTimeBinary, median, outDirOf, parseOptions, prepareTree, repo, timed } from './lib.mjs';

const USAGE =
  'usage: node bench/scale.mjs [--check] [--entries 100000] [--runs 5] [--skip-million] [--million-entries 1000000] [--dir D] [--bin FILE] [--regenerate]';
const MIB = 1024 * 1024;

/** The rows of issue #13, with their targets. `value` gets the measured number; `max`/`under` the limit. */
const ROWS = [
  { id: 'verify', label: '`verify --format json` vs `find -printf \'%m %U %s %p\\n\'`', unit: '×', max: 2.5 },
  { id: 'verifyFloor', label: '`verify --format json` vs the one-thread Node floor (`bench/floor-walk.mjs`)', unit: '×', max: 1.5 },
  { id: 'snapshot', label: '`snapshot --out m.json` vs `find … -size -64M -print0 | xargs -0 sha256sum`', unit: '×', max: 1.5 },
  { id: 'snapshotRss', label: '`snapshot` peak RSS', unit: 'MiB', under: 200 },
  { id: 'manifestSize', label: 'manifest size', unit: 'MiB', max: 10 },
  { id: 'against', label: '`verify --against m.json` vs plain `verify`', unit: '×', max: 1.5 },
  { id: 'againstRss', label: '`verify --against` peak RSS', unit: 'MiB', under: 200 },
  { id: 'millionRss', label: '`verify` peak RSS at 1M entries (`bench/million.mjs`)', unit: 'MB', max: 250 },
];

function parseArgs(argv) {
  const { operands, ...options } = parseOptions(
    argv,
    {
      '--check': { key: 'check', type: 'flag' },
      '--entries': { key: 'sessions', type: 'int', min: 1 },
      '--runs': { key: 'runs', type: 'int', min: 1 },
      '--skip-million': { key: 'skipMillion', type: 'flag' },
      '--million-entries': { key: 'millionEntries', type: 'int', min: 1 },
      '--dir': { key: 'dir', type: 'path' },
      '--bin': { key: 'bin', type: 'path' },
      '--regenerate': { key: 'regenerate', type: 'flag' },
    },
    {
      check: false,
      sessions: 100_000,
      runs: 5,
      skipMillion: false,
      millionEntries: 1_000_000,
      dir: outDirOf('tree'),
      bin: path.join(repo, 'bin', 'resonix-migrate.js'),
      regenerate: false,
    },
    USAGE,
  );
  if (operands.length > 0) throw new Error(`unknown argument ${operands[0]}\n${USAGE}`);
  return { ...options, credentials: 3000, mediaGb: 2 };
}

const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(options.bin)) throw new Error(`${options.bin} is missing`);
  if (options.bin === path.join(repo, 'bin', 'resonix-migrate.js') && !fs.existsSync(path.join(repo, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const outDir = outDirOf('scale');
  fs.mkdirSync(outDir, { recursive: true });
  const tree = prepareTree(options, generate);
  const home = tree.home;
  const state = path.join(home, '.resonix');
  const timeBinary = findTimeBinary();
  if (!timeBinary) console.log('warning: no GNU /usr/bin/time (apt-get install time): peak RSS cannot be measured');
  // an empty temp dir for every command: verify looks for backups in the temp dir (see bench/run.mjs)
  const tmpDir = path.join(outDir, 'tmp');
  fs.rmSync(tmpDir, { recursive: true, force: true });
  fs.mkdirSync(tmpDir, { mode: 0o700 });
  const env = { ...process.env, TMPDIR: tmpDir };
  // the manifest verify --against reads (made in the warm-up), and the one each timed snapshot writes
  const manifest = path.join(outDir, 'm.json');
  const scratch = path.join(outDir, 'm-timed.json');
  const node = process.execPath;
  const verifyOk = (status) => status === 0 || status === 1;
  const tools = {
    find: { label: 'find -printf', command: 'find', args: [state, '-printf', '%m %U %s %p\n'], ok: (status) => status === 0 },
    floor: { label: 'node readdir+lstat (floor)', command: node, args: [path.join(benchDir, 'floor-walk.mjs'), state], ok: (status) => status === 0 },
    verify: { label: 'verify --format json', command: node, args: [options.bin, 'verify', '--home', home, '--format', 'json'], ok: verifyOk },
    sha256sum: {
      label: 'find -size -64M | xargs sha256sum',
      command: 'sh',
      args: ['-c', 'find "$1" -type f -size -64M -print0 | xargs -0 sha256sum', 'sh', state],
      ok: (status) => status === 0,
    },
    // for information, no target: on main snapshot also hashes files of 64 MiB and more (the sparse media)
    sha256sumAll: { label: 'find -type f | xargs sha256sum', command: 'sh', args: ['-c', 'find "$1" -type f -print0 | xargs -0 sha256sum', 'sh', state], ok: (status) => status === 0 },
    snapshot: { label: 'snapshot --out', command: node, args: [options.bin, 'snapshot', '--home', home, '--out', scratch], ok: (status) => status === 0 },
    against: { label: 'verify --against m.json', command: node, args: [options.bin, 'verify', '--home', home, '--format', 'json', '--against', manifest], ok: verifyOk },
  };
  const run = (name, captureStdout = false) => {
    const tool = tools[name];
    const result = timed(tool.command, tool.args, timeBinary, captureStdout, env, outDir);
    if (!tool.ok(result.status)) throw new Error(`${tool.label} failed (exit ${result.status ?? result.signal}):\n${[tool.command, ...tool.args].join(' ')}\n${result.stderr}`);
    return result;
  };

  const loadStart = os.loadavg();
  console.log(`node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}`);
  console.log(`load average ${loadStart.map((value) => value.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs${loadStart[0] > os.cpus().length / 2 ? ': a busy machine, expect noisy wall times' : ''}`);
  console.log(`bin: ${path.relative(process.cwd(), options.bin) || options.bin}; tree: ${state}: ${tree.dirs + tree.files} entries`);

  // warm-up, untimed: also makes the manifest verify --against reads, and checks what verify saw
  run('snapshot');
  fs.copyFileSync(scratch, manifest);
  const written = fs.readFileSync(manifest);
  // snapshot writes gzip'd JSON; a build from before that wrote it plain (--bin)
  const warmSnapshot = JSON.parse((written[0] === 0x1f && written[1] === 0x8b ? zlib.gunzipSync(written) : written).toString('utf8'));
  const hashedBySnapshot = warmSnapshot.hashing?.files ?? null;
  const hashedBySha256sum = run('sha256sum', true).stdout.split('\n').filter(Boolean).length;
  run('find');
  run('floor');
  const warm = run('verify', true);
  let seen;
  try {
    seen = JSON.parse(warm.stdout).installs?.find((install) => install.stateDir === state)?.files;
  } catch {
    seen = undefined;
  }
  if (seen !== tree.dirs + tree.files) console.log(`warning: verify reported ${seen ?? 'no'} entries for ${state}, the generator made ${tree.dirs + tree.files}`);
  const warmAgainst = run('against', true);
  console.log(`snapshot hashed ${hashedBySnapshot} files, sha256sum ${hashedBySha256sum}; verify --against exit ${warmAgainst.status}`);

  const samples = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const name of Object.keys(tools)) samples[name].push(run(name));
    console.log(`round ${i + 1}/${options.runs} done (load ${os.loadavg()[0].toFixed(2)})`);
  }
  const summary = (name) => {
    const list = samples[name];
    const rss = list.map((sample) => sample.rssKb).filter((value) => value !== undefined);
    return {
      command: [tools[name].command === node ? 'node' : tools[name].command, ...tools[name].args].join(' '),
      medianMs: round(median(list.map((sample) => sample.ms)), 1),
      samplesMs: list.map((sample) => round(sample.ms, 1)),
      medianCpuMs: list.every((sample) => sample.cpuMs !== undefined) ? Math.round(median(list.map((sample) => sample.cpuMs))) : null,
      peakRssMiB: rss.length > 0 ? round(Math.max(...rss) / 1024, 1) : null,
      exitCodes: [...new Set(list.map((sample) => sample.status))],
    };
  };
  const measured = Object.fromEntries(Object.keys(tools).map((name) => [name, summary(name)]));
  const ratio = (a, b) => round(measured[a].medianMs / measured[b].medianMs);

  let million = { skipped: true };
  if (!options.skipMillion) {
    console.log(`bench/million.mjs --entries ${options.millionEntries} …`);
    const child = spawnSync(node, [path.join(benchDir, 'million.mjs'), '--entries', String(options.millionEntries), '--bin', options.bin], { encoding: 'utf8', env, maxBuffer: 64 * MIB });
    if (child.status !== 0) throw new Error(`bench/million.mjs failed (exit ${child.status}):\n${child.stderr}`);
    const lines = child.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    million = { skipped: false, entries: options.millionEntries, full: lines[0], limited: lines[1] };
  }

  const values = {
    verify: ratio('verify', 'find'),
    verifyFloor: ratio('verify', 'floor'),
    snapshot: ratio('snapshot', 'sha256sum'),
    snapshotAll: ratio('snapshot', 'sha256sumAll'),
    snapshotRss: measured.snapshot.peakRssMiB,
    manifestSize: round(fs.statSync(manifest).size / MIB, 1),
    against: ratio('against', 'verify'),
    againstRss: measured.against.peakRssMiB,
    millionRss: million.skipped ? null : (million.full?.peakRssMB ?? null),
  };
  console.log(`snapshot vs sha256sum of every regular file (for information, no target): ${values.snapshotAll} ×`);
  const rows = ROWS.map((row) => {
    const value = values[row.id];
    const pass = value === null ? null : row.max !== undefined ? value <= row.max : value < row.under;
    return { ...row, value, pass, target: row.max !== undefined ? `≤ ${row.max} ${row.unit}` : `< ${row.under} ${row.unit}` };
  });

  const loadEnd = os.loadavg();
  console.log(`\n${options.runs} paired rounds; load average ${loadEnd.map((value) => value.toFixed(2)).join(' ')} at the end\n`);
  const table = [['command', 'median wall', 'each run (ms)', 'median CPU', 'peak RSS']];
  for (const [name, item] of Object.entries(measured)) {
    table.push([tools[name].label, `${item.medianMs.toFixed(0)} ms`, item.samplesMs.map((ms) => ms.toFixed(0)).join(' '), item.medianCpuMs === null ? 'n/a' : `${item.medianCpuMs} ms`, item.peakRssMiB === null ? 'n/a' : `${item.peakRssMiB} MiB`]);
  }
  const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
  for (const line of table) console.log(line.map((cell, column) => cell.padEnd(widths[column])).join('  '));
  console.log('');
  const rowWidth = Math.max(...rows.map((row) => row.label.length));
  for (const row of rows) {
    const value = row.value === null ? (row.id === 'millionRss' && million.skipped ? 'skipped' : 'n/a') : `${row.value} ${row.unit}`;
    console.log(`${row.label.padEnd(rowWidth)}  ${value.padStart(10)}  target ${row.target.padEnd(10)}  ${row.pass === null ? '—' : row.pass ? 'ok' : 'OVER'}`);
  }

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: { start: loadStart.map((value) => round(value)), end: loadEnd.map((value) => round(value)) },
    cache: 'warm: nothing dropped from the page cache; one untimed warm-up run of each command first',
    runs: options.runs,
    bin: options.bin,
    tree: { dir: options.dir, stateDir: state, entries: tree.dirs + tree.files, dirs: tree.dirs, files: tree.files, sessions: tree.sessions, entriesSeenByVerify: seen ?? null },
    hashed: { bySnapshot: hashedBySnapshot, bytesBySnapshot: warmSnapshot.hashing?.bytes ?? null, bySha256sum: hashedBySha256sum },
    snapshotVsSha256sumOfEveryFile: values.snapshotAll,
    manifestBytes: fs.statSync(manifest).size,
    rssMeasuredWith: timeBinary ? `${timeBinary} -f '%M %U %S'` : null,
    commands: measured,
    million,
    rows: rows.map(({ id, label, unit, value, target, pass }) => ({ id, label, unit, value, target, pass })),
    checked: options.check,
  };
  const file = path.join(outDirOf(), 'scale.json');
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), file) || file}`);
  if (options.check) {
    const failed = rows.filter((row) => row.pass !== true);
    console.log(failed.length === 0 ? 'check: every row within its target' : `check: ${failed.length} of ${rows.length} rows outside their target or not measured: ${failed.map((row) => row.id).join(', ')}`);
    return failed.length === 0 ? 0 : 1;
  }
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
