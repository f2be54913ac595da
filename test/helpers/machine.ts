// In-memory Machines for rule unit tests: a few lines describe an install, no filesystem involved.
import type { ConfigSummary, FileEntry, GatewayUser, Home, Install, Machine, Resolution, ServiceUnit } from '../../src/model.js';

export const ALICE: GatewayUser = { name: 'alice', uid: 1000, gid: 1000, groups: [1000], source: 'home-owner' };

type EntrySpec = string | [path: string, mode?: number, uid?: number, extra?: Partial<FileEntry>];

/** 'dir/' is a dir (0700), anything else a file (0600), owned by alice unless said otherwise. */
export function entries(specs: EntrySpec[], owner = ALICE.uid): FileEntry[] {
  const list: FileEntry[] = [{ path: '', type: 'dir', mode: 0o700, uid: owner, gid: owner, size: 4096, mtimeMs: 0 }];
  for (const spec of specs) {
    const [raw, mode, uid, extra] = typeof spec === 'string' ? [spec] : spec;
    const isDir = raw.endsWith('/');
    const path = isDir ? raw.slice(0, -1) : raw;
    if (path === '') {
      Object.assign(list[0]!, { ...(mode !== undefined ? { mode } : {}), ...(uid !== undefined ? { uid } : {}), ...extra });
      continue;
    }
    list.push({ path, type: isDir ? 'dir' : 'file', mode: mode ?? (isDir ? 0o700 : 0o600), uid: uid ?? owner, gid: uid ?? owner, size: isDir ? 4096 : 100, mtimeMs: 0, ...extra });
  }
  // parents that were not listed exist as 0700 dirs
  for (const entry of [...list]) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!list.some((item) => item.path === parent)) list.push({ path: parent, type: 'dir', mode: 0o700, uid: owner, gid: owner, size: 4096, mtimeMs: 0 });
    }
  }
  return list;
}

export function config(overrides: Partial<ConfigSummary> = {}, path = '/home/alice/.resonix/resonix.json'): ConfigSummary {
  return { path, exists: true, gatewayMode: 'local', agents: [], channels: [], whatsappAccounts: [], includes: [], envRefs: [], paths: [], inlineSecretKeys: [], ...overrides };
}

export const HEALTHY_FILES: EntrySpec[] = [
  'resonix.json',
  'credentials/',
  'credentials/whatsapp/default/creds.json',
  'agents/main/agent/auth-profiles.json',
  'agents/main/sessions/sessions.json',
  'agents/main/sessions/a1.jsonl',
  'workspace/',
  ['workspace/AGENTS.md', 0o644],
];

export function install(stateDir = '/home/alice/.resonix', specs: EntrySpec[] = HEALTHY_FILES, overrides: Partial<Install> = {}): Install {
  const inventoryEntries = overrides.inventory?.entries ?? entries(specs);
  const exists = overrides.inventory?.exists ?? true;
  const hasData = inventoryEntries.some((entry) => entry.type === 'file');
  return {
    id: stateDir,
    stateDir,
    active: true,
    servedBy: [],
    foundBy: 'resolution',
    inventory: { root: stateDir, exists, entries: exists ? inventoryEntries : [] },
    generation: 'file',
    hasData: exists && hasData,
    config: config({}, `${stateDir}/resonix.json`),
    workspaces: [],
    sqlite: [],
    dotenvKeys: [],
    ...overrides,
  };
}

export function resolution(home = '/home/alice', stateDir = `${home}/.resonix`, extra: Partial<Resolution> = {}): Resolution {
  return { home, homeSource: 'HOME', stateDir, stateDirSource: 'default', configPath: `${stateDir}/resonix.json`, configPathSource: 'default', ...extra };
}

export function service(stateDir: string, extra: Partial<ServiceUnit> = {}): ServiceUnit {
  return {
    kind: 'systemd-user',
    path: '/home/alice/.config/systemd/user/resonix-gateway.service',
    name: 'resonix-gateway.service',
    enabled: true,
    execStart: ['/usr/bin/node', '/usr/lib/node_modules/resonix/dist/index.js', 'gateway', '--port', '18789'],
    env: { HOME: '/home/alice' },
    envKeys: ['HOME'],
    secretEnvKeys: [],
    environmentFiles: [],
    resolution: resolution('/home/alice', stateDir),
    ...extra,
  };
}

export function home(installs: Install[] = [install()], extra: Partial<Home> = {}): Home {
  return {
    path: '/home/alice',
    exists: true,
    ownerUid: 1000,
    ownerGid: 1000,
    user: 'alice',
    resolution: resolution(),
    gatewayUser: ALICE,
    installs,
    services: [],
    locks: [],
    workspaceDirs: [],
    ...extra,
  };
}

export function machine(homes: Home[] = [home()], extra: Partial<Machine> = {}): Machine {
  return {
    schema: 1,
    mode: 'live',
    root: '/',
    platform: 'linux',
    scannedAt: '2026-11-24T00:00:00.000Z',
    currentUid: 1000,
    users: [
      { name: 'root', uid: 0, gid: 0, home: '/root' },
      { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
    ],
    groups: [
      { name: 'root', gid: 0, members: [] },
      { name: 'alice', gid: 1000, members: [] },
    ],
    homes,
    archives: [],
    processEnvKeys: [],
    problems: [],
    ...extra,
  };
}
