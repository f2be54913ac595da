import fc from 'fast-check';
import { buildBinary } from 'plist';
import { describe, expect, it } from 'vitest';
import { binaryPlistProblem, parseLaunchdPlist } from '../../src/scan/plist.js';

const GATEWAY_TOKEN = '3f9a1c0b7e2d4f6a8b1c3e5d7f9a0b2c4d6e8f0a1b3c5d7e';

const AGENT_PLIST = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>ai.resonix.gateway</string>
  <key>ProgramArguments</key>
  <array>
    <string>/opt/homebrew/Cellar/node/22.19.0/bin/node</string>
    <string>/opt/homebrew/lib/node_modules/resonix/dist/index.js</string>
    <string>gateway</string>
    <string>--port</string>
    <string>18789</string>
  </array>
  <key>WorkingDirectory</key>
  <string>/Users/alice</string>
  <key>UserName</key>
  <string>alice</string>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>Umask</key>
  <integer>63</integer>
  <key>EnvironmentVariables</key>
  <dict>
    <key>HOME</key>
    <string>/Users/alice</string>
    <key>PATH</key>
    <string>/opt/homebrew/bin:/usr/bin:/bin</string>
    <key>RESONIX_GATEWAY_PORT</key>
    <string>18789</string>
    <key>RESONIX_GATEWAY_TOKEN</key>
    <string>${GATEWAY_TOKEN}</string>
    <key>RESONIX_SERVICE_MARKER</key>
    <string>resonix</string>
  </dict>
  <key>StandardOutPath</key>
  <string>/Users/alice/.resonix/logs/gateway.log</string>
</dict>
</plist>
`;

const EXPECTED = {
  label: 'ai.resonix.gateway',
  execStart: [
    '/opt/homebrew/Cellar/node/22.19.0/bin/node',
    '/opt/homebrew/lib/node_modules/resonix/dist/index.js',
    'gateway',
    '--port',
    '18789',
  ],
  workingDirectory: '/Users/alice',
  user: 'alice',
  environment: {
    HOME: '/Users/alice',
    PATH: '/opt/homebrew/bin:/usr/bin:/bin',
    RESONIX_GATEWAY_PORT: '18789',
    RESONIX_GATEWAY_TOKEN: GATEWAY_TOKEN,
    RESONIX_SERVICE_MARKER: 'resonix',
  },
  environmentFiles: [],
  wantedBy: [],
  errors: [],
  runAtLoad: true,
  keepAlive: true,
  disabled: false,
};

/** bplist00 with the given objects (1-byte offsets and refs), top object 0 */
function rawBinaryPlist(objects: number[][]): Uint8Array {
  const bytes = [...Buffer.from('bplist00')];
  const offsets: number[] = [];
  for (const object of objects) {
    offsets.push(bytes.length);
    bytes.push(...object);
  }
  const table = bytes.length;
  bytes.push(...offsets);
  const u64 = (value: number) => [0, 0, 0, 0, 0, 0, 0, value];
  bytes.push(0, 0, 0, 0, 0, 0, 1, 1, ...u64(objects.length), ...u64(0), ...u64(table));
  return Uint8Array.from(bytes);
}

describe('parseLaunchdPlist', () => {
  it('reads a gateway agent (XML text or bytes)', () => {
    expect(parseLaunchdPlist(AGENT_PLIST)).toEqual(EXPECTED);
    expect(parseLaunchdPlist(Buffer.from(AGENT_PLIST))).toEqual(EXPECTED);
  });

  it('reads a binary plist given as bytes', () => {
    const binary = buildBinary({
      Label: 'ai.resonix.work',
      ProgramArguments: ['/usr/local/bin/node', '/usr/local/lib/node_modules/resonix/dist/index.js', 'gateway'],
      EnvironmentVariables: { RESONIX_PROFILE: 'work', RESONIX_GATEWAY_TOKEN: GATEWAY_TOKEN },
      RunAtLoad: false,
    });
    expect(parseLaunchdPlist(binary)).toMatchObject({
      label: 'ai.resonix.work',
      execStart: ['/usr/local/bin/node', '/usr/local/lib/node_modules/resonix/dist/index.js', 'gateway'],
      environment: { RESONIX_PROFILE: 'work', RESONIX_GATEWAY_TOKEN: GATEWAY_TOKEN },
      runAtLoad: false,
      errors: [],
    });
    // latin1 text still holds every byte
    expect(parseLaunchdPlist(Buffer.from(binary).toString('latin1')).label).toBe('ai.resonix.work');
  });

  it('refuses a binary plist whose bytes were lost to UTF-8 decoding', () => {
    const binary = buildBinary({ Label: 'ai.resonix.gateway', Umask: 63, Big: 1e6 });
    const text = Buffer.from(binary).toString('utf8');
    const parsed = parseLaunchdPlist(text);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatch(/binary plist not supported|invalid plist/);
  });

  it('refuses hostile binary plists instead of recursing or expanding', () => {
    const cycle = rawBinaryPlist([[0xa1, 0x00]]);
    expect(binaryPlistProblem(cycle)).toBe('reference cycle');
    expect(parseLaunchdPlist(cycle).errors).toEqual(['binary plist not supported: reference cycle']);
    // each array holds the next one twice: 2^60 objects once expanded
    const levels = Array.from({ length: 60 }, (_, i) => [0xa2, i + 1, i + 1]);
    const bomb = rawBinaryPlist([...levels, [0x51, 0x61]]);
    expect(parseLaunchdPlist(bomb).errors).toEqual(['binary plist not supported: too many objects']);
    expect(parseLaunchdPlist(Buffer.from('bplist00 truncated')).errors).toEqual(['binary plist not supported: truncated']);
    expect(parseLaunchdPlist(Buffer.from('bplist15....')).errors[0]).toMatch(/unknown version/);
  });

  it('uses Program as the executable and ProgramArguments[0] as argv[0]', () => {
    const xml = `<plist><dict><key>Program</key><string>/usr/bin/node</string>
      <key>ProgramArguments</key><array><string>resonix</string><string>index.js</string><integer>1</integer></array>
      <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict><key>Disabled</key><true/></dict></plist>`;
    expect(parseLaunchdPlist(xml)).toMatchObject({
      execStart: ['/usr/bin/node', 'index.js'],
      keepAlive: true,
      runAtLoad: false,
      disabled: true,
      errors: ['ProgramArguments holds non-string items, ignored'],
    });
  });

  it('reports wrong shapes', () => {
    expect(parseLaunchdPlist('<plist><array/></plist>').errors).toEqual(['plist top level is not a dictionary']);
    const odd = parseLaunchdPlist(
      '<plist><dict><key>Label</key><integer>1</integer><key>EnvironmentVariables</key><dict><key>N</key><integer>2</integer><key>OK</key><string>y</string></dict></dict></plist>',
    );
    expect(odd.label).toBeUndefined();
    expect(odd.environment).toEqual({ OK: 'y' });
    expect(odd.errors).toEqual([
      'Label is not a string',
      'no Program or ProgramArguments',
      'EnvironmentVariables.N is not a string, ignored',
    ]);
  });

  it('never throws on garbage', () => {
    expect(parseLaunchdPlist('').errors[0]).toMatch(/^invalid plist/);
    expect(parseLaunchdPlist('<plist><dict><key>__proto__</key><dict/></dict></plist>').errors[0]).toMatch(/^invalid plist/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 300 }), (bytes, text) => {
        expect(Array.isArray(parseLaunchdPlist(bytes).errors)).toBe(true);
        expect(Array.isArray(parseLaunchdPlist(`<plist>${text}</plist>`).errors)).toBe(true);
        expect(Array.isArray(parseLaunchdPlist(Uint8Array.from([...Buffer.from('bplist00'), ...bytes])).errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
