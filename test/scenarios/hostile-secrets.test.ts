// A home whose owner plants secrets where the tool prints or records things: URLs (fragment, query, a
// userinfo password with a '/', no scheme), command arguments in config values and unit lines, file names,
// symlink targets, a unit's name (a unit that does not parse), an `$include`d file and an env file. None
// may reach any format or the snapshot manifest, and the manifest holds no sha256 of a file that holds a
// secret. Then what the terminal is sent: header values with OSC 8 / CSI, names with every invisible class.
// Extends test/masking.test.ts (in-memory, every rule) and injection.test.ts (names in findings) end to end.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { entry, findCanaries } from '../helpers/scenario.js';
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, type Machine } from './run.js';
import { manifestFileText } from '../helpers/manifest-file.js';

afterAll(cleanupMachines);

const FRAGMENT = 'CANARYfragmentTok3n-0001';
const QUERY = 'CANARYqueryTok3n-0002';
const SLASH_PASSWORD = 'CANARY/slash/pw-0003';
const BARE_PASSWORD = 'CANARYbarePw-0004';
const COMMAND_PASSWORD = 'CANARYcmdPass-0005';
const FILE_NAME_TOKEN = `ghp_${'CANARYfileNameToken'.padEnd(36, '0')}`;
const LINK_TOKEN = 'sk-ant-api03-CANARYlinkTarget_00000000000000000000000006';
const UNIT_PASSWORD = 'CANARYunitPass-0007';
const UNIT_NAME_TOKEN = 'sk-ant-api03-CANARYunitName_0000000000000000000000008';
const INCLUDED_PASSWORD = 'hunter2-Cnry9';
const ENV_FILE_VALUE = 'CANARYenvFileValue-0010';

const PLANTED = [FRAGMENT, QUERY, SLASH_PASSWORD, BARE_PASSWORD, COMMAND_PASSWORD, FILE_NAME_TOKEN, LINK_TOKEN, UNIT_PASSWORD, UNIT_NAME_TOKEN, INCLUDED_PASSWORD, ENV_FILE_VALUE];
/** pieces a half-done mask would leave behind */
const PIECES = ['slash/pw-0003', 'CANARY/slash', 'CANARYfileNameToken', 'CANARYlinkTarget', 'CANARYunitName'];

const HEADER_ATTACK = '2026.5.28\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007\u001b[2J\u001b[1;1H';
const FORMATS = ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown'] as const;

const walk = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((item) => (item.isDirectory() ? walk(path.join(dir, item.name)) : item.isFile() ? [path.join(dir, item.name)] : []));
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/**
 * The sha256 of every secret-bearing file of the state dir, but for contents some other file shares
 * (`{}`): such a digest is in the manifest for that other file and says nothing of this one.
 */
function secretDigests(machine: Machine): { file: string; sha256: string }[] {
  const state = path.join(machine.home, '.resonix');
  const listed = ['resonix.json', 'resonix.json.bak', 'gateway.json5', '.env', 'agents/main/agent/auth-profiles.json'].map((name) => path.join(state, name));
  const secret = new Set([...listed, ...['credentials', 'identity', 'devices'].flatMap((dir) => walk(path.join(state, dir)))]);
  const elsewhere = new Set(walk(machine.home).filter((file) => !secret.has(file)).map(sha256));
  return [...secret].map((file) => ({ file, sha256: sha256(file) })).filter((item) => !elsewhere.has(item.sha256));
}

async function hostileMachine(): Promise<Machine> {
  const scenario = await liveScenario('healthy-file-2026.5');
  // world-readable state dir: the planted files below are reported (perms), so their names are printed
  entry(scenario, '{home}/.resonix/').mode = '0755';
  const config = entry(scenario, '{home}/.resonix/resonix.json').json as Record<string, any>;
  config.$include = './gateway.json5';
  config.mcp = {
    servers: {
      // a command with arguments in a path-valued key under another home: printed by paths/foreign-home
      tools: { command: `/Users/bob/bin/mcp --pass ${COMMAND_PASSWORD} --remote admin:${BARE_PASSWORD}@gw.example.net:18789` },
    },
  };
  const unit = entry(scenario, '{home}/.config/systemd/user/resonix-gateway.service');
  unit.content = unit
    .content!.replace('gateway --port 18789\n', `gateway --port 18789 --pass ${UNIT_PASSWORD}\n`)
    .replace('[Install]', 'EnvironmentFile={homeAbs}/.config/resonix/extra.env\n\n[Install]');
  scenario.entries.push(
    { path: '{home}/.resonix/gateway.json5', mode: '0600', content: `{ gateway: { auth: { password: '${INCLUDED_PASSWORD}' } } }\n` },
    { path: `{home}/.resonix/notes-${INCLUDED_PASSWORD}.txt`, mode: '0666', content: 'x' },
    { path: '{home}/.config/resonix/', mode: '0700' },
    { path: '{home}/.config/resonix/extra.env', mode: '0600', content: `CUSTOM_SETTING=${ENV_FILE_VALUE}\n` },
    { path: `{home}/.resonix/env-${ENV_FILE_VALUE}.txt`, mode: '0666', content: 'x' },
    { path: `{home}/.resonix/${FILE_NAME_TOKEN}.json`, mode: '0666', content: '{}' },
    { path: '{home}/.resonix/link-to-key', target: `/Users/bob/.keys/${LINK_TOKEN}` },
    // a unit whose name carries a key, with a line that does not parse: its parse error names the file
    { path: `{home}/.config/systemd/user/resonix-gateway-${UNIT_NAME_TOKEN}.service`, content: '[Service]\nthis line has no equals sign\nExecStart=/usr/bin/node /x.js gateway\n' },
    // a thin client profile: its remote URL holds a fragment token, a query token and a password with '/'
    { path: '{home}/.resonix-thin/', mode: '0700' },
    {
      path: '{home}/.resonix-thin/resonix.json',
      mode: '0600',
      json: {
        meta: { lastTouchedVersion: HEADER_ATTACK },
        gateway: { mode: 'remote', remote: { url: `wss://admin:${SLASH_PASSWORD}@gw.example.net:18789/?token=${QUERY}#token=${FRAGMENT}` } },
      },
    },
  );
  scenario.canaries = [...(scenario.canaries ?? []), ...PLANTED, ...PIECES];
  return machineFrom(scenario);
}

describe('secrets planted where the tool prints and records', () => {
  it('reach no format and no manifest; the manifest holds no sha256 of a secret-bearing file', async () => {
    const machine = await hostileMachine();
    const base = ['--home', machine.home, '--profile', 'thin', '--verbose'];

    // every format of both phases that judge this machine (machine.cli fails the test on any canary in stdout or stderr)
    const outputs = new Map<string, string>();
    for (const phase of ['audit', 'verify']) {
      for (const format of FORMATS) {
        const result = await machine.cli([phase, ...base, '--format', format]);
        expect(result.code, `${phase} ${format}: ${result.stderr}`).toBeLessThan(2);
        outputs.set(`${phase} ${format}`, result.stdout);
      }
    }
    const dryRun = await machine.cli(['audit', ...base, '--fix-dry-run']);
    expect(dryRun.code, dryRun.stderr).toBeLessThan(2);

    // the planted values did reach the reports, masked where they stand (so the greps above can fail)
    const text = `${outputs.get('audit json')}\n${outputs.get('verify json')}`;
    expect(text).toContain('--pass [masked]');
    expect(text).toContain('admin:[masked]@gw.example.net:18789');
    expect(text).toMatch(/wss:\/\/(admin:\[masked\]@)?gw\.example\.net:18789\/.*#token=\[masked\]/);
    expect(text).toContain('ghp_…[masked].json');
    expect(text).toContain('sk-ant-…[masked]');
    expect(text).toMatch(/notes-\[masked\]\.txt/);
    expect(text).toMatch(/env-\[masked\]\.txt/);
    expect(dryRun.stdout).toMatch(/notes-\[masked\]\.txt/);

    // the manifest, from audit --snapshot and from snapshot
    const manifests = [path.join(path.dirname(machine.root), `${path.basename(machine.root)}-a.manifest.json`), path.join(path.dirname(machine.root), `${path.basename(machine.root)}-s.manifest.json`)];
    try {
      expect((await machine.cli(['audit', ...base, '--format', 'json', '--snapshot', manifests[0]!])).code).toBeLessThan(2);
      expect((await machine.cli(['snapshot', '--home', machine.home, '--profile', 'thin', '--out', manifests[1]!])).code).toBe(0);
      const digests = secretDigests(machine);
      expect(digests.length).toBeGreaterThan(8);
      for (const file of manifests) {
        const manifest = manifestFileText(file);
        expectNoLeak(manifest, machine);
        expect(findCanaries(manifest, [...PLANTED, ...PIECES])).toEqual([]);
        // what was recorded: masked names, link targets, ExecStart words, the unit that does not parse
        expect(manifest).toContain('ghp_…[masked].json');
        expect(manifest).toMatch(/"linkTarget":"\/Users\/bob\/\.keys\/sk-ant-…\[masked\]"/);
        expect(manifest).toContain('"--pass","[masked]"');
        expect(manifest.match(/"parseError":"[^"]*"/g), 'the parse error').toEqual(['"parseError":"line 2: missing \'=\', line ignored"']);
        expect(manifest).toMatch(/"name":"\[masked\]\.service"/);
        // a hash an offline attacker could test a word list against: none for any secret-bearing file
        for (const { file: secretFile, sha256 } of digests) expect(manifest, `${file}: sha256 of ${secretFile}`).not.toContain(sha256);
        // the files themselves are listed (by size), only their hash is withheld
        expect(manifest).toMatch(/"path":"gateway\.json5","type":"file"[^}]*"hashSkipped":"secret"/);
      }
    } finally {
      for (const file of manifests) fs.rmSync(file, { force: true });
    }
  });

  it('verify --against its own manifest: secret files compared by size, mode and mtime, masked names matched', async () => {
    const machine = await hostileMachine();
    const manifest = path.join(path.dirname(machine.root), `${path.basename(machine.root)}-v.manifest.json`);
    try {
      expect((await machine.cli(['snapshot', '--home', machine.home, '--profile', 'thin', '--out', manifest])).code).toBe(0);
      const { report } = await machine.json('verify', ['--profile', 'thin', '--against', manifest]);
      const copy = report.findings.filter((finding) => finding.ruleId.startsWith('copy/'));
      expect(copy.map((finding) => `${finding.ruleId}: ${finding.message} ${finding.evidence?.join(' ')}`)).toEqual([]);

      // an older copy of a secret file (same size, older mtime) is found without a hash
      const include = path.join(machine.home, '.resonix', 'gateway.json5');
      fs.utimesSync(include, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
      const older = await machine.json('verify', ['--profile', 'thin', '--against', manifest]);
      const incomplete = older.report.findings.find((finding) => finding.ruleId === 'copy/incomplete');
      expect(incomplete?.evidence?.join('\n')).toMatch(/gateway\.json5: .*an older copy \(a secret file: compared by size, mode and mtime/);
    } finally {
      fs.rmSync(manifest, { force: true });
    }
  });
});

describe('what reaches the terminal', () => {
  it('a header value with OSC 8 and CSI, and names with every invisible class, come out as visible escapes', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/').mode = '0755';
    (entry(scenario, '{home}/.resonix/resonix.json').json as { meta: Record<string, string> }).meta.lastTouchedVersion = HEADER_ATTACK;
    const machine = await machineFrom(scenario);
    const invisible = { lrm: '\u200e', rlm: '\u200f', alm: '\u061c', bom: '\ufeff', filler: '\u3164', ls: '\u2028', nel: '\u0085', csi: '\u009b', tag: '\u{e0041}' };
    for (const [name, char] of Object.entries(invisible)) {
      const file = path.join(machine.home, '.resonix', `inv-${name}-${char}-x`);
      fs.writeFileSync(file, 'x');
      fs.chmodSync(file, 0o666);
    }
    const raw = new RegExp(`[\u001b\u0007${Object.values(invisible).join('')}]`, 'u');

    const pretty = (await machine.cli(['audit', '--home', machine.home, '--verbose', '--fix-dry-run'])).stdout;
    expect(pretty).not.toMatch(raw);
    expect(pretty).toContain('written by 2026.5.28\\e]8;;https://evil.example/\\x07click\\e]8;;\\x07\\e[2J\\e[1;1H');
    for (const escape of ['\\u200e', '\\u200f', '\\u061c', '\\ufeff', '\\u3164', '\\u2028', '\\x85', '\\x9b', '\\u{e0041}']) expect(pretty).toContain(escape);

    for (const format of ['markdown', 'github', 'junit', 'sarif'] as const) {
      const output = (await machine.cli(['audit', '--home', machine.home, '--verbose', '--format', format])).stdout;
      expect(output, format).not.toMatch(raw);
      // github annotations carry no evidence (the names); the others show them escaped
      if (format !== 'github') expect(output, format).toMatch(/\\u200e|\\\\u200e/);
    }
    const markdown = (await machine.cli(['audit', '--home', machine.home, '--format', 'markdown'])).stdout;
    expect(markdown).toContain('\\\\e\\]8;;https://evil.example/\\\\x07click');
  });
});
