// How far long work has got: entries walked, files hashed, archive bytes read. The scan code ticks it; it
// draws nothing itself. Ticking is cheap on purpose (a walk ticks 100,000 times): a few integer additions,
// no allocation, and a look at the clock only every `checkEvery` ticks. When the clock says an update is
// due, it calls `onUpdate` synchronously — the walk is synchronous, so a timer could not fire during it.
// The CLI (src/progress-line.ts) decides whether and how to show it.

export interface ProgressCounterOptions {
  /** milliseconds, monotonic; default performance.now */
  now?: () => number;
  /** the first update is due this long after the start (nothing is shown for short work) */
  delayMs?: number;
  /** later updates at most this often */
  intervalMs?: number;
  /** look at the clock once every this many ticks */
  checkEvery?: number;
  /** called when an update is due, with the counter itself */
  onUpdate?: (counter: ProgressCounter) => void;
}

export class ProgressCounter {
  /** inventory entries walked (src/scan/walk.ts) */
  entries = 0;
  /** files hashed (src/manifest/hash.ts and its worker threads) */
  filesHashed = 0;
  /** bytes of backup archives read from their files (src/archive/list.ts) */
  archiveBytes = 0;
  readonly startedAt: number;
  private ticks = 0;
  private dueAt: number;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly checkEvery: number;
  private readonly onUpdate: ((counter: ProgressCounter) => void) | undefined;

  constructor(options: ProgressCounterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.intervalMs = options.intervalMs ?? 200;
    this.checkEvery = Math.max(1, options.checkEvery ?? 512);
    this.onUpdate = options.onUpdate;
    this.startedAt = this.now();
    this.dueAt = this.startedAt + (options.delayMs ?? 1000);
  }

  /** One inventory entry listed. */
  entryWalked(): void {
    this.entries += 1;
    if (++this.ticks >= this.checkEvery) this.check();
  }

  /** One file hashed, or `count` of them (a worker thread reports a batch at once). */
  fileHashed(count = 1): void {
    this.filesHashed += count;
    this.ticks += count;
    if (this.ticks >= this.checkEvery) this.check();
  }

  /** `bytes` more of an archive read (one call per chunk, not per byte). */
  archiveRead(bytes: number): void {
    this.archiveBytes += bytes;
    if (++this.ticks >= this.checkEvery) this.check();
  }

  /** Seconds since the start. */
  elapsedSeconds(): number {
    return (this.now() - this.startedAt) / 1000;
  }

  /** Looks at the clock now (a timer calls this between ticks, e.g. while async hashing waits). */
  check(): void {
    this.ticks = 0;
    const now = this.now();
    if (now < this.dueAt) return;
    this.dueAt = now + this.intervalMs;
    this.onUpdate?.(this);
  }
}
