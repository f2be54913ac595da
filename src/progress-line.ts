// The one updating progress line on a terminal's stderr (CLI layer): `\r` + erase-line, then the counts; the
// same erase at the end. Written here rather than with a library: see the README ("Libraries, and why").
import { ProgressCounter } from './progress.js';

export interface ProgressStream {
  write: (text: string) => void;
  isTTY: boolean;
  /** the terminal's width; the line is cut to fit, so it never wraps (a wrapped line cannot be redrawn) */
  columns?: number;
}

export interface ProgressWanted {
  stream: Pick<ProgressStream, 'isTTY'>;
  env: Record<string, string | undefined>;
  quiet?: boolean;
  /** stdout carries a machine-readable report (JSON, SARIF, …): nothing else may go near it */
  machineReadableStdout?: boolean;
}

/** On a TTY only; never with CI set, --quiet, a dumb terminal, or a machine-readable report on stdout. */
export function progressWanted(options: ProgressWanted): boolean {
  const ci = options.env.CI;
  if (ci !== undefined && ci !== '' && ci !== 'false') return false;
  if (options.env.TERM === 'dumb') return false;
  return options.stream.isTTY && !options.quiet && !options.machineReadableStdout;
}

const ERASE = '\r\x1b[2K';

const count = (value: number): string => Math.round(value).toLocaleString('en-US');

function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let unit = 0;
  let amount = value;
  while (amount >= 1000 && unit < units.length - 1) {
    amount /= 1000;
    unit += 1;
  }
  return `${amount.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export interface ProgressCounts {
  entries: number;
  filesHashed: number;
  archiveBytes: number;
}

/**
 * The text of the line: what has been done, each with its rate, or undefined while nothing has. `seconds[k]`
 * is how long count k took: from the start to the last time it grew, so a finished walk keeps its rate.
 */
export function progressText(counts: ProgressCounts, seconds: ProgressCounts): string | undefined {
  const rate = (key: keyof ProgressCounts): number => (seconds[key] > 0 ? counts[key] / seconds[key] : 0);
  const parts: string[] = [];
  if (counts.entries > 0) parts.push(`${count(counts.entries)} ${counts.entries === 1 ? 'entry' : 'entries'} walked (${count(rate('entries'))}/s)`);
  if (counts.filesHashed > 0) parts.push(`${count(counts.filesHashed)} ${counts.filesHashed === 1 ? 'file' : 'files'} hashed (${count(rate('filesHashed'))}/s)`);
  if (counts.archiveBytes > 0) parts.push(`${bytes(counts.archiveBytes)} of archives read (${bytes(rate('archiveBytes'))}/s)`);
  return parts.length === 0 ? undefined : `resonix-migrate: ${parts.join(', ')}`;
}

export interface ProgressLine {
  /** what the scan code ticks */
  counter: ProgressCounter;
  /** erases the line if it is showing (before other output); the next update draws it again */
  clear: () => void;
  /** erases the line and stops updating it */
  stop: () => void;
}

export interface ProgressLineOptions {
  now?: () => number;
  /** default 1000 ms */
  delayMs?: number;
  intervalMs?: number;
  checkEvery?: number;
  /** redraw timer for work that does not tick (async hashing, reading a big file); default on, unref'd */
  timer?: boolean;
}

/** A counter whose updates draw one line on `stream`; `enabled: false` gives a counter that draws nothing. */
export function startProgressLine(stream: ProgressStream, enabled: boolean, options: ProgressLineOptions = {}): ProgressLine {
  let showing = false;
  let stopped = false;
  const last: ProgressCounts = { entries: 0, filesHashed: 0, archiveBytes: 0 };
  const seconds: ProgressCounts = { entries: 0, filesHashed: 0, archiveBytes: 0 };
  const draw = (counter: ProgressCounter): void => {
    if (stopped) return;
    const elapsed = counter.elapsedSeconds();
    for (const key of ['entries', 'filesHashed', 'archiveBytes'] as const) {
      if (counter[key] === last[key]) continue;
      last[key] = counter[key];
      seconds[key] = elapsed;
    }
    let text = progressText(counter, seconds);
    if (text === undefined) return;
    const width = stream.columns !== undefined && stream.columns > 1 ? stream.columns - 1 : undefined;
    if (width !== undefined && text.length > width) text = `${text.slice(0, Math.max(0, width - 1))}…`;
    stream.write(ERASE + text);
    showing = true;
  };
  const counter = new ProgressCounter({
    ...(options.now ? { now: options.now } : {}),
    ...(options.delayMs !== undefined ? { delayMs: options.delayMs } : {}),
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
    ...(options.checkEvery !== undefined ? { checkEvery: options.checkEvery } : {}),
    ...(enabled ? { onUpdate: draw } : {}),
  });
  const timer = enabled && options.timer !== false ? setInterval(() => counter.check(), options.intervalMs ?? 200) : undefined;
  timer?.unref();
  const clear = (): void => {
    if (!showing) return;
    stream.write(ERASE);
    showing = false;
  };
  return {
    counter,
    clear,
    stop: () => {
      if (timer) clearInterval(timer);
      clear();
      stopped = true;
    },
  };
}

/** The delay before the line shows: 1 s, or RESONIX_MIGRATE_PROGRESS_DELAY_MS (for tests only). */
export function progressDelayMs(env: Record<string, string | undefined>): number {
  const text = env.RESONIX_MIGRATE_PROGRESS_DELAY_MS;
  const value = text === undefined || !/^\d+$/.test(text) ? NaN : Number(text);
  return Number.isFinite(value) ? value : 1000;
}

/** What a command writes to: the CLI's io. */
export interface ProgressIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  stderrIsTTY?: boolean;
  stderrColumns?: number;
}

/**
 * The progress line of a long command, and an `io` that erases it before any other output. Off unless stderr
 * is a terminal, and with CI, --quiet, or a machine-readable report on stdout.
 */
export function progressFor<Io extends ProgressIo>(io: Io, options: { quiet?: boolean | undefined; machineReadableStdout: boolean }): { line: ProgressLine; io: Io } {
  const isTTY = io.stderrIsTTY === true;
  const enabled = progressWanted({ stream: { isTTY }, env: io.env, ...(options.quiet ? { quiet: true } : {}), machineReadableStdout: options.machineReadableStdout });
  const line = startProgressLine({ write: io.stderr, isTTY, ...(io.stderrColumns ? { columns: io.stderrColumns } : {}) }, enabled, { delayMs: progressDelayMs(io.env) });
  if (!enabled) return { line, io };
  const erasing = (write: (text: string) => void) => (text: string) => {
    line.clear();
    write(text);
  };
  return { line, io: { ...io, stdout: erasing(io.stdout), stderr: erasing(io.stderr) } };
}
