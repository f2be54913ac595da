// readManifest: every way a file can fail to be a manifest gives one clear line, never a stack trace.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineOf, MAX_MANIFEST_BYTES, parseManifest, readManifest, validateManifest } from '../../src/manifest/read.js';
import { createManifest, manifestText, writeManifest } from '../../src/manifest/snapshot.js';
import { ManifestError, type Manifest } from '../../src/manifest/types.js';
import { entries, home, install, machine } from '../helpers/machine.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-read-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function good(): Promise<Manifest> {
  const manifest = await createManifest({ machine: machine() }, { hash: false, now: new Date('2026-11-24T00:00:00.000Z') });
  manifest.machine.homes[0]!.installs[0]!.inventory.entries[1] = { ...manifest.machine.homes[0]!.installs[0]!.inventory.entries[1]!, sha256: 'c'.repeat(64) } as never;
  return manifest;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** The ManifestError readManifest throws for this file. */
function errorOf(file: string): ManifestError {
  try {
    readManifest(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/\bat .+:\d+:\d+/);
    return error as ManifestError;
  }
  throw new Error(`${file} was read as a manifest`);
}

describe('readManifest', () => {
  it('reads a valid manifest back as it was written, unknown fields dropped', async () => {
    const manifest = await good();
    const file = write('good.json', JSON.stringify({ ...manifest, extra: 'ignored', machine: { ...manifest.machine, futureField: 1 } }));
    expect(readManifest(file)).toEqual(manifest);
  });

  it('reads a manifest as snapshot writes it (gzip), and the same manifest written as plain JSON before gzip (#13)', async () => {
    const manifest = await good();
    const file = path.join(dir, 'written.json');
    await writeManifest(file, manifest);
    const bytes = fs.readFileSync(file);
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readManifest(file)).toEqual(manifest);
    expect(readManifest(write('plain.json', zlib.gunzipSync(bytes)))).toEqual(manifest);
  });

  it('reads a big manifest, written as several gzip members compressed side by side; gzip and zcat read it as one (#13)', async () => {
    const big = machine();
    const inventory = big.homes[0]!.installs[0]!.inventory;
    for (let i = 0; i < 30_000; i++) inventory.entries.push({ path: `agents/main/sessions/s-${i}.jsonl`, type: 'file', mode: 0o600, uid: 1000, gid: 1000, size: i, mtimeMs: 1_700_000_000_000 + i });
    const now = new Date('2026-12-03T00:00:00.000Z');
    const expected = await createManifest({ machine: big }, { hash: false, now });
    const text = JSON.stringify(expected);
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024); // more than three members of 1 MiB of text
    const file = path.join(dir, 'members.json');
    await writeManifest(file, await manifestText({ machine: big }, { hash: false, now }));
    expect(readManifest(file)).toEqual(expected);
    execFileSync('gzip', ['-t', file]);
    expect(JSON.parse(execFileSync('zcat', [file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }))).toEqual(expected);
  });

  it('refuses a gzip that decompresses past the cap (a bomb), without decompressing all of it (#13)', () => {
    // 64 MiB of '{' and spaces compress to ~64 KiB; the cap here is 1 MiB
    const bomb = zlib.gzipSync(Buffer.concat([Buffer.from('{'), Buffer.alloc(64 * 1024 * 1024, 0x20)]), { level: 9 });
    const file = write('bomb.json', bomb);
    const before = process.memoryUsage().rss;
    let message = '';
    try {
      readManifest(file, 1024 * 1024);
    } catch (error) {
      expect(error).toBeInstanceOf(ManifestError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/bomb\.json decompresses to more than 1048576 bytes, more than a manifest may be: not a manifest\?$/);
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('refuses a truncated or damaged gzip in one line (#13)', async () => {
    const whole = zlib.gzipSync(JSON.stringify(await good()));
    expect(errorOf(write('cut.json', whole.subarray(0, Math.floor(whole.length / 2)))).message).toMatch(/cut\.json is gzip-compressed but ends early: truncated\?$/);
    const damaged = Buffer.from(whole);
    damaged.fill(0xff, 10, 40);
    expect(errorOf(write('damaged.json', damaged)).message).toMatch(/damaged\.json is gzip-compressed but damaged \(Z_DATA_ERROR\): not a manifest\?$/);
  });

  it('validates without copying what needs no change, and copies (never mutates) what has a field to drop (#13)', async () => {
    const manifest = JSON.parse(JSON.stringify(await good())) as Manifest;
    const checked = validateManifest(manifest);
    const entriesOf = (value: Manifest) => value.machine.homes[0]!.installs[0]!.inventory.entries;
    expect(entriesOf(checked)).toBe(entriesOf(manifest));
    const withExtra = JSON.parse(JSON.stringify(manifest)) as Manifest;
    (entriesOf(withExtra)[1] as unknown as Record<string, unknown>).future = 1;
    const before = JSON.stringify(withExtra);
    const dropped = validateManifest(withExtra);
    expect(JSON.stringify(withExtra)).toBe(before);
    expect(dropped).toEqual(manifest);
    expect(entriesOf(dropped)[0]).toBe(entriesOf(withExtra)[0]);
  });

  it('refuses garbage bytes', () => {
    expect(errorOf(write('garbage.bin', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 0xff]))).message).toMatch(/garbage\.bin is not JSON: /);
  });

  it('refuses an empty file', () => {
    expect(errorOf(write('empty.json', '')).message).toMatch(/empty\.json is not JSON: it is empty$/);
  });

  it('refuses truncated JSON and says so', async () => {
    const text = JSON.stringify(await good());
    expect(errorOf(write('truncated.json', text.slice(0, Math.floor(text.length / 2)))).message).toMatch(/truncated\.json is not JSON: it ends early, truncated\?/);
  });

  it('refuses a manifest of a newer format', async () => {
    const error = errorOf(write('newer.json', JSON.stringify({ ...(await good()), manifest: 2, somethingNew: {} })));
    expect(error.message).toBe(`${path.join(dir, 'newer.json')} was written by a newer resonix-migrate (manifest format 2; this build reads up to 1): upgrade resonix-migrate`);
  });

  it('refuses JSON that is not a manifest', () => {
    expect(errorOf(write('package.json', '{"name":"x","version":"1.0.0"}')).message).toMatch(/package\.json is not a resonix-migrate manifest \(it has no "manifest" version field\)/);
    expect(errorOf(write('array.json', '[1,2]')).message).toMatch(/array\.json is not a resonix-migrate manifest: it holds an array, not an object/);
    expect(errorOf(write('version-string.json', '{"manifest":"1"}')).message).toMatch(/"manifest" must be a format version number, not "1"/);
  });

  it('keeps hashing.budget (the total hashing budget and the files past it); a manifest written before it still reads (#10)', async () => {
    const manifest = await good();
    const older = write('no-budget.json', JSON.stringify(manifest));
    expect(readManifest(older).hashing.budget).toBeUndefined();
    const budget = { maxBytes: 8 * 1024 ** 3, cutFiles: 3, cutBytes: 12345 };
    const withBudget = write('budget.json', JSON.stringify({ ...manifest, hashing: { ...manifest.hashing, enabled: true, budget } }));
    expect(readManifest(withBudget).hashing.budget).toEqual(budget);
    const wrong = write('bad-budget.json', JSON.stringify({ ...manifest, hashing: { ...manifest.hashing, budget: { ...budget, cutFiles: -1 } } }));
    expect(errorOf(wrong).message).toMatch(/manifest\.hashing\.budget\.cutFiles must be a whole number ≥ 0/);
  });

  it('names the field with the wrong type', async () => {
    const manifest = await good();
    const wrong = JSON.parse(JSON.stringify(manifest));
    wrong.machine.homes[0].installs[0].inventory.entries[2].size = '12';
    expect(errorOf(write('wrong-size.json', JSON.stringify(wrong))).message).toMatch(
      /wrong-size\.json is not a valid manifest: manifest\.machine\.homes\[0\]\.installs\[0\]\.inventory\.entries\[2\]\.size must be a whole number ≥ 0, not "12"$/,
    );
    const badHash = JSON.parse(JSON.stringify(manifest));
    badHash.machine.homes[0].installs[0].inventory.entries[1].sha256 = 'not-a-hash';
    expect(errorOf(write('bad-hash.json', JSON.stringify(badHash))).message).toMatch(/entries\[1\]\.sha256 must be a lower-case hex sha256/);
    const missing = JSON.parse(JSON.stringify(manifest));
    delete missing.machine.homes[0].gatewayUser;
    expect(errorOf(write('missing.json', JSON.stringify(missing))).message).toMatch(/manifest\.machine\.homes\[0\]\.gatewayUser is missing$/);
    const badType = JSON.parse(JSON.stringify(manifest));
    badType.machine.homes[0].installs[0].inventory.entries[0].type = 'door';
    expect(errorOf(write('bad-type.json', JSON.stringify(badType))).message).toMatch(/entries\[0\]\.type must be one of "file", "dir"/);
    const badMode = JSON.parse(JSON.stringify(manifest));
    badMode.machine.homes[0].installs[0].inventory.entries[0].mode = 0o170000;
    expect(errorOf(write('bad-mode.json', JSON.stringify(badMode))).message).toMatch(/entries\[0\]\.mode must be permission bits/);
    const nullHomes = JSON.parse(JSON.stringify(manifest));
    nullHomes.machine.homes = null;
    expect(errorOf(write('null-homes.json', JSON.stringify(nullHomes))).message).toMatch(/manifest\.machine\.homes must be an array, not null$/);
  });

  it('refuses what is not a regular file, without opening it', () => {
    expect(errorOf(dir).message).toBe(`${dir} is not a regular file`);
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(errorOf(fifo).message).toBe(`${fifo} is not a regular file`);
    expect(errorOf(path.join(dir, 'nope.json')).message).toBe(`${path.join(dir, 'nope.json')}: no such file`);
  });

  it('refuses a file above the size cap without reading it', () => {
    const file = path.join(dir, 'huge.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, MAX_MANIFEST_BYTES + 1);
    expect(errorOf(file).message).toMatch(/huge\.json is 536870913 bytes, more than a manifest may be \(536870912\)/);
  });

  it('parseManifest and validateManifest give the same errors for text and values', async () => {
    expect(() => parseManifest('{', 'stdin')).toThrow(/^stdin is not JSON: it ends early/);
    expect(() => validateManifest(null, 'x')).toThrow(ManifestError);
    expect(validateManifest(JSON.parse(JSON.stringify(await good())))).toEqual(await good());
  });
});

describe('baselineOf', () => {
  it('adds owner names the manifest recorded to users and groups', async () => {
    const manifest = await createManifest(
      { machine: machine([home([install('/Users/alice/.resonix', [], { inventory: { root: '/Users/alice/.resonix', exists: true, entries: entries(['resonix.json'], 501) } })])], { users: [], groups: [] }) },
      { hash: false },
    );
    manifest.owners = { users: { '501': 'alice' }, groups: { '20': 'staff' } };
    const baseline = baselineOf(manifest);
    expect(baseline.users).toContainEqual({ name: 'alice', uid: 501, gid: 501, home: '' });
    expect(baseline.groups).toContainEqual({ name: 'staff', gid: 20, members: [] });
    expect(manifest.machine.users).toEqual([]);
  });
});
