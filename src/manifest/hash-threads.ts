// Hashing on every core: this thread and up to availableParallelism() - 1 worker threads (hash-worker.ts) take
// batches of files from one queue until it is empty, each with hashFile's rules (hash.ts: O_NOFOLLOW, fstat,
// the expected size, sparse and too-big files recorded by size). Which thread hashes a file changes nothing
// in its outcome, and the outcomes come back in job order, so the manifest is the same on one thread or many.
//
// Small work stays on this thread: starting a worker costs ~25 ms here (a new V8 isolate loading hash.js),
// more than it saves below WORKERS_FROM. A worker that fails (it could not
// start, it died) hands its batches back to this thread, so the outcome is the same, only later.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProgressCounter } from '../progress.js';
import { BatchHasher, DEFAULT_CONCURRENCY, type HashJob, type HashOutcome } from './hash.js';

/**
 * Workers start only for work worth about 0.1 s on one thread: this many files, or this many bytes (the sizes
 * the scan saw), or a mix (files / files + bytes / bytes ≥ 1). Measured on a 2-core VM, a worker paid for
 * itself from ~12,000 small files or ~85 MiB; below that its start-up cost more than it saved.
 */
export const WORKERS_FROM = { files: 16_000, bytes: 128 * 1024 * 1024 };

/** A batch: at most this many files and (after the first file) this many bytes. Small, so the threads finish together. */
const BATCH_FILES = 256;
const BATCH_BYTES = 16 * 1024 * 1024;
/** Batches sent to a worker ahead of its replies, so it never waits for this thread (busy hashing its own). */
const IN_FLIGHT = 2;

export interface HashOnThreadsOptions {
  /** threads in all, this one included (default os.availableParallelism()); 1 hashes on this thread only */
  threads?: number;
  /** files open at once per thread (default 4) */
  concurrency?: number;
  /** when workers are worth starting (default WORKERS_FROM; tests and benchmarks lower it) */
  workersFrom?: { files: number; bytes: number };
  progress?: Pick<ProgressCounter, 'fileHashed'>;
  /** the worker's module (tests: one that fails); default the compiled hash-worker.js beside this module */
  workerFile?: URL;
}

/** What a worker receives, and what it sends back. */
export interface HashBatchRequest {
  id: number;
  jobs: HashJob[];
}
export interface HashBatchReply {
  id: number;
  outcomes: HashOutcome[];
}
export interface HashWorkerData {
  concurrency: number;
}

// Compiled beside this module; when running from the TypeScript sources (vitest) there is none, and
// everything is hashed on this thread.
const WORKER_FILE = new URL('./hash-worker.js', import.meta.url);

/** A compiled worker module is there (from the TypeScript sources, under vitest, there is none). */
export function workerModuleExists(url: URL): boolean {
  try {
    return fs.statSync(fileURLToPath(url)).isFile();
  } catch {
    return false;
  }
}

/**
 * Jobs by index: an array of them, or a list that makes each job when it is sent (100,000 jobs held at once
 * cost ~20 MB of paths and ids; made per batch they live no longer than the batch).
 */
export interface JobList {
  readonly length: number;
  /** the size the scan saw of job `index` (what the batches and the worker threshold weigh) */
  sizeAt(index: number): number | undefined;
  slice(start: number, end: number): HashJob[];
}

function jobListOf(jobs: readonly HashJob[] | JobList): JobList {
  if (!Array.isArray(jobs)) return jobs as JobList;
  const list = jobs as readonly HashJob[];
  return { length: list.length, sizeAt: (index) => list[index]?.expectedSize, slice: (start, end) => list.slice(start, end) };
}

/** How many worker threads the jobs are worth: 0 below the threshold, never more than batches to share. */
export function workersFor(jobs: readonly HashJob[] | JobList, options: Pick<HashOnThreadsOptions, 'threads' | 'workersFrom'> = {}): number {
  const list = jobListOf(jobs);
  const threads = Math.max(1, Math.floor(options.threads ?? os.availableParallelism()));
  if (threads === 1 || list.length < 2) return 0;
  const from = options.workersFrom ?? WORKERS_FROM;
  let bytes = 0;
  for (let index = 0; index < list.length; index++) bytes += list.sizeAt(index) ?? 0;
  const share = (value: number, limit: number): number => (limit <= 0 ? Infinity : value / limit);
  if (share(list.length, from.files) + share(bytes, from.bytes) < 1) return 0;
  return Math.min(threads - 1, list.length - 1);
}

/** The outcome of every job (in job order), and how many threads hashed them. */
export async function hashOnThreads(jobs: readonly HashJob[] | JobList, options: HashOnThreadsOptions = {}): Promise<{ outcomes: HashOutcome[]; threads: number }> {
  const outcomes = new Array<HashOutcome>(jobs.length);
  const { threads } = await hashEachOnThreads(jobs, (index, outcome) => (outcomes[index] = outcome), options);
  return { outcomes, threads };
}

/**
 * Hashes every job, handing each outcome to `onOutcome` (job index, outcome) as it comes, in no set order: a
 * caller that keeps the results its own compact way holds no array of 100,000 outcome objects. Resolves with
 * how many threads hashed them.
 */
export async function hashEachOnThreads(jobs: readonly HashJob[] | JobList, onOutcome: (index: number, outcome: HashOutcome) => void, options: HashOnThreadsOptions = {}): Promise<{ threads: number }> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const progress = options.progress;
  const local = new BatchHasher(concurrency);
  const workerFile = options.workerFile ?? WORKER_FILE;
  const list = jobListOf(jobs);
  const wanted = workersFor(list, options);
  if (wanted === 0 || !workerModuleExists(workerFile)) {
    // in batches, so the jobs of a list are made a batch at a time here too
    for (let start = 0; start < list.length; start += BATCH_FILES) {
      const results = await local.hash(list.slice(start, Math.min(list.length, start + BATCH_FILES)), progress);
      for (let i = 0; i < results.length; i++) onOutcome(start + i, results[i]!);
    }
    return { threads: 1 };
  }

  // the queue: batches not yet taken, from `next` on, and batches a failed worker handed back
  let next = 0;
  const handedBack: [number, number][] = [];
  const take = (): [number, number] | undefined => {
    const back = handedBack.pop();
    if (back) return back;
    if (next >= list.length) return undefined;
    const start = next;
    let bytes = list.sizeAt(start) ?? 0;
    let end = start + 1;
    while (end < list.length && end - start < BATCH_FILES && bytes + (list.sizeAt(end) ?? 0) <= BATCH_BYTES) bytes += list.sizeAt(end++) ?? 0;
    next = end;
    return [start, end];
  };
  const store = (start: number, results: readonly HashOutcome[]): void => {
    let hashed = 0;
    for (let i = 0; i < results.length; i++) {
      const outcome = results[i]!;
      onOutcome(start + i, outcome);
      if ('sha256' in outcome) hashed += 1;
    }
    if (hashed > 0) progress?.fileHashed(hashed);
  };

  // this thread wakes when a worker replies or fails: it may have batches to take over
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  let pending = 0; // batches out with workers

  const workers: Worker[] = [];
  let threads = 1;
  for (let n = 0; n < wanted; n++) {
    const data: HashWorkerData = { concurrency };
    const worker = new Worker(workerFile, { workerData: data });
    workers.push(worker);
    const out = new Map<number, [number, number]>();
    let alive = true;
    let replied = false;
    const send = (): void => {
      while (alive && out.size < IN_FLIGHT) {
        const batch = take();
        if (!batch) return;
        const id = batch[0];
        out.set(id, batch);
        pending += 1;
        const request: HashBatchRequest = { id, jobs: list.slice(batch[0], batch[1]) };
        worker.postMessage(request);
      }
    };
    const fail = (): void => {
      if (!alive) return;
      alive = false;
      for (const batch of out.values()) handedBack.push(batch);
      pending -= out.size;
      out.clear();
      poke();
    };
    worker.on('message', (reply: HashBatchReply) => {
      const batch = out.get(reply.id);
      if (!batch || !alive) return;
      out.delete(reply.id);
      pending -= 1;
      if (!replied) {
        replied = true;
        threads += 1;
      }
      store(batch[0], reply.outcomes);
      send();
      poke();
    });
    worker.on('error', fail);
    worker.on('exit', fail);
    send();
  }

  try {
    for (;;) {
      const batch = take();
      if (batch) {
        store(batch[0], await local.hash(list.slice(batch[0], batch[1])));
        // small files are read synchronously: let the workers' replies (and the progress timer) in
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      if (pending === 0) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate().catch(() => undefined)));
  }
  return { threads };
}
