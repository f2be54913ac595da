// A hashing worker thread (started by hash-threads.ts): hashes each batch it is sent with hash.ts's rules
// and sends back the outcomes. One batch at a time, in the order they came: its hasher's buffers serve
// every batch, and a batch's reads may wait on the disk while the next message arrives.
import { parentPort, workerData } from 'node:worker_threads';
import { BatchHasher } from './hash.js';
import type { HashBatchReply, HashBatchRequest, HashWorkerData } from './hash-threads.js';

const port = parentPort;
if (!port) throw new Error('hash-worker.js runs as a worker thread only');
const hasher = new BatchHasher((workerData as HashWorkerData).concurrency);
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: HashBatchRequest) => {
  queue = queue.then(async () => {
    const reply: HashBatchReply = { id: request.id, outcomes: await hasher.hash(request.jobs) };
    port.postMessage(reply);
  });
});
