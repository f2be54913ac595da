#!/usr/bin/env node
// The floor of any Node walker: readdir + lstat of every entry under DIR, nothing kept, nothing else done.
//   node bench/floor-walk.mjs DIR [--threads N]
// bench/run.mjs times it beside find and verify: verify can never be faster than this, so the ratio
// floor/find says how close to find a Node implementation can come on this machine at all.
// With --threads N the subtrees two levels down are dealt round-robin to N worker threads (the main
// thread lists the top two levels), which is the best case for splitting the stat calls across cores.
import fs from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { parseOptions } from './lib.mjs';

/** Entries under each of `dirs` (not counting the dirs themselves). */
function walk(dirs) {
  const stack = [...dirs];
  let count = 0;
  while (stack.length > 0) {
    const dir = stack.pop();
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const child = `${dir}/${name}`;
      let stat;
      try {
        stat = fs.lstatSync(child);
      } catch {
        continue;
      }
      count += 1;
      if (stat.isDirectory()) stack.push(child);
    }
  }
  return count;
}

/** The dirs two levels below `root` (walked by the workers) and how many entries the top two levels hold. */
function split(root) {
  const deeper = [];
  let count = 0;
  for (const name of fs.readdirSync(root)) {
    const child = `${root}/${name}`;
    const stat = fs.lstatSync(child);
    count += 1;
    if (!stat.isDirectory()) continue;
    for (const inner of fs.readdirSync(child)) {
      const grandchild = `${child}/${inner}`;
      const innerStat = fs.lstatSync(grandchild);
      count += 1;
      if (innerStat.isDirectory()) deeper.push(grandchild);
    }
  }
  return { deeper, count };
}

async function main() {
  const usage = 'usage: node bench/floor-walk.mjs DIR [--threads N]';
  const { operands, threads } = parseOptions(process.argv.slice(2), { '--threads': { key: 'threads', type: 'int', min: 1 } }, { threads: 1 }, usage);
  if (operands.length !== 1) throw new Error(usage);
  const root = operands[0];
  if (threads === 1) return walk([root]);
  const { deeper, count } = split(root);
  const shares = Array.from({ length: threads }, (_, index) => deeper.filter((_, at) => at % threads === index));
  const counts = await Promise.all(
    shares.map(
      (share) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: share });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  return count + counts.reduce((sum, value) => sum + value, 0);
}

if (isMainThread) {
  main().then(
    (count) => console.log(count),
    (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    },
  );
} else {
  parentPort.postMessage(walk(workerData));
}
