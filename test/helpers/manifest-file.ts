// The text of a manifest file as snapshot writes it (gzip'd JSON). Tests that look for canaries in the file
// must look at this text: the compressed bytes would hold no canary even if the manifest did.
import fs from 'node:fs';
import zlib from 'node:zlib';

export function manifestFileText(file: string): string {
  const bytes = fs.readFileSync(file);
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) throw new Error(`${file} is not gzip-compressed, as snapshot writes a manifest`);
  return zlib.gunzipSync(bytes).toString('utf8');
}
