// `--against FILE`: a snapshot manifest or a backup archive, read into the Machine the rules take as
// their baseline. A manifest is told from an archive by its first byte ('{'), or, gzip'd as snapshot writes
// it, by the first byte it decompresses to; anything else goes to the archive reader, which classifies by content.
import fs from 'node:fs';
import { inspectArchive } from '../archive/inspect.js';
import type { Machine } from '../model.js';
import { baselineOf, gunzipStart, isGzip, readManifest, statRegularFile } from './read.js';
import { ManifestError, type Manifest } from './types.js';

export type LoadedBaseline =
  | { kind: 'manifest'; machine: Machine; manifest: Manifest }
  /** secrets: values seen in the archive's configs and .env files, for the masker only */
  | { kind: 'archive'; machine: Machine; secrets: Set<string> };

function firstByte(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    if (!fs.fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(4096);
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    let head: Buffer = buffer.subarray(0, read);
    if (isGzip(head)) {
      // a manifest as snapshot writes it, or a .tgz: what it holds says which (a tar names a member first)
      const inner = gunzipStart(head);
      if (!inner || (inner.length >= 262 && inner.toString('latin1', 257, 262) === 'ustar')) return undefined;
      head = inner.subarray(0, 4096);
    }
    const text = head.toString('latin1').replace(/^\uFEFF|^\xEF\xBB\xBF/, '');
    const at = text.search(/\S/);
    return at < 0 ? undefined : text.charCodeAt(at);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Reads `--against FILE`. Throws ManifestError (one line) when it can serve as no baseline. */
export async function loadBaseline(file: string): Promise<LoadedBaseline> {
  statRegularFile(file);
  if (firstByte(file) === 0x7b /* { */) {
    const manifest = readManifest(file);
    return { kind: 'manifest', machine: baselineOf(manifest), manifest };
  }
  const inspected = await inspectArchive(file);
  const installs = inspected.machine.homes.flatMap((home) => home.installs);
  if (installs.length === 0) {
    const why = inspected.archive.encrypted
      ? 'it is encrypted: decrypt it to a file first (e.g. `age -d`, `gpg -d`), or use a snapshot manifest'
      : inspected.archive.listError ?? 'it holds no Resonix state dir';
    throw new ManifestError(`${file} cannot serve as a baseline: ${why}`);
  }
  return { kind: 'archive', machine: inspected.machine, secrets: inspected.secrets };
}
