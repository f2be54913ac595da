#!/usr/bin/env node
// Generates a large file-based Resonix install (layout: docs of the 2026.1–2026.5 generation) for the
// benchmarks: `node bench/generate.mjs <dir> [--sessions 100000] [--credentials 3000] [--media-gb 2] [--force]`.
// The install lands at <dir>/home/alice/.resonix, so `--home <dir>/home/alice` finds it.
// Plain Node, no dependencies. Deterministic: the same arguments give the same names and contents.
// Big media files are sparse (ftruncate): gigabytes of apparent size cost no disk.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { MARKER, parseOptions } from './lib.mjs';

const USAGE = 'usage: node bench/generate.mjs <dir> [--sessions 100000] [--credentials 3000] [--media-gb 2] [--force]';

/** The parameters a tree was made with (bench/lib.mjs's prepareTree compares them to decide whether to reuse it). */
export { MARKER };
export const AGENTS = ['main', 'research', 'coder', 'ops'];
export const WHATSAPP_ACCOUNTS = ['default', 'work', 'family'];

export function parseGenerateArgs(argv) {
  const { operands, ...options } = parseOptions(
    argv,
    {
      '--sessions': { key: 'sessions', type: 'int', min: 0 },
      '--credentials': { key: 'credentials', type: 'int', min: 0 },
      '--media-gb': { key: 'mediaGb', type: 'number', min: 0 },
      '--force': { key: 'force', type: 'flag' },
    },
    { sessions: 100_000, credentials: 3000, mediaGb: 2, force: false },
    USAGE,
  );
  if (operands.length !== 1) throw new Error(`one directory, please\n${USAGE}`);
  return { ...options, dir: operands[0] };
}

// --- deterministic pseudo-random numbers (mulberry32) -------------------------------------------
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(random) {
  const hex = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Math.floor(random() * 4) + 8) | 0).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function token(random, length) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

// --- file helpers: explicit modes, so the result does not depend on the umask --------------------
const stats = { dirs: 0, files: 0, bytes: 0, apparentBytes: 0 };

function mkdir(dir, mode = 0o700) {
  fs.mkdirSync(dir, { mode });
  fs.chmodSync(dir, mode);
  stats.dirs++;
}

function write(file, content, mode = 0o600) {
  // mode on create is masked by the umask; 0600/0644 survive any umask that keeps the owner's bits,
  // and we chmod when a umask would strip group/other read from 0644
  fs.writeFileSync(file, content, { mode, flag: 'wx' });
  if ((mode & ~0o600 & 0o777) !== 0) fs.chmodSync(file, mode);
  stats.files++;
  const length = Buffer.byteLength(content);
  stats.bytes += length;
  stats.apparentBytes += length;
}

function sparse(file, size, mode = 0o644) {
  const fd = fs.openSync(file, 'wx', mode);
  try {
    fs.ftruncateSync(fd, size);
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
  stats.files++;
  stats.apparentBytes += size;
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

function isEmptyDir(dir) {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (error) {
    if (error.code === 'ENOENT') return true;
    throw error;
  }
}

// --- the tree -------------------------------------------------------------------------------------
export function generate(options, log = (line) => process.stdout.write(`${line}\n`)) {
  const started = performance.now();
  const dir = path.resolve(options.dir);
  const home = path.join(dir, 'home', 'alice');
  const state = path.join(home, '.resonix');
  if (!isEmptyDir(dir)) {
    if (!options.force) throw new Error(`${dir} is not empty; pass --force to replace the generated tree in it`);
    // --force removes only what this script makes
    fs.rmSync(path.join(dir, 'home'), { recursive: true, force: true });
    fs.rmSync(path.join(dir, MARKER), { force: true });
  }
  for (const key of Object.keys(stats)) stats[key] = 0;
  fs.mkdirSync(home, { recursive: true, mode: 0o750 });
  fs.chmodSync(home, 0o750);

  const random = rng(0x5e5510);
  const now = Date.UTC(2026, 3, 12, 12, 0, 0);

  mkdir(state);
  const config = {
    // written by the bench generator: a file-based (2026.4) install
    meta: { lastTouchedVersion: '2026.4.12', lastTouchedAt: new Date(now).toISOString() },
    wizard: { lastRunVersion: '2026.4.12', lastRunCommand: 'onboard', lastRunMode: 'local' },
    gateway: { mode: 'local', port: 18789, bind: 'loopback', auth: { mode: 'token', token: `gw_${token(random, 40)}` } },
    agents: {
      defaults: { model: { primary: 'anthropic/claude-opus-5' } },
      list: AGENTS.map((id, index) => ({ id, ...(index === 0 ? { default: true } : {}), name: id })),
    },
    channels: {
      whatsapp: { accounts: Object.fromEntries(WHATSAPP_ACCOUNTS.map((id) => [id, { enabled: true }])) },
      telegram: { botToken: `${100000000 + Math.floor(random() * 899999999)}:${token(random, 35)}` },
    },
    auth: { profiles: { 'anthropic:default': { provider: 'anthropic', mode: 'api_key' } } },
  };
  write(path.join(state, 'resonix.json'), json(config));
  write(path.join(state, 'resonix.json.bak'), json(config));
  write(path.join(state, 'resonix.json.bak.1'), json(config));
  write(path.join(state, '.env'), `ANTHROPIC_API_KEY=sk-ant-bench-${token(random, 48)}\nOPENAI_API_KEY=sk-bench-${token(random, 48)}\n`);

  // agents: auth profiles, session index, transcripts spread round-robin over the agents
  const perAgent = AGENTS.map((_, index) => Math.floor(options.sessions / AGENTS.length) + (index < options.sessions % AGENTS.length ? 1 : 0));
  mkdir(path.join(state, 'agents'));
  AGENTS.forEach((agentId, agentIndex) => {
    const agentRoot = path.join(state, 'agents', agentId);
    mkdir(agentRoot);
    mkdir(path.join(agentRoot, 'agent'));
    write(
      path.join(agentRoot, 'agent', 'auth-profiles.json'),
      json({ version: 1, profiles: { 'anthropic:default': { type: 'api_key', provider: 'anthropic', key: `sk-ant-bench-${token(random, 48)}` } } }),
    );
    write(path.join(agentRoot, 'agent', 'models.json'), json({ providers: {} }));
    const sessionsDir = path.join(agentRoot, 'sessions');
    mkdir(sessionsDir);
    const index = {};
    for (let i = 0; i < perAgent[agentIndex]; i++) {
      const sessionId = uuid(random);
      const updatedAt = now - Math.floor(random() * 180 * 86_400_000);
      const at = new Date(updatedAt).toISOString();
      const lines = [
        { type: 'session', version: 3, id: sessionId, timestamp: at, cwd: '/home/alice' },
        { type: 'message', timestamp: at, message: { role: 'user', content: [{ type: 'text', text: `hello ${i}` }] } },
        { type: 'message', timestamp: at, message: { role: 'assistant', content: [{ type: 'text', text: 'Hi! How can I help?' }] } },
      ];
      write(path.join(sessionsDir, `${sessionId}.jsonl`), `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
      index[`agent:${agentId}:whatsapp:dm:+1555${String(i).padStart(7, '0')}`] = { sessionId, updatedAt, chatType: 'direct' };
    }
    write(path.join(sessionsDir, 'sessions.json'), `${JSON.stringify(index)}\n`);
  });

  // credentials: WhatsApp (Baileys) auth dirs, `options.credentials` files in all, plus pairing files
  const credentials = path.join(state, 'credentials');
  mkdir(credentials);
  write(path.join(credentials, 'telegram-pairing.json'), json({ version: 1, requests: [] }));
  write(path.join(credentials, 'whatsapp-default-allowFrom.json'), json({ version: 1, allowFrom: ['+15550000001'] }));
  mkdir(path.join(credentials, 'whatsapp'));
  const accounts = options.credentials === 0 ? [] : WHATSAPP_ACCOUNTS.slice(0, Math.min(WHATSAPP_ACCOUNTS.length, options.credentials));
  accounts.forEach((account, accountIndex) => {
    const accountDir = path.join(credentials, 'whatsapp', account);
    mkdir(accountDir);
    const files = Math.floor(options.credentials / accounts.length) + (accountIndex < options.credentials % accounts.length ? 1 : 0);
    write(path.join(accountDir, 'creds.json'), json({ noiseKey: { private: token(random, 44), public: token(random, 44) }, registrationId: accountIndex + 1 }));
    for (let n = 1; n < files; n++) {
      const name = n % 2 === 1 ? `pre-key-${(n + 1) / 2}.json` : `session-${n / 2}.json`;
      write(path.join(accountDir, name), json({ private: token(random, 44), public: token(random, 44) }));
    }
  });

  // identity, devices, cron, logs, delivery queue
  mkdir(path.join(state, 'identity'));
  write(path.join(state, 'identity', 'device.json'), json({ deviceId: uuid(random), privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${token(random, 64)}\n-----END PRIVATE KEY-----\n` }));
  write(path.join(state, 'identity', 'device-auth.json'), json({ tokens: {} }));
  mkdir(path.join(state, 'devices'));
  write(path.join(state, 'devices', 'paired.json'), json({}));
  write(path.join(state, 'devices', 'pending.json'), json({}));
  mkdir(path.join(state, 'cron'));
  write(path.join(state, 'cron', 'jobs.json'), json({ version: 1, jobs: [] }));
  mkdir(path.join(state, 'logs'));
  write(path.join(state, 'logs', 'config-audit.jsonl'), `${JSON.stringify({ at: new Date(now).toISOString(), event: 'write' })}\n`);
  mkdir(path.join(state, 'delivery-queue'));

  // media: a few big sparse files and some small ones, files 0644
  mkdir(path.join(state, 'media'));
  const inbound = path.join(state, 'media', 'inbound');
  mkdir(inbound);
  mkdir(path.join(state, 'media', 'outbound'));
  const totalMedia = Math.round(options.mediaGb * 1024 ** 3);
  const bigFiles = totalMedia > 0 ? Math.max(1, Math.ceil(options.mediaGb * 4)) : 0;
  for (let i = 0; i < bigFiles; i++) {
    const size = Math.floor(totalMedia / bigFiles) + (i < totalMedia % bigFiles ? 1 : 0);
    sparse(path.join(inbound, `${uuid(random)}.mp4`), size);
  }
  for (let i = 0; i < 200; i++) write(path.join(inbound, `${uuid(random)}.jpg`), `\xff\xd8\xff\xe0 bench ${i}\n`, 0o644);

  // workspaces: the default agent's in <state>/workspace, the others' in <state>/workspace-<id>
  AGENTS.forEach((agentId, agentIndex) => {
    const workspace = path.join(state, agentIndex === 0 ? 'workspace' : `workspace-${agentId}`);
    mkdir(workspace, 0o755);
    for (const name of ['AGENTS.md', 'SOUL.md', 'TOOLS.md', 'IDENTITY.md', 'USER.md', 'HEARTBEAT.md', 'MEMORY.md']) {
      write(path.join(workspace, name), `# ${name.replace(/\.md$/, '')}\n\nWorkspace of ${agentId}.\n`, 0o644);
    }
    mkdir(path.join(workspace, '.resonix'), 0o755);
    write(path.join(workspace, '.resonix', 'workspace-state.json'), json({ version: 1, bootstrapped: true }), 0o644);
    mkdir(path.join(workspace, 'memory'), 0o755);
    const days = agentIndex === 0 ? 365 : 30;
    for (let day = 0; day < days; day++) {
      const date = new Date(now - day * 86_400_000).toISOString().slice(0, 10);
      write(path.join(workspace, 'memory', `${date}.md`), `# ${date}\n\n- note ${day} of ${agentId}\n`, 0o644);
    }
    mkdir(path.join(workspace, 'skills'), 0o755);
  });

  fs.writeFileSync(
    path.join(dir, MARKER),
    json({ sessions: options.sessions, credentials: options.credentials, mediaGb: options.mediaGb, home, state, ...stats }),
  );
  const seconds = (performance.now() - started) / 1000;
  const entries = stats.dirs + stats.files;
  log(`generated ${state}`);
  log(`  ${options.sessions} session transcripts over ${AGENTS.length} agents (${AGENTS.join(', ')})`);
  log(`  ${options.credentials} WhatsApp credential files over ${accounts.length} accounts, ${bigFiles} sparse media files (${options.mediaGb} GB apparent)`);
  log(`  ${entries} entries (${stats.dirs} dirs, ${stats.files} files, the root included), ${(stats.bytes / 1024 ** 2).toFixed(1)} MB written, ${(stats.apparentBytes / 1024 ** 3).toFixed(2)} GB apparent`);
  log(`  took ${seconds.toFixed(1)} s; scan it with: --home ${home}`);
  return { home, state, entries, seconds, ...stats };
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  try {
    generate(parseGenerateArgs(process.argv.slice(2)));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}
