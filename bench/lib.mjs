// What the benchmark scripts share: where things are, their flags, medians, peak-RSS sampling and the
// synthetic transcript text.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** The file bench/generate.mjs leaves in a tree it made, with the parameters it was made with. */
export const MARKER = '.resonix-bench.json';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.dirname(benchDir);
/** bench/.out, or a dir inside it */
export const outDirOf = (...parts) => path.join(benchDir, '.out', ...parts);

/**
 * Flags as `spec` declares them: `{ '--gb': { key: 'gb', type: 'number', min: 0.01 } }`, with types
 * 'number', 'int', 'path' (resolved) and 'flag'. Unknown flags, missing or bad values, and -h throw `usage`.
 * Arguments that are no flag go to `options.operands`.
 */
export function parseOptions(argv, spec, defaults, usage) {
  const options = { ...defaults, operands: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') throw new Error(usage);
    if (!arg.startsWith('-')) {
      options.operands.push(arg);
      continue;
    }
    const flag = spec[arg];
    if (!flag) throw new Error(`unknown argument ${arg}\n${usage}`);
    if (flag.type === 'flag') {
      options[flag.key] = true;
      continue;
    }
    const text = argv[++i];
    if (text === undefined) throw new Error(`${arg} needs a value\n${usage}`);
    if (flag.type === 'path') {
      options[flag.key] = path.resolve(text);
      continue;
    }
    const number = Number(text);
    if (!Number.isFinite(number) || number < (flag.min ?? -Infinity)) throw new Error(`${arg}: not a number >= ${flag.min}: ${text}\n${usage}`);
    options[flag.key] = flag.type === 'int' ? Math.trunc(number) : number;
  }
  return options;
}

/** The flags of the data-volume benchmarks (hash.mjs, inspect.mjs): --gb, --runs, --dist, --regenerate, --check. */
export function parseVolumeOptions(argv, usage) {
  const options = parseOptions(
    argv,
    {
      '--gb': { key: 'gb', type: 'number', min: 0.01 },
      '--runs': { key: 'runs', type: 'int', min: 1 },
      '--dist': { key: 'dist', type: 'path' },
      '--regenerate': { key: 'regenerate', type: 'flag' },
      '--check': { key: 'check', type: 'flag' },
    },
    { gb: 1, runs: 3, regenerate: false, check: false, dist: path.join(repo, 'dist') },
    usage,
  );
  if (options.operands.length > 0) throw new Error(`unknown argument ${options.operands[0]}\n${usage}`);
  return options;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Runs `fn` in this process: its wall time, its value and how far the RSS rose above where it started. */
export async function withPeakRss(fn, sampleMs = 10) {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), sampleMs);
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value, rssGrowth: Math.max(peak, process.memoryUsage().rss) - before };
  } finally {
    clearInterval(timer);
  }
}

const WORDS = 'the gateway session agent reply message whatsapp telegram tool call result memory search file project note please thanks schedule meeting tomorrow summary draft email code review deploy error retry'.split(' ');

/** A transcript of about `bytes` bytes: JSON lines of words, ids and timestamps, the same for the same seed. */
export function transcript(bytes, seed) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const lines = [];
  let size = 0;
  while (size < bytes) {
    const words = [];
    for (let w = 0; w < 12 + (next() % 40); w++) words.push(WORDS[next() % WORDS.length]);
    const line = JSON.stringify({
      type: 'message',
      id: next().toString(36) + next().toString(36),
      timestamp: new Date(1_770_000_000_000 + (next() % 10_000_000_000)).toISOString(),
      message: { role: next() % 2 ? 'user' : 'assistant', content: [{ type: 'text', text: words.join(' ') }] },
    });
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

export function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The tree to measure: reused when a previous run made it with the same parameters. */
export function prepareTree(options, generate) {
  const marker = readMarker(options.dir);
  const same = marker && marker.sessions === options.sessions && marker.credentials === options.credentials && marker.mediaGb === options.mediaGb;
  if (same && !options.regenerate && fs.existsSync(marker.state)) {
    console.log(`reusing the tree in ${options.dir} (${marker.dirs + marker.files} entries; --regenerate to rebuild it)`);
    return { ...marker, reused: true };
  }
  let nonEmpty = false;
  try {
    nonEmpty = fs.readdirSync(options.dir).length > 0;
  } catch {
    nonEmpty = false;
  }
  // replace only a tree this benchmark made (it has the marker); never wipe someone's dir
  if (nonEmpty && !marker) throw new Error(`${options.dir} is not empty and was not made by bench/generate.mjs; pick another --dir`);
  console.log(`generating the tree in ${options.dir} …`);
  const made = generate({ dir: options.dir, sessions: options.sessions, credentials: options.credentials, mediaGb: options.mediaGb, force: nonEmpty }, (line) => console.log(line));
  return { ...readMarker(options.dir), reused: false, generateSeconds: made.seconds };
}

export function findTimeBinary() {
  const candidate = '/usr/bin/time';
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
  } catch {
    return undefined;
  }
  // BusyBox and BSD `time` lack -f/-o; GNU time has both
  const probe = spawnSync(candidate, ['-f', '%M', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? candidate : undefined;
}

/**
 * Runs a command with stdout to /dev/null, stderr captured; wall time from around the spawn. Under GNU
 * time when available (for both tools alike, so the wrapper's small cost is the same on both sides).
 */
export function timed(command, args, timeBinary, captureStdout = false, env = process.env, outDir = outDirOf()) {
  const rssFile = timeBinary ? path.join(outDir, `rss-${process.pid}.txt`) : undefined;
  const argv = timeBinary ? [timeBinary, ['-f', '%M %U %S', '-o', rssFile, command, ...args]] : [command, args];
  const devNull = captureStdout ? undefined : fs.openSync('/dev/null', 'w');
  const started = process.hrtime.bigint();
  const result = spawnSync(argv[0], argv[1], {
    env,
    stdio: ['ignore', captureStdout ? 'pipe' : devNull, 'pipe'],
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (devNull !== undefined) fs.closeSync(devNull);
  let rssKb;
  let cpuMs;
  if (rssFile) {
    // GNU time writes "Command exited with non-zero status N" before the format line on failure
    const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
    const [rss, user, system] = lines[lines.length - 1].split(' ').map(Number);
    fs.rmSync(rssFile, { force: true });
    if (Number.isFinite(rss)) rssKb = rss;
    if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user + system) * 1000;
  }
  if (result.error) throw result.error;
  return { ms, status: result.status, signal: result.signal, rssKb, cpuMs, stderr: result.stderr.toString(), stdout: captureStdout ? result.stdout.toString() : undefined };
}

