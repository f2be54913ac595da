// node bench/million.mjs [--entries 1000000] [--check] [--bin FILE]: a state dir with a million entries (1,000 session dirs
// of 1,000 empty transcripts each), then the peak RSS and wall time of `verify --format json` on it, once with
// the default entry limit and once with `--max-entries 250000` (memory bounded by the limit, not the tree).
// With --check it exits 1 when the full scan's peak RSS exceeds 512 MB or the limited one is not smaller.
// --bin runs another build's launcher (bench/scale.mjs passes its own); default bin/resonix-migrate.js.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { outDirOf, parseOptions, repo } from './lib.mjs';

const MAX_RSS_MB = 512;
const LIMITED = 250_000;

const USAGE = 'usage: node bench/million.mjs [--entries 1000000] [--check] [--bin FILE]';
const { operands, entries, check, bin } = parseOptions(
  process.argv.slice(2),
  { '--entries': { key: 'entries', type: 'int', min: 1 }, '--check': { key: 'check', type: 'flag' }, '--bin': { key: 'bin', type: 'path' } },
  { entries: 1_000_000, check: false, bin: path.join(repo, 'bin', 'resonix-migrate.js') },
  USAGE,
);
if (operands.length > 0) throw new Error(USAGE);
const root = outDirOf('million');
const home = path.join(root, 'home/alice');
const state = path.join(home, '.resonix');
const marker = path.join(root, `.made-${entries}`);
if (!fs.existsSync(marker)) {
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(state, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(state, 'resonix.json'), JSON.stringify({ gateway: { mode: 'local' } }), { mode: 0o600 });
  const perDir = 1000;
  const started = Date.now();
  for (let d = 0; d * perDir < entries; d++) {
    const dir = path.join(state, 'agents', `agent-${d}`, 'sessions');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (let f = 0; f < perDir && d * perDir + f < entries; f++) fs.closeSync(fs.openSync(path.join(dir, `s-${f}.jsonl`), 'w', 0o600));
  }
  fs.writeFileSync(marker, '');
  console.log(`made ${entries} entries in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function verify(extra) {
  const args = [bin, 'verify', '--home', home, '--format', 'json', ...extra];
  const env = { PATH: process.env.PATH, TMPDIR: root };
  const started = Date.now();
  const run = time
    ? spawnSync(time, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30, env });
  const wallSeconds = (Date.now() - started) / 1000;
  if (run.status !== 0 && run.status !== 1) throw new Error(`verify failed (exit ${run.status}): ${run.stderr}`);
  const peakRssMB = time ? Math.round(Number(run.stderr.trim().split('\n').pop()) / 1024) : null;
  const report = JSON.parse(run.stdout);
  const listed = report.installs[0]?.files;
  return { args: extra.join(' ') || '(default limit)', listed, cut: report.problems.some((problem) => problem.code === 'ETOOMANY'), exit: run.status, wallSeconds, peakRssMB };
}

const full = verify([]);
const limited = verify(['--max-entries', String(LIMITED)]);
for (const result of [full, limited]) console.log(JSON.stringify(result));
if (full.peakRssMB !== null && full.listed > 0) {
  console.log(`~${Math.round(((full.peakRssMB - 45) * 1024 * 1024) / full.listed)} bytes of peak RSS per listed entry (above a ~45 MB base)`);
}
if (check) {
  const ok = full.peakRssMB !== null && full.peakRssMB <= MAX_RSS_MB && limited.peakRssMB < full.peakRssMB && limited.cut;
  console.log(`check: full scan ${full.peakRssMB} MB (limit ${MAX_RSS_MB} MB), limited scan ${limited.peakRssMB} MB: ${ok ? 'ok' : 'FAILED'}`);
  if (!ok) process.exitCode = 1;
}
