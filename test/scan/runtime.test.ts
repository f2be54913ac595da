import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calverCompare, extractResonixVersion, nodeVersionFromPath, parseResonixVersion } from '../../src/knowledge/versions.js';
import { inspectPathRuntime, inspectServiceRuntime, MAX_BINARY_SCAN_BYTES, nodeVersionFromBinary, probeLoopbackPorts, resolveInRoot } from '../../src/scan/runtime.js';

describe('calendar versions', () => {
  it('orders releases numerically, not as text', () => {
    expect(calverCompare('2026.10.1', '2026.9.6')).toBeGreaterThan(0);
    expect(calverCompare('2026.5.28', '2026.5.30')).toBeLessThan(0);
    expect(calverCompare('2027.1.1', '2026.12.31')).toBeGreaterThan(0);
    expect(calverCompare('v2026.9.6', '2026.9.6')).toBe(0);
    expect(calverCompare('2026.05.30', '2026.5.30')).toBe(0);
  });

  it('sorts pre-releases before their release and after the previous one', () => {
    expect(calverCompare('2026.5.30-beta.1', '2026.5.30')).toBeLessThan(0);
    expect(calverCompare('2026.5.30-beta.2', '2026.5.30-beta.10')).toBeLessThan(0);
    expect(calverCompare('2026.5.30-beta.1', '2026.5.28')).toBeGreaterThan(0);
    const sorted = ['2026.9.6', '2026.5.30', '2026.10.1', '2026.5.30-beta.1', '2026.5.28'].sort(calverCompare);
    expect(sorted).toEqual(['2026.5.28', '2026.5.30-beta.1', '2026.5.30', '2026.9.6', '2026.10.1']);
  });

  it('parses with a leading v and rejects junk', () => {
    expect(parseResonixVersion('v2026.5.30-beta.1')?.version).toBe('2026.5.30-beta.1');
    expect(parseResonixVersion('2026.5.30')?.prerelease).toEqual([]);
    expect(parseResonixVersion('latest')).toBeUndefined();
    expect(parseResonixVersion('2026.5')).toBeUndefined();
    expect(calverCompare('garbage', '2026.1.1')).toBeLessThan(0);
  });

  it('finds a version in command output', () => {
    expect(extractResonixVersion('Resonix 2026.9.6 (3f2a1bc)\n')).toBe('2026.9.6');
    expect(extractResonixVersion('v2026.5.30-beta.1')).toBe('2026.5.30-beta.1');
    expect(extractResonixVersion('no version here')).toBeUndefined();
  });
});

describe('node versions from paths', () => {
  it.each([
    ['/home/alice/.nvm/versions/node/v22.19.0/bin/node', '22.19.0'],
    ['/opt/node-v24.1.0-linux-x64/bin/node', '24.1.0'],
    ['/home/alice/.volta/tools/image/node/24.16.0/bin/node', '24.16.0'],
    ['/opt/homebrew/Cellar/node@22/22.19.0_1/bin/node', '22.19.0'],
    ['/opt/homebrew/opt/node@22/bin/node', '22'],
    ['/usr/bin/node', undefined],
  ])('%s → %s', (binary, expected) => {
    expect(nodeVersionFromPath(binary)).toBe(expected);
  });
});

describe('nodeVersionFromBinary', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-embedded-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the version the real node binary embeds, without running it', () => {
    if (!/^(node|nodejs)/.test(path.basename(process.execPath))) return;
    const started = Date.now();
    expect(nodeVersionFromBinary(process.execPath)).toBe(process.versions.node);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('finds a marker that straddles two read chunks, and the release URL form', () => {
    const straddling = path.join(dir, 'straddling');
    const marker = Buffer.from('node.js/v24.16.0\0');
    fs.writeFileSync(straddling, Buffer.concat([Buffer.alloc(1024 * 1024 - 5, 0x41), marker, Buffer.alloc(100, 0x41)]));
    expect(nodeVersionFromBinary(straddling)).toBe('24.16.0');
    const url = path.join(dir, 'url');
    fs.writeFileSync(url, Buffer.concat([Buffer.alloc(5000, 0), Buffer.from('https://nodejs.org/download/release/v22.19.0/node-v22.19.0.tar.gz\0')]));
    expect(nodeVersionFromBinary(url)).toBe('22.19.0');
  });

  it('reads only a Mach-O\'s __TEXT,__cstring, thin or universal', () => {
    const thin = (decoy: string, real: string): Buffer => {
      const file = Buffer.alloc(8192);
      file.writeUInt32LE(0xfeedfacf, 0);
      file.writeUInt32LE(1, 16); // ncmds
      file.writeUInt32LE(72 + 80, 20); // sizeofcmds
      file.writeUInt32LE(0x19, 32); // LC_SEGMENT_64
      file.writeUInt32LE(72 + 80, 36);
      file.write('__TEXT', 40, 'latin1');
      file.writeUInt32LE(1, 32 + 64); // nsects
      const section = 32 + 72;
      file.write('__cstring', section, 'latin1');
      file.write('__TEXT', section + 16, 'latin1');
      file.writeBigUInt64LE(64n, section + 40); // size
      file.writeUInt32LE(4096, section + 48); // offset
      file.write(`${decoy}\0`, 1024, 'latin1'); // outside the section: never read
      file.write(`${real}\0`, 4096 + 8, 'latin1');
      return file;
    };
    const macho = path.join(dir, 'macho');
    fs.writeFileSync(macho, thin('node.js/v1.2.3', 'node.js/v24.16.0'));
    expect(nodeVersionFromBinary(macho)).toBe('24.16.0');
    const fat = Buffer.alloc(16384);
    fat.writeUInt32BE(0xcafebabe, 0);
    fat.writeUInt32BE(1, 4);
    fat.writeUInt32BE(8192, 16); // offset of the first slice
    fat.writeUInt32BE(8192, 20);
    fat.write('node.js/v1.2.3\0', 100, 'latin1');
    thin('node.js/v1.2.3', 'node.js/v22.19.0').copy(fat, 8192);
    const universal = path.join(dir, 'universal');
    fs.writeFileSync(universal, fat);
    expect(nodeVersionFromBinary(universal)).toBe('22.19.0');
  });

  it('says nothing for a script, a FIFO or a marker past the read limit, and never blocks', () => {
    const script = path.join(dir, 'node');
    fs.writeFileSync(script, '#!/bin/sh\necho v99.0.0\n', { mode: 0o755 });
    expect(nodeVersionFromBinary(script)).toBeUndefined();
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(nodeVersionFromBinary(fifo)).toBeUndefined();
    const far = path.join(dir, 'far');
    const fd = fs.openSync(far, 'w');
    fs.writeSync(fd, Buffer.from('node.js/v20.1.0\0'), 0, 16, MAX_BINARY_SCAN_BYTES + 10);
    fs.closeSync(fd);
    expect(nodeVersionFromBinary(far)).toBeUndefined();
  });
});

describe('inspectServiceRuntime', () => {
  let root: string;
  const write = (machinePath: string, content: string, mode = 0o644): void => {
    const host = path.join(root, machinePath);
    fs.mkdirSync(path.dirname(host), { recursive: true });
    fs.writeFileSync(host, content, { mode });
  };

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-runtime-'));
    write(
      '/usr/lib/node_modules/resonix/package.json',
      JSON.stringify({
        name: 'resonix',
        version: '2026.9.6',
        engines: { node: '>=24.16.0 <25 || >=26.1.0' },
        resonix: { schemaVersions: { state: 18, agent: 23 } },
      }),
    );
    // a nested package.json of another name must not stop the walk
    write('/usr/lib/node_modules/resonix/dist/package.json', JSON.stringify({ type: 'module' }));
    write('/usr/lib/node_modules/resonix/dist/index.js', 'export {};\n');
    write('/usr/bin/node', '#!/bin/sh\necho must never run\nexit 1\n', 0o755);
    write('/usr/include/node/node_version.h', '#define NODE_MAJOR_VERSION 24\n#define NODE_MINOR_VERSION 16\n#define NODE_PATCH_VERSION 0\n');
    write('/etc/resonix/gateway.env', 'RESONIX_GATEWAY_PORT=18789\n');
    // absolute symlinks are resolved inside the image, never on the host
    fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
    fs.symlinkSync('/usr/bin/node', path.join(root, 'usr/local/bin/node'));
    fs.symlinkSync('/usr/lib/node_modules/resonix/dist/index.js', path.join(root, 'usr/local/bin/resonix'));
    fs.mkdirSync(path.join(root, 'opt/image-only'), { recursive: true });
    fs.symlinkSync('/opt/image-only', path.join(root, 'opt/link'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reports the old machine\'s nvm node as missing and infers its version from the path', () => {
    const result = inspectServiceRuntime(
      root,
      {
        execStart: ['/home/alice/.nvm/versions/node/v22.19.0/bin/node', '/usr/lib/node_modules/resonix/dist/index.js', 'gateway', '--port', '18789'],
        environmentFiles: [],
      },
      { live: false },
    );
    expect(result.missingPaths).toEqual(['/home/alice/.nvm/versions/node/v22.19.0/bin/node']);
    expect(result.nodeVersion).toBe('22.19.0');
    expect(result.resonixVersion).toBe('2026.9.6');
    expect(result.nodeRange).toBe('>=24.16.0 <25 || >=26.1.0');
    expect(result.schemaVersions).toEqual({ state: 18, agent: 23 });
  });

  it('reads node_version.h for a distribution node, without executing anything from the image', () => {
    const result = inspectServiceRuntime(
      root,
      {
        execStart: ['/usr/local/bin/node', '/usr/lib/node_modules/resonix/dist/index.js', 'gateway'],
        workingDirectory: '/opt/link',
        environmentFiles: [{ path: '/etc/resonix/gateway.env', exists: true }],
      },
      { live: false },
    );
    expect(result.missingPaths).toEqual([]);
    expect(result.nodeVersion).toBe('24.16.0');
    expect(result.resonixVersion).toBe('2026.9.6');
  });

  it('lists a missing entry script, working dir and required environment file, not optional ones', () => {
    const result = inspectServiceRuntime(
      root,
      {
        execStart: ['/usr/bin/node', '/opt/homebrew/lib/node_modules/resonix/dist/index.js', 'gateway'],
        workingDirectory: '/Users/alice',
        environmentFiles: [
          { path: '/home/alice/.config/resonix/gateway.env', exists: false },
          { path: '/run/optional.env', exists: false, optional: true },
        ],
      },
      { live: false },
    );
    expect(result.missingPaths).toEqual(['/opt/homebrew/lib/node_modules/resonix/dist/index.js', '/Users/alice', '/home/alice/.config/resonix/gateway.env']);
    expect(result.resonixVersion).toBeUndefined();
    expect(result.nodeVersion).toBe('24.16.0');
  });

  it('follows a resonix launcher run directly to its package', () => {
    const result = inspectServiceRuntime(root, { execStart: ['/usr/local/bin/resonix', 'gateway'], environmentFiles: [] }, { live: false });
    expect(result.missingPaths).toEqual([]);
    expect(result.resonixVersion).toBe('2026.9.6');
    expect(result.nodeVersion).toBeUndefined();
  });

  it('takes the unit\'s RESONIX_SERVICE_VERSION when the entry script is there but its package does not say', () => {
    write('/opt/bundle/gateway.mjs', 'export {};\n');
    const declared = inspectServiceRuntime(root, { execStart: ['/usr/bin/node', '/opt/bundle/gateway.mjs', 'gateway'], environmentFiles: [], serviceVersion: '2026.5.28' }, { live: false });
    expect(declared.resonixVersion).toBe('2026.5.28');
    // the package wins over what the unit says; a missing entry script runs nothing, whatever the unit says
    const packaged = inspectServiceRuntime(root, { execStart: ['/usr/bin/node', '/usr/lib/node_modules/resonix/dist/index.js'], environmentFiles: [], serviceVersion: '2026.5.28' }, { live: false });
    expect(packaged.resonixVersion).toBe('2026.9.6');
    const missing = inspectServiceRuntime(root, { execStart: ['/usr/bin/node', '/opt/gone/index.js'], environmentFiles: [], serviceVersion: '2026.5.28' }, { live: false });
    expect(missing.resonixVersion).toBeUndefined();
    const junk = inspectServiceRuntime(root, { execStart: ['/usr/bin/node', '/opt/bundle/gateway.mjs'], environmentFiles: [], serviceVersion: 'latest' }, { live: false });
    expect(junk.resonixVersion).toBeUndefined();
  });

  it('resolves absolute symlinks inside the root', () => {
    expect(resolveInRoot(root, '/usr/local/bin/node')).toBe('/usr/bin/node');
    expect(resolveInRoot(root, '/opt/link')).toBe('/opt/image-only');
    expect(resolveInRoot(root, '/usr/../../../usr/bin/node')).toBe('/usr/bin/node');
    expect(resolveInRoot(root, '/nope')).toBeUndefined();
  });

  it('learns the real node binary\'s version in live mode', () => {
    const result = inspectServiceRuntime('/', { execStart: [process.execPath, '--version'], environmentFiles: [] }, { live: true });
    if (/^(node|nodejs)/.test(path.basename(process.execPath))) expect(result.nodeVersion).toBe(process.versions.node);
    expect(result.missingPaths).toEqual([]);
  });
});

describe('inspectPathRuntime', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-path-'));
    // a program that must run runs as its owner, or as nobody for root's files below the sticky /tmp
    fs.chmodSync(dir, 0o755);
    const pkg = path.join(dir, 'lib/node_modules/resonix');
    fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    fs.writeFileSync(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: 'resonix', version: '2026.5.28', engines: { node: '>=22.19.0' }, resonix: { schemaVersions: { state: 7 } } }),
    );
    fs.writeFileSync(path.join(pkg, 'dist/index.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.symlinkSync(path.join(pkg, 'dist/index.js'), path.join(dir, 'bin/resonix'));
    fs.symlinkSync(process.execPath, path.join(dir, 'bin/node'));
    fs.mkdirSync(path.join(dir, 'bare'));
    fs.writeFileSync(path.join(dir, 'bare/resonix'), '#!/bin/sh\necho "resonix 2026.9.6 (abc1234)"\n', { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads the package.json next to the real resonix script and asks node', () => {
    const runtime = inspectPathRuntime({ PATH: `${path.join(dir, 'bin')}:relative/dir` });
    expect(runtime).toMatchObject({
      resonixVersion: '2026.5.28',
      resonixSource: 'path',
      nodeRange: '>=22.19.0',
      schemaVersions: { state: 7 },
      nodePath: path.join(dir, 'bin/node'),
      nodeVersion: process.versions.node,
    });
  });

  it('falls back to `resonix --version` when there is no package.json', () => {
    const runtime = inspectPathRuntime({ PATH: `${path.join(dir, 'bare')}:/usr/bin:/bin` });
    expect(runtime.resonixVersion).toBe('2026.9.6');
    expect(runtime.resonixSource).toBe('path');
    expect(runtime.nodeRange).toBeUndefined();
  });

  it('lets the --resonix-version flag win, dropping the range of another build', () => {
    const runtime = inspectPathRuntime({ PATH: path.join(dir, 'bin') }, { resonixVersionFlag: 'v2026.9.6' });
    expect(runtime.resonixVersion).toBe('2026.9.6');
    expect(runtime.resonixSource).toBe('flag');
    expect(runtime.nodeRange).toBeUndefined();
    const same = inspectPathRuntime({ PATH: path.join(dir, 'bin') }, { resonixVersionFlag: '2026.5.28' });
    expect(same.nodeRange).toBe('>=22.19.0');
  });

  it('finds nothing on an empty PATH', () => {
    expect(inspectPathRuntime({})).toEqual({});
  });
});

describe.skipIf(process.getuid?.() !== 0)('the scanned machine\'s node and resonix, as root (needs root to chown; skipped when not root)', () => {
  let dir: string;
  let marks: string;
  const fake = (file: string, mark: string, output: string, uid: number): string => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `#!/bin/sh\nid -u >> ${marks}/${mark}\necho '${output}'\n`, { mode: 0o755 });
    fs.chownSync(file, uid, uid);
    return file;
  };
  const ranAs = (mark: string): string[] => (fs.existsSync(path.join(marks, mark)) ? fs.readFileSync(path.join(marks, mark), 'utf8').trim().split('\n') : []);
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resonix-owned-'));
    fs.chmodSync(dir, 0o755);
    marks = path.join(dir, 'marks');
    fs.mkdirSync(marks, { mode: 0o1777 });
    fs.chmodSync(marks, 0o1777);
    fs.mkdirSync(path.join(dir, 'home/alice'), { recursive: true });
    execFileSync('chown', ['1000:1000', path.join(dir, 'home/alice')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a user-owned node named by ExecStart runs as its owner in live mode, and not at all in image mode', () => {
    const bin = path.join(dir, 'home/alice/bin');
    const node = fake(path.join(bin, 'node'), 'unit-node', 'v22.19.0', 1000);
    fs.chownSync(bin, 1000, 1000);
    const image = inspectServiceRuntime('/', { execStart: [node, '/nonexistent/index.js'], environmentFiles: [] }, { live: false });
    expect(image.nodeVersion).toBeUndefined();
    expect(ranAs('unit-node')).toEqual([]);
    const live = inspectServiceRuntime('/', { execStart: [node, '/nonexistent/index.js'], environmentFiles: [] }, { live: true });
    expect(live.nodeVersion).toBe('22.19.0');
    expect(ranAs('unit-node')).toEqual(['1000']);
  });

  it('a user-owned node and resonix on PATH run as their owner', () => {
    const bin = path.join(dir, 'home/alice/path-bin');
    fake(path.join(bin, 'node'), 'path-node', 'v24.16.0', 1000);
    fake(path.join(bin, 'resonix'), 'path-resonix', 'resonix 2026.9.6 (abc1234)', 1000);
    fs.chownSync(bin, 1000, 1000);
    const runtime = inspectPathRuntime({ PATH: bin });
    expect(runtime).toMatchObject({ nodeVersion: '24.16.0', resonixVersion: '2026.9.6', resonixSource: 'path' });
    expect(ranAs('path-node')).toEqual(['1000']);
    expect(ranAs('path-resonix')).toEqual(['1000']);
  });

  it('root\'s node in a dir anyone may write does not run at all', () => {
    const open = path.join(dir, 'shared-bin');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const node = fake(path.join(open, 'node'), 'open-node', 'v22.19.0', 0);
    expect(inspectServiceRuntime('/', { execStart: [node], environmentFiles: [] }, { live: true }).nodeVersion).toBeUndefined();
    expect(inspectPathRuntime({ PATH: open }).nodeVersion).toBeUndefined();
    expect(ranAs('open-node')).toEqual([]);
  });
});

describe('probeLoopbackPorts', () => {
  it('returns the ports that accept connections on 127.0.0.1', async () => {
    const listening = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const openPort = (listening.address() as net.AddressInfo).port;
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    try {
      const started = Date.now();
      expect(await probeLoopbackPorts([closedPort, openPort, openPort, 0, 70000], 300)).toEqual([openPort]);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await new Promise<void>((resolve) => listening.close(() => resolve()));
    }
  });
});
