#!/usr/bin/env node
import fs from 'node:fs';

// the bundled CLI (scripts/bundle.mjs: ~60 ms less start-up); dist/ when only tsc has run
const bundled = new URL('../dist-cli/cli.js', import.meta.url);
const { main } = await import(fs.existsSync(bundled) ? bundled.href : '../dist/cli.js');

// A reader that goes away (`verify | head -1`) closes the pipe: the rest of the output has nowhere to
// go, so it is dropped quietly (no EPIPE stack trace) and the exit code still says what the run found.
const closed = new Set();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error?.code === 'EPIPE' || error?.code === 'ERR_STREAM_DESTROYED') closed.add(stream);
    else throw error;
  });
}
const writer = (stream) => (text) => {
  if (!closed.has(stream) && !stream.destroyed) stream.write(text);
};

const code = await main(process.argv.slice(2), {
  stdout: writer(process.stdout),
  stderr: writer(process.stderr),
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  stderrIsTTY: Boolean(process.stderr.isTTY),
  stderrColumns: process.stderr.columns,
});
process.exitCode = code;
