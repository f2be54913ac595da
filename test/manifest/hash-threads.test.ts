// Hashing on worker threads gives what one thread gives: the same outcome for every file and the same
// manifest, with the same files withheld, recorded by size or left unread. A worker runs compiled JS, so this
// uses the built dist/ (`npm run build`); from the TypeScript sources everything is hashed on one thread.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as HashModule from '../../src/manifest/hash.js';
import type * as ThreadsModule from '../../src/manifest/hash-threads.js';
import type * as SnapshotModule from '../../src/manifest/snapshot.js';
import { ProgressCounter } from '../../src/progress.js';
import { scanMachine } from '../../src/scan/index.js';
import { loadScenario, materialise, REPO_ROOT, type Materialised } from '../helpers/scenario.js';

const DIST = path.join(REPO_ROOT, 'dist');
const built = fs.existsSync(path.join(DIST, 'manifest', 'hash-worker.js'));
const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(DIST, file)).href)) as T;

let m: Materialised;
let hash: typeof HashModule;
let threads: typeof ThreadsModule;
let snapshot: typeof SnapshotModule;
const EVERYWHERE = { files: 0, bytes: 0 };

beforeAll(async () => {
  if (!built) return;
  [hash, threads, snapshot] = await Promise.all([
    load<typeof HashModule>('manifest/hash.js'),
    load<typeof ThreadsModule>('manifest/hash-threads.js'),
    load<typeof SnapshotModule>('manifest/snapshot.js'),
  ]);
  const scenario = await loadScenario('healthy-file-2026.5');
  // enough files for many batches on every thread, and each kind of outcome: hashed by a synchronous and an
  // asynchronous read, withheld (secret), unread (sparse, FIFO), a symlink (no hash), an empty file
  for (let i = 0; i < 1200; i++) {
    scenario.entries.push({ path: `{home}/.resonix/agents/main/sessions/s-${i}.jsonl`, mode: '0600', content: `{"n":${i}}\n`.repeat(1 + (i % 7)) });
  }
  scenario.entries.push(
    { path: '{home}/.resonix/media/inbound/photo.bin', mode: '0600', content: 'jpeg', size: 600 * 1024 },
    { path: '{home}/.resonix/media/inbound/holes.bin', type: 'sparse', size: 100 * 1024 * 1024, mode: '0600' },
    { path: '{home}/.resonix/agents/main/sessions/pipe', type: 'fifo', mode: '0600' },
    { path: '{home}/.resonix/agents/main/sessions/latest.jsonl', target: 's-1.jsonl' },
    { path: '{home}/.resonix/credentials/telegram-token.json', mode: '0600', content: '{"t":"123456:abcdefghijklmnop"}' },
    { path: '{home}/.resonix/agents/main/sessions/empty.jsonl', mode: '0600', content: '' },
  );
  m = await materialise(scenario, { live: true });
  // a second name of a session file (hashed once, on whichever thread) and of a credential (withheld)
  const sessions = path.join(m.home, '.resonix/agents/main/sessions');
  fs.linkSync(path.join(sessions, 's-0.jsonl'), path.join(sessions, 'z-same-as-s-0.jsonl'));
  fs.linkSync(path.join(m.home, '.resonix/credentials/telegram-token.json'), path.join(sessions, 'z-token.jsonl'));
});

afterAll(async () => {
  await m?.cleanup();
});

const scan = () => scanMachine({ mode: 'live', root: '/', env: { ...m.env, TMPDIR: m.path('tmp') }, home: m.home, cwd: m.root });

describe.skipIf(!built)('hashing on worker threads (needs npm run build)', () => {
  it('the same outcome for every file as one thread, in job order, and the worker really hashed', async () => {
    const root = path.join(m.home, '.resonix');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else files.push(full);
      }
    };
    walk(root);
    // FIFOs and symlinks too: the hasher refuses them the same way on every thread
    const jobs = files.sort().map((file) => ({ hostPath: file, expectedSize: fs.lstatSync(file).size }));
    jobs.push({ hostPath: path.join(root, 'gone.jsonl'), expectedSize: 3 }, { hostPath: jobs[0]!.hostPath, expectedSize: jobs[0]!.expectedSize + 1 });
    // not the inode the snapshot saw: changed, on a worker too
    jobs.push({ hostPath: jobs[1]!.hostPath, expectedSize: jobs[1]!.expectedSize, expectedId: '0:0' } as (typeof jobs)[number]);
    const one = await hash.hashFiles(jobs);
    const counter = new ProgressCounter();
    const many = await threads.hashOnThreads(jobs, { threads: 2, workersFrom: EVERYWHERE, progress: counter });
    expect(many.threads).toBe(2);
    expect(many.outcomes).toEqual(one);
    const kinds = new Set(one.map((outcome) => ('sha256' in outcome ? 'sha256' : outcome.skipped)));
    expect([...kinds].sort()).toEqual(['changed', 'not-regular', 'sha256', 'sparse', 'unreadable']);
    expect(counter.filesHashed).toBe(one.filter((outcome) => 'sha256' in outcome).length);
  });

  it('createManifest writes the same manifest on one thread and on two', async () => {
    const scanned = await scan();
    const now = new Date('2026-12-02T10:00:00.000Z');
    const single = await snapshot.createManifest(scanned, { hash: true, now, threads: 1 });
    const counter = new ProgressCounter();
    const double = await snapshot.createManifest(scanned, { hash: true, now, threads: 2, workersFrom: EVERYWHERE, progress: counter });
    expect(single.hashing.files).toBeGreaterThan(1200);
    expect(single.hashing.skipped).toMatchObject({ secret: expect.any(Number), sparse: 1 });
    expect(single.hashing.skipped.secret).toBeGreaterThan(0);
    expect(JSON.stringify(double)).toBe(JSON.stringify(single));
    expect(counter.filesHashed).toBe(single.hashing.files);
    const sessions = new Map(single.machine.homes[0]!.installs[0]!.inventory.entries.map((item) => [item.path, item]));
    expect(sessions.get('agents/main/sessions/z-same-as-s-0.jsonl')!.sha256).toBe(sessions.get('agents/main/sessions/s-0.jsonl')!.sha256);
    expect(sessions.get('agents/main/sessions/z-token.jsonl')!.hashSkipped).toBe('secret');
    // and so does hashForBaseline, which verify --against uses
    const here = await snapshot.hashForBaseline(scanned.machine, single.machine, { threads: 1 });
    const hereOnTwo = await snapshot.hashForBaseline(scanned.machine, single.machine, { threads: 2, workersFrom: EVERYWHERE });
    expect(JSON.stringify(hereOnTwo)).toBe(JSON.stringify(here));
  });

  it('a worker that cannot start, or dies halfway, hands its batches back: the same outcomes, from this thread', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-hash-threads-'));
    try {
      const broken = path.join(dir, 'broken.mjs');
      fs.writeFileSync(broken, "throw new Error('no worker today');\n");
      // hashes its first batch, then exits with the second one unanswered
      const dying = path.join(dir, 'dying.mjs');
      const real = pathToFileURL(path.join(DIST, 'manifest', 'hash.js')).href;
      fs.writeFileSync(
        dying,
        `import { parentPort } from 'node:worker_threads';\nimport { BatchHasher } from ${JSON.stringify(real)};\nconst hasher = new BatchHasher(4);\nlet seen = 0;\n` +
          `parentPort.on('message', async (request) => { if (++seen > 1) process.exit(3); parentPort.postMessage({ id: request.id, outcomes: await hasher.hash(request.jobs) }); });\n`,
      );
      const sessions = path.join(m.home, '.resonix', 'agents', 'main', 'sessions');
      const jobs = fs.readdirSync(sessions).filter((name) => name.startsWith('s-')).sort().map((name) => ({ hostPath: path.join(sessions, name) }));
      const one = await hash.hashFiles(jobs);
      const fromBroken = await threads.hashOnThreads(jobs, { threads: 2, workersFrom: EVERYWHERE, workerFile: pathToFileURL(broken) });
      expect(fromBroken.threads).toBe(1);
      expect(fromBroken.outcomes).toEqual(one);
      const fromDying = await threads.hashOnThreads(jobs, { threads: 2, workersFrom: EVERYWHERE, workerFile: pathToFileURL(dying) });
      expect(fromDying.threads).toBe(2);
      expect(fromDying.outcomes).toEqual(one);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('small work stays on this thread: no worker below the threshold', () => {
    const jobs = (count: number, size: number) => Array.from({ length: count }, (_, i) => ({ hostPath: `/x/${i}`, expectedSize: size }));
    const { files, bytes } = threads.WORKERS_FROM;
    expect(threads.workersFor(jobs(files - 1, 0), { threads: 2 })).toBe(0);
    expect(threads.workersFor(jobs(files, 0), { threads: 2 })).toBe(1);
    expect(threads.workersFor(jobs(2, bytes / 2), { threads: 2 })).toBe(1);
    // half the files, each with its share of half the bytes: together enough
    expect(threads.workersFor(jobs(files / 2, bytes / files), { threads: 2 })).toBe(1);
    expect(threads.workersFor(jobs(files / 4, bytes / files), { threads: 2 })).toBe(0);
    expect(threads.workersFor(jobs(files, 0), { threads: 1 })).toBe(0);
    expect(threads.workersFor(jobs(files, 0), { threads: 8 })).toBe(7);
    expect(threads.workersFor(jobs(3, 0), { threads: 8, workersFrom: EVERYWHERE })).toBe(2);
  });
});
