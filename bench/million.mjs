// node bench/million.mjs [--entries 1000000]: a state dir with a million entries (1,000 session dirs of
// 1,000 empty transcripts each), then the peak RSS and wall time of `verify --format json` on it.
// Memory grows with the entry count (one inventory record each); the walk stops at 2,000,000 entries.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const entries = Number(argv[argv.indexOf('--entries') + 1] || 1_000_000);
const root = path.resolve('bench/.out/million');
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
const args = ['bin/resonix-migrate.js', 'verify', '--home', home, '--format', 'json'];
const started = Date.now();
const run = time
  ? spawnSync(time, ['-f', '%M', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env: { PATH: process.env.PATH, TMPDIR: root } })
  : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { PATH: process.env.PATH, TMPDIR: root } });
const wall = (Date.now() - started) / 1000;
const rssKb = time ? Number(run.stderr.trim().split('\n').pop()) : NaN;
const report = JSON.parse(run.stdout);
console.log(JSON.stringify({ entries: report.installs[0]?.files, exit: run.status, wallSeconds: wall, peakRssMB: Math.round(rssKb / 1024) }));
void execFileSync;
