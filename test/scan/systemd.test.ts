import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseSystemdUnit, parseSystemdUnitFiles } from '../../src/scan/systemd.js';

// reference §11, verbatim: what `resonix gateway install` writes (2026.5.28)
const REFERENCE_UNIT = `[Unit]
Description=Resonix Gateway (v2026.5.28)
After=network-online.target
Wants=network-online.target
StartLimitBurst=5
StartLimitIntervalSec=60

[Service]
ExecStart=/home/alice/.nvm/versions/node/v22.19.0/bin/node /home/alice/.nvm/versions/node/v22.19.0/lib/node_modules/resonix/dist/index.js gateway --port 18789
Restart=always
RestartSec=5
RestartPreventExitStatus=78
TimeoutStopSec=30
TimeoutStartSec=30
SuccessExitStatus=0 143
KillMode=control-group
Environment=HOME=/home/alice
Environment=TMPDIR=/tmp
Environment=PATH=/home/alice/.nvm/versions/node/v22.19.0/bin:/home/alice/.local/bin:/usr/local/bin:/usr/bin:/bin
Environment=RESONIX_GATEWAY_PORT=18789
Environment=RESONIX_SYSTEMD_UNIT=resonix-gateway.service
Environment="RESONIX_WINDOWS_TASK_NAME=Resonix Gateway"
Environment=RESONIX_SERVICE_MARKER=resonix
Environment=RESONIX_SERVICE_KIND=gateway
Environment=RESONIX_SERVICE_VERSION=2026.5.28

[Install]
WantedBy=default.target
`;

describe('parseSystemdUnit', () => {
  it('reads the unit resonix gateway install writes', () => {
    const unit = parseSystemdUnit(REFERENCE_UNIT);
    expect(unit).toEqual({
      execStart: [
        '/home/alice/.nvm/versions/node/v22.19.0/bin/node',
        '/home/alice/.nvm/versions/node/v22.19.0/lib/node_modules/resonix/dist/index.js',
        'gateway',
        '--port',
        '18789',
      ],
      environment: {
        HOME: '/home/alice',
        TMPDIR: '/tmp',
        PATH: '/home/alice/.nvm/versions/node/v22.19.0/bin:/home/alice/.local/bin:/usr/local/bin:/usr/bin:/bin',
        RESONIX_GATEWAY_PORT: '18789',
        RESONIX_SYSTEMD_UNIT: 'resonix-gateway.service',
        RESONIX_WINDOWS_TASK_NAME: 'Resonix Gateway',
        RESONIX_SERVICE_MARKER: 'resonix',
        RESONIX_SERVICE_KIND: 'gateway',
        RESONIX_SERVICE_VERSION: '2026.5.28',
      },
      environmentFiles: [],
      wantedBy: ['default.target'],
      errors: [],
    });
  });

  it('splits several quoted assignments on one Environment= line; later ones win; empty resets', () => {
    const unit = parseSystemdUnit(`[Service]
Environment="A=b c" D=e 'F=g "h"' G="x y"z
Environment=D=override
Environment=
Environment=RESONIX_STATE_DIR=/srv/resonix "RESONIX_PROFILE=work"
Environment=RESONIX_STATE_DIR=/srv/other
`);
    expect(unit.environment).toEqual({ RESONIX_STATE_DIR: '/srv/other', RESONIX_PROFILE: 'work' });
    const before = parseSystemdUnit(`[Service]\nEnvironment="A=b c" D=e 'F=g "h"' G="x y"z\nEnvironment=D=override\n`);
    expect(before.environment).toEqual({ A: 'b c', D: 'override', F: 'g "h"', G: 'x yz' });
  });

  it('reports invalid assignments and keeps the valid ones', () => {
    const unit = parseSystemdUnit('[Service]\nEnvironment=novalue 1BAD=x =y OK=1 __proto__=p\n');
    expect(unit.environment).toEqual({ OK: '1', ['__proto__']: 'p' });
    expect(Object.getPrototypeOf(unit.environment)).toBe(Object.prototype);
    expect(unit.errors).toHaveLength(3);
    expect(unit.errors[0]).toMatch(/^line 2: invalid environment assignment/);
  });

  it('handles comments, continuations and comment lines inside a continuation', () => {
    const unit = parseSystemdUnit(`# comment
; another
[Service]
ExecStart=/usr/bin/node \\
# dropped, even inside the continuation
  /opt/resonix/index.js \\
  gateway
Environment=TRAIL=ends\\\\
Environment=HASH=a#b ; not a comment
`);
    expect(unit.execStart).toEqual(['/usr/bin/node', '/opt/resonix/index.js', 'gateway']);
    expect(unit.environment).toEqual({ TRAIL: 'ends\\', HASH: 'a#b' });
    // ';' starts a comment only at the start of a line: here each word is a (bad) assignment
    expect(unit.errors).toHaveLength(4);
    expect(unit.errors[0]).toBe("line 9: invalid environment assignment ';', ignored");
  });

  it('accepts CRLF line ends and a BOM', () => {
    const unit = parseSystemdUnit('\uFEFF[Service]\r\nUser=resonix\r\nGroup=resonix\r\nWorkingDirectory=-/srv/resonix\r\n');
    expect(unit).toMatchObject({ user: 'resonix', group: 'resonix', workingDirectory: '/srv/resonix', errors: [] });
  });

  it('reads EnvironmentFile= with the optional - prefix, refuses relative paths, resets on empty', () => {
    const unit = parseSystemdUnit(`[Service]
EnvironmentFile=/etc/old.env
EnvironmentFile=
EnvironmentFile=-/home/alice/.resonix/.env
EnvironmentFile=/etc/resonix/gateway.env
EnvironmentFile=relative.env
`);
    expect(unit.environmentFiles).toEqual([
      { path: '/home/alice/.resonix/.env', optional: true },
      { path: '/etc/resonix/gateway.env', optional: false },
    ]);
    expect(unit.errors).toEqual(["line 6: EnvironmentFile= path 'relative.env' is not absolute, ignored"]);
  });

  it('ignores settings outside [Service]/[Install] and reports lines systemd would ignore', () => {
    const unit = parseSystemdUnit('User=early\n[Unit]\nUser=nope\n[Service\nnot an assignment\n[Install]\nWantedBy=default.target multi-user.target\n');
    expect(unit.user).toBeUndefined();
    expect(unit.wantedBy).toEqual(['default.target', 'multi-user.target']);
    expect(unit.errors).toEqual([
      'line 1: assignment outside of a section, ignored',
      'line 4: invalid section header',
      "line 5: missing '=', line ignored",
    ]);
  });

  it('keeps the last ExecStart= and says so; an empty one resets', () => {
    const several = parseSystemdUnit('[Service]\nExecStart=/bin/a\nExecStart=/bin/b x\n');
    expect(several.execStart).toEqual(['/bin/b', 'x']);
    expect(several.errors).toHaveLength(1);
    const reset = parseSystemdUnit('[Service]\nExecStart=/bin/a\nExecStart=\nExecStart=/bin/b\n');
    expect(reset).toMatchObject({ execStart: ['/bin/b'], errors: [] });
  });

  it('applies drop-ins after the unit', () => {
    const unit = parseSystemdUnitFiles([
      { text: REFERENCE_UNIT },
      { name: '/u.d/override.conf', text: '[Service]\nExecStart=\nExecStart=/usr/bin/node /new/index.js gateway\nEnvironment=RESONIX_STATE_DIR=/data\nBroken\n' },
    ]);
    expect(unit.execStart).toEqual(['/usr/bin/node', '/new/index.js', 'gateway']);
    expect(unit.environment.RESONIX_STATE_DIR).toBe('/data');
    expect(unit.environment.HOME).toBe('/home/alice');
    expect(unit.errors).toEqual(["/u.d/override.conf:5: missing '=', line ignored"]);
  });

  it('expands specifiers only when given them', () => {
    const text = '[Service]\nEnvironment=RESONIX_STATE_DIR=%h/.resonix-work P=100%%\nWorkingDirectory=%h\nEnvironmentFile=-%h/.resonix/.env\n';
    expect(parseSystemdUnit(text).environment.RESONIX_STATE_DIR).toBe('%h/.resonix-work');
    const unit = parseSystemdUnit(text, { specifiers: { h: '/home/alice' } });
    expect(unit.environment).toEqual({ RESONIX_STATE_DIR: '/home/alice/.resonix-work', P: '100%' });
    expect(unit.workingDirectory).toBe('/home/alice');
    expect(unit.environmentFiles).toEqual([{ path: '/home/alice/.resonix/.env', optional: true }]);
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const unit = parseSystemdUnit(`[Service]\nExecStart=${text}\nEnvironment=${text}\n${text}`);
        expect(Array.isArray(unit.errors)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseCommandLine', () => {
  it('strips prefixes and drops the @ argv[0]', () => {
    expect(parseCommandLine('-+/usr/bin/node index.js')).toEqual(['/usr/bin/node', 'index.js']);
    expect(parseCommandLine('!!/usr/bin/node index.js')).toEqual(['/usr/bin/node', 'index.js']);
    expect(parseCommandLine(':/usr/bin/node $X')).toEqual(['/usr/bin/node', '$X']);
    expect(parseCommandLine('@/usr/bin/node resonix-gw index.js gateway')).toEqual(['/usr/bin/node', 'index.js', 'gateway']);
  });

  it('unquotes words and decodes C escapes', () => {
    expect(parseCommandLine(`"/opt/My App/node" 'a b' c"d e"f \\x41\\ttab x\\sy "q\\"q"`)).toEqual([
      '/opt/My App/node',
      'a b',
      'cd ef',
      'A\ttab',
      'x y',
      'q"q',
    ]);
  });

  it('treats a lone ; as a command separator and \\; as a literal', () => {
    const errors: string[] = [];
    expect(parseCommandLine('/bin/a x \\; y ; /bin/b', errors)).toEqual(['/bin/a', 'x', ';', 'y']);
    expect(errors).toEqual(['several commands in one ExecStart=; using the first']);
  });

  it('reports bad quoting and escapes but keeps going', () => {
    const errors: string[] = [];
    expect(parseCommandLine('/bin/a "unterminated \\q', errors)).toEqual(['/bin/a', 'unterminated \\q']);
    expect(errors).toEqual(['unknown escape \\q']);
    const more: string[] = [];
    parseCommandLine('/bin/a "open', more);
    expect(more).toEqual(['unterminated " quote']);
    expect(parseCommandLine('-', (more.length = 0, more))).toEqual([]);
    expect(more).toEqual(['ExecStart= has no executable']);
  });
});
