// createManifest on materialised machines: hashes equal sha256sum's, the manifest validates, no canary in
// it, a 200 MB file with holes hashes with flat memory, a FIFO is never read.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CHUNK, SMALL_FILE, hashFile, hashFiles } from '../../src/manifest/hash.js';
import { readManifest, validateManifest } from '../../src/manifest/read.js';
import { createManifest, hashForBaseline, withholdHash, writeManifest } from '../../src/manifest/snapshot.js';
import { hashSkippedOf, sha256Of } from '../../src/knowledge/baseline.js';
import type { Manifest } from '../../src/manifest/types.js';
import type { FileEntry, FileInventory, Machine } from '../../src/model.js';
import { scanMachine } from '../../src/scan/index.js';
import { findCanaries, loadScenario, materialise, type Materialised, type Scenario } from '../helpers/scenario.js';
import { manifestFileText } from '../helpers/manifest-file.js';

const run = promisify(execFile);
const made: Materialised[] = [];
const scratch: string[] = [];
afterAll(async () => {
  while (made.length > 0) await made.pop()!.cleanup();
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

const BIG = 200 * 1024 * 1024;

async function liveMachine(name: string, extra: (scenario: Scenario) => void = () => undefined): Promise<Materialised> {
  const scenario = await loadScenario(name);
  extra(scenario);
  const m = await materialise(scenario, { live: true });
  made.push(m);
  return m;
}

function scanLive(m: Materialised) {
  return scanMachine({ mode: 'live', root: '/', env: { ...m.env, TMPDIR: m.path('tmp') }, home: m.home, cwd: m.root });
}

function inventoriesOf(machine: Machine): FileInventory[] {
  return machine.homes.flatMap((home) => home.installs.flatMap((install) => [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]));
}

function filesOf(machine: Machine): { absolute: string; entry: FileEntry }[] {
  return inventoriesOf(machine).flatMap((inventory) =>
    inventory.entries.filter((entry) => entry.type === 'file').map((entry) => ({ absolute: path.posix.join(inventory.root, entry.path), entry })),
  );
}

async function sha256sum(files: string[]): Promise<Map<string, string>> {
  const { stdout } = await run('sha256sum', ['--', ...files], { maxBuffer: 64 * 1024 * 1024 });
  const out = new Map<string, string>();
  for (const line of stdout.trim().split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (match) out.set(match[2]!, match[1]!);
  }
  return out;
}

describe('createManifest on a materialised file-based install', () => {
  let m: Materialised;
  let manifest: Manifest;
  let peakRssDelta = 0;

  it('builds it: a 200 MB file with holes and a FIFO in the state dir, with flat memory', async () => {
    m = await liveMachine('healthy-file-2026.5', (scenario) => {
      scenario.entries.push(
        { path: '{home}/.resonix/media/inbound/big.bin', type: 'sparse', size: BIG, mode: '0600' },
        { path: '{home}/.resonix/agents/main/sessions/pipe', type: 'fifo', mode: '0600' },
        { path: '{home}/.resonix/credentials/short-token.json', mode: '0600', content: '{"t":"{canary:github}"}' },
      );
    });
    // a quarter of it allocated: a file with holes that is still hashed (mostly-hole files are not: see hostile-budget)
    const big = fs.openSync(path.join(m.home, '.resonix/media/inbound/big.bin'), 'r+');
    for (let at = 0; at < BIG; at += 4 * 1024 * 1024) fs.writeSync(big, Buffer.alloc(1024 * 1024, at & 0xff), 0, 1024 * 1024, at);
    fs.closeSync(big);
    const scan = await scanLive(m);
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    try {
      manifest = await createManifest(scan, { hash: true });
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    peakRssDelta = peak - before;
    if (process.env.RXM_SHOW_RSS) console.log(`rss delta while hashing: ${(peakRssDelta / 1048576).toFixed(1)} MB`);
    expect(manifest.hashing.enabled).toBe(true);
    expect(manifest.hashing.bytes).toBeGreaterThanOrEqual(BIG);
    expect(peakRssDelta, `rss grew by ${(peakRssDelta / 1048576).toFixed(1)} MB`).toBeLessThan(50 * 1024 * 1024);
  }, 120_000);

  it('every hash equals sha256sum of the same file', async () => {
    const hashed = filesOf(manifest.machine).filter(({ entry }) => sha256Of(entry) !== undefined);
    expect(hashed.length).toBeGreaterThan(10);
    const expected = await sha256sum([...new Set(hashed.map(({ absolute }) => absolute))]);
    for (const { absolute, entry } of hashed) expect(sha256Of(entry), absolute).toBe(expected.get(absolute));
    const big = hashed.find(({ absolute }) => absolute.endsWith('/media/inbound/big.bin'))!;
    expect(big.entry.size).toBe(BIG);
    expect(sha256Of(big.entry)).toBe(expected.get(big.absolute));
  });

  it('every regular file has a hash or says why not; .env, the config and every credential are withheld', () => {
    for (const { absolute, entry } of filesOf(manifest.machine)) {
      expect(sha256Of(entry) !== undefined || hashSkippedOf(entry) !== undefined, absolute).toBe(true);
    }
    const byName = new Map(filesOf(manifest.machine).map(({ absolute, entry }) => [absolute.slice(m.home.length), entry]));
    expect(hashSkippedOf(byName.get('/.resonix/.env')!)).toBe('secret');
    expect(sha256Of(byName.get('/.resonix/.env')!)).toBeUndefined();
    expect(hashSkippedOf(byName.get('/.resonix/credentials/short-token.json')!)).toBe('secret');
    expect(hashSkippedOf(byName.get('/.resonix/credentials/whatsapp/default/creds.json')!)).toBe('secret');
    expect(hashSkippedOf(byName.get('/.resonix/resonix.json')!)).toBe('secret');
    expect(manifest.hashing.skipped.secret).toBeGreaterThanOrEqual(4);
  });

  it('the FIFO is listed, never opened', () => {
    const fifo = inventoriesOf(manifest.machine)
      .flatMap((inventory) => inventory.entries)
      .find((entry) => entry.path === 'agents/main/sessions/pipe')!;
    expect(fifo.type).toBe('fifo');
    expect(sha256Of(fifo)).toBeUndefined();
  });

  it('holds no canary secret, and validates after a round trip through writeManifest/readManifest (0600, no temp file left)', async () => {
    const text = JSON.stringify(manifest);
    expect(findCanaries(text, m.canaries)).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-manifest-'));
    scratch.push(dir);
    const file = path.join(dir, 'manifest.json');
    const umask = process.umask(0o022);
    try {
      await writeManifest(file, manifest);
    } finally {
      process.umask(umask);
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['manifest.json']);
    expect(findCanaries(manifestFileText(file), m.canaries)).toEqual([]);
    const read = readManifest(file);
    expect(read).toEqual(JSON.parse(text));
    expect(validateManifest(JSON.parse(text))).toEqual(read);
    // a live scan names owners from this host's passwd/group
    for (const { entry } of filesOf(read.machine)) {
      const name = read.machine.users.find((user) => user.uid === entry.uid)?.name;
      if (name) expect(read.owners.users[String(entry.uid)]).toBe(name);
    }
    // overwriting keeps 0600 and leaves no temp file
    await writeManifest(file, { ...manifest, createdAt: '2030-01-01T00:00:00.000Z' });
    expect(readManifest(file).createdAt).toBe('2030-01-01T00:00:00.000Z');
    expect(fs.readdirSync(dir)).toEqual(['manifest.json']);
  });

  it('hash: false records sizes only', async () => {
    const scan = await scanLive(m);
    const plain = await createManifest(scan, { hash: false });
    expect(plain.hashing).toMatchObject({ enabled: false, files: 0, bytes: 0 });
    expect(filesOf(plain.machine).every(({ entry }) => sha256Of(entry) === undefined)).toBe(true);
  });

  it('hashForBaseline hashes only what the baseline can be compared with', async () => {
    const scan = await scanLive(m);
    const current = await hashForBaseline(scan.machine, manifest.machine);
    const hashed = filesOf(current).filter(({ entry }) => sha256Of(entry) !== undefined);
    const baselineHashed = filesOf(manifest.machine).filter(({ entry }) => sha256Of(entry) !== undefined);
    expect(hashed.length).toBe(baselineHashed.length);
    const expected = new Map(baselineHashed.map(({ absolute, entry }) => [absolute, sha256Of(entry)]));
    for (const { absolute, entry } of hashed) expect(sha256Of(entry)).toBe(expected.get(absolute));
    // the scan's own Machine is left as it was
    expect(filesOf(scan.machine).some(({ entry }) => sha256Of(entry) !== undefined)).toBe(false);
  });

  it('hashes only the inode the walk saw: a file renamed over one after the scan, of the same size, is "changed" (#13)', async () => {
    const scan = await scanMachine({ mode: 'live', root: '/', env: { ...m.env, TMPDIR: m.path('tmp') }, home: m.home, cwd: m.root, fileIdentities: true });
    const target = m.path('~/.resonix/update-check.json');
    const before = fs.readFileSync(target);
    const swapped = `${target}.swap`;
    fs.writeFileSync(swapped, Buffer.alloc(before.length, 0x7b));
    fs.renameSync(swapped, target);
    try {
      const after = await createManifest(scan, { hash: true });
      const entry = filesOf(after.machine).find(({ absolute }) => absolute === target)!.entry;
      expect(sha256Of(entry)).toBeUndefined();
      expect(hashSkippedOf(entry)).toBe('changed');
    } finally {
      fs.writeFileSync(target, before);
    }
  });

  it('hashForBaseline finds each file however the inventory here is ordered: one file less, the rest in reverse', async () => {
    const scan = await scanLive(m);
    const inventory = scan.machine.homes.flatMap((home) => home.installs).find((install) => install.inventory.entries.length > 3)!.inventory;
    const baselineHashed = filesOf(manifest.machine).filter(({ entry }) => sha256Of(entry) !== undefined);
    const dropped = inventory.entries.find((entry) => baselineHashed.some((item) => item.entry.path === entry.path && item.absolute.startsWith(inventory.root)))!;
    inventory.entries = inventory.entries.filter((entry) => entry !== dropped).reverse();
    const current = await hashForBaseline(scan.machine, manifest.machine);
    const hashed = filesOf(current).filter(({ entry }) => sha256Of(entry) !== undefined);
    expect(hashed.length).toBe(baselineHashed.length - 1);
    const expected = new Map(baselineHashed.map(({ absolute, entry }) => [absolute, sha256Of(entry)]));
    for (const { absolute, entry } of hashed) expect(sha256Of(entry)).toBe(expected.get(absolute));
  });
});

describe('createManifest of an image (ROOTFS) machine', () => {
  it('reads the files under the root, names paths as the machine sees them; no canary', async () => {
    const m = await materialise('healthy-sqlite-2026.9');
    made.push(m);
    const scan = await scanMachine({ mode: 'image', root: m.root, env: {} });
    const manifest = await createManifest(scan, { hash: true });
    const database = filesOf(manifest.machine).find(({ absolute }) => absolute === '/home/alice/.resonix/state/resonix.sqlite')!;
    const expected = execFileSync('sha256sum', [m.path('/home/alice/.resonix/state/resonix.sqlite')], { encoding: 'utf8' }).split(' ')[0];
    expect(sha256Of(database.entry)).toBe(expected);
    expect(findCanaries(JSON.stringify(manifest), m.canaries)).toEqual([]);
    expect(manifest.owners.users['1000']).toBe('alice');
    expect(manifest.owners.groups['1000']).toBe('alice');
    // the workspaces outside the state dir are hashed too
    expect(filesOf(manifest.machine).some(({ absolute, entry }) => absolute.startsWith('/home/alice/work/') && sha256Of(entry) !== undefined)).toBe(true);
  }, 60_000);
});

describe('hashFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-hash-'));
  scratch.push(dir);

  it('skips a FIFO without blocking, even with no writer', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const outcome = await Promise.race([hashFile(fifo), new Promise((resolve) => setTimeout(() => resolve('blocked'), 2000))]);
    expect(outcome).toEqual({ skipped: 'not-regular' });
  });

  it('never follows a symlink', async () => {
    fs.writeFileSync(path.join(dir, 'target'), 'secret stuff');
    fs.symlinkSync(path.join(dir, 'target'), path.join(dir, 'link'));
    expect(await hashFile(path.join(dir, 'link'))).toMatchObject({ skipped: 'not-regular', code: 'ELOOP' });
  });

  it('says changed when another file stands at the path than the one the snapshot saw (its dev:ino)', async () => {
    const file = path.join(dir, 'swapped');
    fs.writeFileSync(file, 'first\n');
    const seen = fs.lstatSync(file, { bigint: true });
    const id = `${seen.dev}:${seen.ino}`;
    expect(await hashFile(file, { expectedId: id })).toMatchObject({ bytes: 6 });
    // same size, another inode renamed over it (or a hard link to a secret)
    fs.writeFileSync(`${file}.new`, 'other\n');
    fs.renameSync(`${file}.new`, file);
    expect(await hashFile(file, { expectedId: id, expectedSize: 6 })).toEqual({ skipped: 'changed' });
  });

  it('says changed when the size differs from the scan, unreadable when missing; keeps job order', async () => {
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'hello\n');
    expect(await hashFile(file, { expectedSize: 3 })).toEqual({ skipped: 'changed' });
    const results = await hashFiles([{ hostPath: path.join(dir, 'nope') }, { hostPath: file }, { hostPath: '/dev/null' }], 2);
    expect(results[0]).toMatchObject({ skipped: 'unreadable', code: 'ENOENT' });
    expect(results[1]).toEqual({ sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03', bytes: 6 });
    expect(results[2]).toEqual({ skipped: 'not-regular' });
  });

  it('gives the sha256 that sha256sum gives at every size edge: empty, one read, the small-file limit, a chunk, past it, a buffer smaller than the file (#13)', async () => {
    const sizes = [0, 1, SMALL_FILE - 1, SMALL_FILE, SMALL_FILE + 1, CHUNK, CHUNK + 7];
    const jobs = sizes.map((size, index) => {
      const file = path.join(dir, `edge-${index}`);
      fs.writeFileSync(file, Buffer.alloc(size, index + 1));
      return { hostPath: file, expectedSize: size };
    });
    const want = sizes.map((_, index) => execFileSync('sha256sum', [jobs[index]!.hostPath], { encoding: 'utf8' }).split(' ')[0]);
    const outcomes = await hashFiles(jobs, 3);
    expect(outcomes).toEqual(sizes.map((size, index) => ({ sha256: want[index], bytes: size })));
    // hashed through a buffer smaller than the file: streamed in chunks, the same digest
    expect(await hashFile(jobs[3]!.hostPath, { buffer: Buffer.alloc(1000) })).toEqual({ sha256: want[3], bytes: SMALL_FILE });
  });
});

describe('the hash policy', () => {
  it('withholds every secret-bearing file whatever its size (config, includes, .env, credentials, auth, identity, devices); hashes the rest', () => {
    expect(withholdHash('.env', 'state')).toBe(true);
    expect(withholdHash('notes/.env.local', 'workspace')).toBe(true);
    expect(withholdHash('secrets.json', 'state')).toBe(true);
    expect(withholdHash('resonix.json', 'state')).toBe(true);
    expect(withholdHash('resonix.json.bak.1', 'state')).toBe(true);
    expect(withholdHash('gateway.json5', 'state', new Set(['gateway.json5']))).toBe(true);
    expect(withholdHash('gateway.json5', 'state')).toBe(false);
    expect(withholdHash('credentials/telegram-token.txt', 'state')).toBe(true);
    expect(withholdHash('credentials/whatsapp/default/creds.json', 'state')).toBe(true);
    expect(withholdHash('agents/main/agent/auth-profiles.json', 'state')).toBe(true);
    expect(withholdHash('identity/device.json', 'state')).toBe(true);
    expect(withholdHash('devices/paired.json', 'state')).toBe(true);
    expect(withholdHash('agents/main/sessions/a.jsonl', 'state')).toBe(false);
    expect(withholdHash('state/resonix.sqlite', 'state')).toBe(false);
    expect(withholdHash('AGENTS.md', 'workspace')).toBe(false);
    expect(withholdHash('api-key.txt', 'workspace')).toBe(true);
  });

  it('withholds the copies a backup, an editor or a package manager leaves of one, by name and by dir (#10)', () => {
    const includes = new Set(['gateway.json5', 'conf/tokens.json5']);
    const copies = [
      'gateway.json5.bak', 'gateway.json5.orig', 'gateway.json5~', 'gateway.json5.bak.1', 'gateway.json5.~1~', 'gateway.json5.bak-20240501',
      '#gateway.json5#', '.gateway.json5.swp', 'gateway copy.json5', 'gateway (1).json5', 'gateway.old.json5', 'old/gateway.json5',
      'conf/tokens.json5.bak', 'conf.old/tokens.json5', 'resonix.json.orig', 'resonix.json~', 'resonix-backup.json', 'resonix.json.tmp',
      'backup-2024/resonix.json', '.env~', 'secrets.json.bak', 'exec-approvals.json.dpkg-old', 'credentials.bak/x.json', 'credentials~/x.json',
      'identity.old/device.json', 'old/credentials/x.json', 'agents/main/agent.bak/auth-profiles.json', 'agents/main/agent/auth-profiles.json.bak', 'tls.key.bak',
    ];
    for (const name of copies) expect(withholdHash(name, 'state', includes), name).toBe(true);
    const plain = ['notes.md.bak', 'agents/main/sessions/a.jsonl.bak', 'state/resonix.sqlite.bak', 'media/old/photo.jpg', 'agents/main/sessions/s-2024-05-01.jsonl'];
    for (const name of plain) expect(withholdHash(name, 'state', includes), name).toBe(false);
    // without the include, a backup of gateway.json5 is a plain file
    expect(withholdHash('gateway.json5.bak', 'state')).toBe(false);
    expect(withholdHash('keys/server.pem.bak', 'workspace')).toBe(true);
    expect(withholdHash('notes/.env.local~', 'workspace')).toBe(true);
    expect(withholdHash('notes.md~', 'workspace')).toBe(false);
  });
});

describe('the last guard', () => {
  it('scrubs every known secret value of the scan from every string of the manifest', async () => {
    const { machine, home, install } = await import('../helpers/machine.js');
    const token = 'tok_0123456789abcdefSECRET';
    const scanned = machine([home([install('/home/alice/.resonix', ['resonix.json', `credentials/${token}.json`])])], { processEnvKeys: [token] });
    const manifest = await createManifest({ machine: scanned, secrets: new Set([token, 'short']) }, { hash: false });
    const text = JSON.stringify(manifest);
    expect(text).not.toContain(token);
    expect(text).toContain('credentials/[masked].json');
    expect(JSON.stringify(scanned)).toContain(token); // the scan's own Machine is not touched
  });

  it('masks provider-shaped names and link targets, but keeps content-addressed names apart', async () => {
    const { machine, home, install } = await import('../helpers/machine.js');
    const hashes = ['ddb277aac9d7ad724f27f20cd8658645b29190d01049c96440c4a26662f7218b', 'dd0c1e5b2f3a4d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6'];
    const github = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z';
    const state = install('/home/alice/.resonix', ['resonix.json', ...hashes.map((hash) => `agents/main/sessions/skills-prompts/sha256/dd/${hash}.txt`), `credentials/${github}.json`]);
    state.inventory.entries.push({ path: 'link', type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, size: 10, mtimeMs: 0, linkTarget: `/keys/${github}` });
    const manifest = await createManifest({ machine: machine([home([state])]) }, { hash: false });
    const paths = manifest.machine.homes[0]!.installs[0]!.inventory.entries.map((entry) => entry.path);
    for (const hash of hashes) expect(paths).toContain(`agents/main/sessions/skills-prompts/sha256/dd/${hash}.txt`);
    expect(paths).toContain('credentials/ghp_…[masked].json');
    expect(JSON.stringify(manifest)).not.toContain(github);
  });
});
