// The manifest's hash policy against a home that names its secrets otherwise (#10): a second name of a
// secret file (a hard link, any name), the file a secret-named symlink points at, the backups an editor or a
// person left of the config, its `$include`d file, .env and credentials. None of them gets a sha256. Then the
// budgets: a hard-linked file is read once, and past the snapshot's total budget no file is read (EBUDGET).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSkippedOf, sha256Of } from '../../src/knowledge/baseline.js';
import { runRules } from '../../src/engine.js';
import { NOT_COPIED, TRANSIENT } from '../../src/knowledge/layout.js';
import { baselineOf, readManifest } from '../../src/manifest/read.js';
import { createManifest, hashForBaseline, withholdHash, writeManifest } from '../../src/manifest/snapshot.js';
import { rule as incomplete } from '../../src/rules/copy/incomplete.js';
import { builtinRules } from '../../src/rules/index.js';
import type { Manifest } from '../../src/manifest/types.js';
import { BUDGET_CODE, type FileEntry, type Machine } from '../../src/model.js';
import { ProgressCounter } from '../../src/progress.js';
import { scanMachine } from '../../src/scan/index.js';
import { entry, findCanaries, loadScenario, materialise, type Materialised } from '../helpers/scenario.js';
import { manifestFileText } from '../helpers/manifest-file.js';

const TOKEN = 'CANARYlinkedTok3n-0101';
const PASSWORD = 'hunter2-Cnry10';
const BIG = 8 * 1024 * 1024;

let m: Materialised;
let state: string;
let manifest: Manifest;

const scan = () => scanMachine({ mode: 'live', root: '/', env: { ...m.env, TMPDIR: m.path('tmp') }, home: m.home, cwd: m.root });
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The state dir's regular files, by path relative to it, in inventory order. */
function stateFiles(machine: Machine): Map<string, FileEntry> {
  const install = machine.homes.flatMap((home) => home.installs).find((item) => item.stateDir === state)!;
  return new Map(install.inventory.entries.filter((item) => item.type === 'file').map((item) => [item.path, item]));
}

/** Every regular file of every inventory, in the order the snapshot goes through them. */
function allFiles(machine: Machine): { absolute: string; entry: FileEntry }[] {
  return machine.homes
    .flatMap((home) => home.installs.flatMap((install) => [install.inventory, ...install.workspaces.map((workspace) => workspace.inventory)]))
    .flatMap((inventory) => inventory.entries.filter((item) => item.type === 'file').map((item) => ({ absolute: path.posix.join(inventory.root, item.path), entry: item })));
}

const SECRET_COPIES = [
  'gateway.json5.bak',
  'gateway.json5.orig',
  'gateway.json5~',
  'gateway.json5.bak.1',
  'gateway.bak.json5',
  '.gateway.json5.swp',
  'old/gateway.json5',
  'resonix.json.orig',
  'resonix.json~',
  'resonix.json.bak.2024-05-01',
  'old/resonix.json',
  '.env~',
  'secrets.json.bak',
  'credentials.old/telegram.json',
  'backup/credentials/telegram.json',
  'agents/main/agent/auth-profiles.json.bak',
  'server.pem.bak',
];

beforeAll(async () => {
  const scenario = await loadScenario('healthy-file-2026.5');
  (entry(scenario, '{home}/.resonix/resonix.json').json as Record<string, unknown>).$include = './gateway.json5';
  const gateway = `{ gateway: { auth: { password: '${PASSWORD}' } } }\n`;
  scenario.entries.push(
    { path: '{home}/.resonix/gateway.json5', mode: '0600', content: gateway },
    { path: '{home}/.resonix/credentials/short-token.json', mode: '0600', content: `{"t":"${TOKEN}"}` },
    { path: '{home}/.resonix/credentials/linked.json', target: '../notes/plain.json' },
    { path: '{home}/.resonix/notes/plain.json', mode: '0600', content: `{"t":"${TOKEN}-via-symlink"}` },
    { path: '{home}/.resonix/my-tokens', target: 'stash' },
    { path: '{home}/.resonix/stash/one.json', mode: '0600', content: `{"t":"${TOKEN}-via-linked-dir"}` },
    // a symlink inside that dir: the file it points at is read as a secret too, whatever its own name
    { path: '{home}/.resonix/stash/alias.json', target: '../notes/forwarded.json' },
    { path: '{home}/.resonix/notes/forwarded.json', mode: '0600', content: `{"t":"${TOKEN}-via-link-in-linked-dir"}` },
    // the control: a backup of a file that holds no secret is hashed as any file
    { path: '{home}/.resonix/notes/todo.md', mode: '0600', content: 'buy milk\n' },
    { path: '{home}/.resonix/notes/todo.md.bak', mode: '0600', content: 'buy bread\n' },
    ...SECRET_COPIES.map((name) => ({ path: `{home}/.resonix/${name}`, mode: '0600', content: name.includes('gateway') ? gateway : `{"t":"${TOKEN}"} ${name}` })),
  );
  scenario.canaries = [...(scenario.canaries ?? []), TOKEN, PASSWORD];
  m = await materialise(scenario, { live: true });
  state = path.join(m.home, '.resonix');
  // second names of secret files, under names that say nothing: the scan lists them as plain files
  fs.mkdirSync(path.join(state, 'media/inbound'), { recursive: true });
  fs.linkSync(path.join(state, 'credentials/short-token.json'), path.join(state, 'media/inbound/photo.jpg'));
  fs.linkSync(path.join(state, 'gateway.json5'), path.join(state, 'agents/main/sessions/notes.txt'));
  // a second name of a file outside every tree the scan lists (an ssh key beside the home)
  const outside = m.path('outside-key');
  fs.writeFileSync(outside, `-----BEGIN OPENSSH PRIVATE KEY----- ${TOKEN}-outside\n`, { mode: 0o600 });
  fs.linkSync(outside, path.join(state, 'notes/id-copy.txt'));
  // one big file with three names
  const big = path.join(state, 'media/inbound/big.bin');
  fs.writeFileSync(big, Buffer.alloc(BIG, 7));
  fs.linkSync(big, path.join(state, 'media/inbound/big-2.bin'));
  fs.linkSync(big, path.join(state, 'media/inbound/big-3.bin'));
  manifest = await createManifest(await scan(), { hash: true });
}, 60_000);

afterAll(async () => {
  await m?.cleanup();
});

describe('no sha256 of a secret under another name', () => {
  it('a hard link to a credentials/ file, and one to the included gateway.json5, have no hash', () => {
    const files = stateFiles(manifest.machine);
    for (const name of ['media/inbound/photo.jpg', 'agents/main/sessions/notes.txt']) {
      const item = files.get(name);
      expect(item, name).toBeDefined();
      expect(sha256Of(item!), name).toBeUndefined();
      expect(hashSkippedOf(item!), name).toBe('secret');
    }
  });

  it('a file with a hard link the scan never saw (a key outside every tree) has no hash; one whose names were all seen does', () => {
    const files = stateFiles(manifest.machine);
    expect(sha256Of(files.get('notes/id-copy.txt')!)).toBeUndefined();
    expect(hashSkippedOf(files.get('notes/id-copy.txt')!)).toBe('secret');
    expect(sha256Of(files.get('media/inbound/big-2.bin')!)).toBeDefined();
  });

  it('the file a secret-named symlink points at has no hash, nor the files of a dir one points at, nor the file a symlink in that dir points at', () => {
    for (const name of ['notes/plain.json', 'stash/one.json', 'notes/forwarded.json']) {
      const item = stateFiles(manifest.machine).get(name)!;
      expect(sha256Of(item), name).toBeUndefined();
      expect(hashSkippedOf(item), name).toBe('secret');
    }
  });

  it('backups of the included gateway.json5, the config, .env and credentials have no hash; a backup of a plain file does', () => {
    const files = stateFiles(manifest.machine);
    for (const name of SECRET_COPIES) {
      const item = files.get(name);
      expect(item, name).toBeDefined();
      expect(sha256Of(item!), name).toBeUndefined();
      expect(hashSkippedOf(item!), name).toBe('secret');
    }
    expect(sha256Of(files.get('notes/todo.md.bak')!)).toBe(sha256(path.join(state, 'notes/todo.md.bak')));
  });

  it('no digest in the manifest is that of a secret-bearing file, and no canary is in it', () => {
    const digests = new Set(allFiles(manifest.machine).flatMap(({ entry: item }) => sha256Of(item) ?? []));
    expect(digests.size).toBeGreaterThan(5);
    const secretFiles = ['gateway.json5', 'credentials/short-token.json', 'notes/plain.json', 'stash/one.json', ...SECRET_COPIES];
    for (const name of secretFiles) expect(digests.has(sha256(path.join(state, name))), name).toBe(false);
    expect(findCanaries(JSON.stringify(manifest), m.canaries)).toEqual([]);
  });

  it('the comparison withholds them the same way: hashForBaseline hashes no name of a secret', async () => {
    // a baseline that had hashes for every one of these names (an older manifest, or a forged one)
    const baseline = structuredClone(manifest.machine);
    for (const item of stateFiles(baseline).values()) item.sha256 = '0'.repeat(64);
    const current = await hashForBaseline((await scan()).machine, baseline);
    const files = stateFiles(current);
    for (const name of ['media/inbound/photo.jpg', 'agents/main/sessions/notes.txt', 'notes/plain.json', 'stash/one.json', ...SECRET_COPIES]) {
      expect(sha256Of(files.get(name)!), name).toBeUndefined();
    }
    expect(sha256Of(files.get('notes/todo.md')!)).toBe(sha256(path.join(state, 'notes/todo.md')));
  });
});

describe('hashing budgets', () => {
  it('a file with three names is read once: one tick of the progress counter per inode, the same digest on every name', async () => {
    const progress = new ProgressCounter();
    const again = await createManifest(await scan(), { hash: true, progress });
    const hashed = allFiles(again.machine).filter(({ entry: item }) => sha256Of(item) !== undefined);
    const inodes = new Set(hashed.map(({ absolute }) => {
      const stat = fs.statSync(absolute, { bigint: true });
      return `${stat.dev}:${stat.ino}`;
    }));
    expect(hashed.length).toBeGreaterThan(inodes.size);
    expect(progress.filesHashed).toBe(inodes.size);
    expect(again.hashing.files).toBe(inodes.size);
    const files = stateFiles(again.machine);
    const digest = sha256(path.join(state, 'media/inbound/big.bin'));
    for (const name of ['big.bin', 'big-2.bin', 'big-3.bin']) expect(sha256Of(files.get(`media/inbound/${name}`)!), name).toBe(digest);
    // its bytes counted once
    const plain = hashed.filter(({ absolute }) => !/big-[23]\.bin$/.test(absolute));
    expect(again.hashing.bytes).toBeLessThan(2 * BIG);
    expect(plain.length).toBeGreaterThan(0);
  });

  it('past the total budget no file is hashed, and a problem (EBUDGET) says so; the manifest reads back', async () => {
    const full = manifest.hashing.bytes;
    // half of what the small files hold (the big file, larger than the whole budget, is too big for it)
    const maxTotalBytes = Math.floor((full - BIG) / 2);
    const cut = await createManifest(await scan(), { hash: true, maxTotalBytes });
    expect(cut.hashing.bytes).toBeLessThanOrEqual(maxTotalBytes);
    expect(cut.hashing.budget).toMatchObject({ maxBytes: maxTotalBytes });
    expect(cut.hashing.budget!.cutFiles).toBeGreaterThan(0);
    const problems = cut.machine.problems.filter((problem) => problem.code === BUDGET_CODE);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/hashing budget \(.+ in all\) was spent; \d+ files? \(.+\) from there on are recorded by size, without a sha256/);
    // in the snapshot's order: once a file is cut, no later file has a hash (but later names of an inode hashed before)
    const order = allFiles(cut.machine);
    const firstCut = order.findIndex(({ entry: item }) => sha256Of(item) === undefined && hashSkippedOf(item) === undefined);
    expect(firstCut).toBeGreaterThan(0);
    expect(problems[0]!.path).toBe(order[firstCut]!.absolute);
    const before = new Set(order.slice(0, firstCut).flatMap(({ entry: item }) => sha256Of(item) ?? []));
    const laterHashed = order.slice(firstCut).filter(({ entry: item }) => sha256Of(item) !== undefined && !before.has(sha256Of(item)!));
    expect(laterHashed.map(({ absolute }) => absolute)).toEqual([]);
    // and the manifest is one that reads back (the budget is a known field), with the cut files without a hash
    const file = m.path('tmp/cut.manifest.json');
    await writeManifest(file, cut);
    const read = readManifest(file);
    expect(read.hashing.budget).toEqual(cut.hashing.budget);
    expect(findCanaries(manifestFileText(file), m.canaries)).toEqual([]);
  });

  it('verify --against a manifest cut by its budget: a file without a hash is unknown content, not a difference; a hashed one that changed still is', async () => {
    const cut = await createManifest(await scan(), { hash: true, maxTotalBytes: Math.floor((manifest.hashing.bytes - BIG) / 2) });
    const file = m.path('tmp/verify-cut.manifest.json');
    await writeManifest(file, cut);
    const baseline = baselineOf(readManifest(file));
    const counted = (name: string, item: FileEntry): boolean => item.size > 0 && !NOT_COPIED.test(name) && !TRANSIENT.test(name) && !withholdHash(name, 'state');
    const entries = [...stateFiles(baseline)].filter(([name, item]) => counted(name, item));
    const unhashed = entries.find(([, item]) => sha256Of(item) === undefined && hashSkippedOf(item) === undefined)?.[0];
    const hashed = entries.find(([, item]) => sha256Of(item) !== undefined)?.[0];
    expect(unhashed).toBeDefined();
    expect(hashed).toBeDefined();
    // the same size, the same mtime, other bytes
    const touched = [unhashed!, hashed!].map((name) => {
      const at = path.join(state, name);
      const before = fs.readFileSync(at);
      const stat = fs.statSync(at);
      const after = Buffer.from(before);
      after[0] = after[0]! ^ 0x20;
      fs.writeFileSync(at, after);
      fs.utimesSync(at, stat.atime, stat.mtime);
      return { at, before, stat };
    });
    try {
      const result = await scan();
      const current = await hashForBaseline(result.machine, baseline);
      const report = runRules({ phase: 'verify', machine: current, baseline, rules: builtinRules, only: [incomplete.meta.id], secrets: result.secrets });
      const evidence = report.findings.filter((finding) => finding.ruleId === incomplete.meta.id).flatMap((finding) => finding.evidence ?? []);
      expect(evidence.some((line) => line.includes(`${hashed}: different content (sha256)`)), evidence.join('\n')).toBe(true);
      expect(evidence.some((line) => line.includes(`/${unhashed}:`)), evidence.join('\n')).toBe(false);
    } finally {
      for (const { at, before, stat } of touched) {
        fs.writeFileSync(at, before);
        fs.utimesSync(at, stat.atime, stat.mtime);
      }
    }
  });

  it('a comparison past its budget says so too', async () => {
    const current = await hashForBaseline((await scan()).machine, manifest.machine, { maxTotalBytes: 1024 });
    expect(current.problems.filter((problem) => problem.code === BUDGET_CODE).map((problem) => problem.message)).toEqual([
      expect.stringMatching(/the comparison's hashing budget \(1 KiB in all\) was spent; .* compared with the baseline by size only/),
    ]);
  });
});
