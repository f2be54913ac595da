// The manifest's compressor on a worker thread (started by snapshot.ts): takes the JSON text piece by piece
// while the main thread goes on producing it, compresses it in members (gzip-members.ts) and writes them to
// the temp file the main thread opened. At the end (null) it replies with the bytes written, or the error
// that stopped it: after an error it writes nothing more.
import { parentPort, workerData } from 'node:worker_threads';
import { factsOf, GzipMembers, type GzipWorkerData, type GzipWorkerMessage, type GzipWorkerReply } from './gzip-members.js';

const port = parentPort;
if (!port) throw new Error('gzip-worker.js runs as a worker thread only');
const members = new GzipMembers((workerData as GzipWorkerData).fd);
let failed = false;
port.on('message', (piece: GzipWorkerMessage) => {
  if (failed) return;
  let reply: GzipWorkerReply | undefined;
  try {
    if (piece !== null) members.add(piece);
    else reply = { done: true, bytes: members.end() };
  } catch (error) {
    failed = true;
    reply = { failed: factsOf(error) };
  }
  if (reply) port.postMessage(reply);
});
