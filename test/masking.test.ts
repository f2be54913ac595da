// Masking is one central step: findings from every rule, built over a Machine whose every string field
// carries a canary secret, must not let one survive in any format.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/cli.js';
import { runRules } from '../src/engine.js';
import type { Machine, Phase } from '../src/model.js';
import { PHASES } from '../src/model.js';
import { formatDoctorLint } from '../src/reporters/doctor-lint.js';
import { formatGithub } from '../src/reporters/github.js';
import { formatJson } from '../src/reporters/json.js';
import { formatJunit } from '../src/reporters/junit.js';
import { formatMarkdown } from '../src/reporters/markdown.js';
import { formatPretty } from '../src/reporters/pretty.js';
import { formatSarif } from '../src/reporters/sarif.js';
import { builtinRules } from '../src/rules/index.js';
import { config, entries, home, install, machine, service } from './helpers/machine.js';
import { CANARIES, CANARY, findCanaries } from './helpers/scenario.js';

const canary = CANARIES[0]!;
const token = CANARIES[1]!;

/** A broken machine whose names, paths, config values, env values and unit lines all carry canaries. */
function poisoned(): Machine {
  const stateDir = `/home/alice/.resonix`;
  const inventory = entries([
    ['', 0o755],
    ['resonix.json', 0o644],
    [`credentials/${canary}.json`, 0o644, 0],
    [`agents/main/sessions/${token}.jsonl`, 0o666],
    ['state/resonix.sqlite', 0o600, undefined, { size: 10 }],
  ]);
  inventory.push({ path: `link-${canary}`, type: 'symlink', mode: 0o777, uid: 1000, gid: 1000, size: 10, mtimeMs: 0, linkTarget: `/Users/bob/${token}`, linkBroken: true });
  const poisonedInstall = install(stateDir, [], {
    inventory: { root: stateDir, exists: true, entries: inventory },
    config: config({
      gatewayMode: 'remote',
      remoteUrl: `wss://gw.example.net/${canary}`,
      lastTouchedVersion: '2099.1.1',
      envRefs: [`KEY_${token}`],
      paths: [{ key: `agents.list[0].workspace`, value: `/Users/bob/${canary}` }],
      includes: [`/etc/${canary}.json5`],
      includeChecks: [{ value: `/etc/${canary}.json5`, resolved: `/etc/${canary}.json5`, exists: false, outside: true, cycle: false, from: `${stateDir}/resonix.json` }],
      whatsappAccounts: [{ id: canary }],
      parseError: { message: `unexpected ${token}`, line: 1, column: 2 },
    }),
    sqlite: [{ path: 'state/resonix.sqlite', valid: true, pageSize: 4096, pageCount: 9, userVersion: 99, size: 10 }],
    partialTranscripts: [`agents/main/sessions/${token}.jsonl`],
    sessionRefs: [{ file: 'agents/main/sessions/sessions.json', sessionFiles: [`/Users/bob/${canary}.jsonl`], skillPaths: [`/Users/bob/${token}`], missingTranscripts: [`agents/main/sessions/${canary}.jsonl`] }],
    workspaces: [
      {
        agentId: canary,
        path: `/home/alice/${canary}`,
        source: 'config',
        inventory: { root: `/home/alice/${canary}`, exists: false, entries: [] },
        git: { secretFiles: [`.env-${canary}`], secretHits: [{ path: `MEMORY-${token}.md`, line: 3, kind: 'Anthropic API key' }] },
      },
    ],
    dotenvKeys: [],
  });
  const unit = service(`/home/alice/.resonix-${'x'}`, {
    name: `resonix-gateway-${canary}.service`,
    execStart: [`/Users/bob/.nvm/${canary}/node`, `--token=${token}`],
    env: { HOME: `/Users/bob`, RESONIX_STATE_DIR: `/home/alice/.resonix-x`, RESONIX_HOME: `/home/alice/.resonix` },
    envKeys: ['HOME', 'RESONIX_GATEWAY_TOKEN'],
    secretEnvKeys: ['RESONIX_GATEWAY_TOKEN'],
    missingPaths: [`/Users/bob/.nvm/${canary}/node`],
    nodeVersion: '18.0.0',
  });
  return machine([home([poisonedInstall], { services: [unit], workspaceDirs: [{ path: `/home/alice/${token}`, markers: ['AGENTS.md', 'SOUL.md'] }] })], {
    archives: [{ path: `/tmp/${canary}.tgz`, format: 'tar.gz', encrypted: false, mode: 0o644, uid: 1000, gid: 1000, size: 100, holdsResonixState: true, inTempDir: true, secretMembers: [`.resonix/${token}.json`] }],
    runtime: { resonixVersion: '2026.1.1', nodeVersion: '18.0.0', openPorts: [18789] },
    problems: [{ path: `/home/alice/${canary}`, code: 'EACCES', message: `cannot list ${token}` }],
  });
}

describe('central secret masking', () => {
  for (const phase of PHASES as readonly Phase[]) {
    it(`${phase}: findings from every rule, in every format, carry no canary`, () => {
      const target = poisoned();
      const report = runRules({ phase, machine: target, baseline: target, secrets: CANARIES });
      expect(report.findings.length).toBeGreaterThan(5);
      const outputs = [
        formatJson(report),
        formatPretty(report, { color: false, verbose: true }),
        formatSarif(report, builtinRules),
        formatJunit(report, builtinRules),
        formatMarkdown(report),
        formatGithub(report).stdout,
        formatGithub(report).summary,
        formatDoctorLint(report, builtinRules, { ok: false }),
      ];
      outputs.forEach((output, index) => expect(findCanaries(output), `output ${index}: ${output.split('\n').filter((line) => findCanaries(line).length > 0).slice(0, 3).join(' | ')}`).toEqual([]));
    });
  }
});

describe('credentials the scan did not know, masked by where they stand', () => {
  const unknown = ['PLACEslash/pw-01', 'PLACEfragment-02', 'PLACEquery-03', 'PLACEcmdpass-04', 'PLACEbarepw-05', 'PLACEversion-06'];
  it('URL userinfo (with a /), query and fragment, command flags, a no-scheme URL and the install summary: in no format', () => {
    const stateDir = '/home/alice/.resonix';
    const target = machine([
      home([
        install(stateDir, ['resonix.json'], {
          config: config({
            gatewayMode: 'remote',
            remoteUrl: `wss://admin:${unknown[0]}@gw.example.net:18789/?token=${unknown[2]}#token=${unknown[1]}`,
            lastTouchedVersion: `2026.5.28 --token ${unknown[5]}`,
            paths: [{ key: 'mcp.servers.tools.command', value: `/Users/bob/bin/mcp --pass ${unknown[3]} --remote admin:${unknown[4]}@gw.example.net:18789` }],
          }),
        }),
      ]),
    ]);
    for (const phase of ['audit', 'verify'] as const) {
      const report = runRules({ phase, machine: target, secrets: [] });
      const outputs = [formatJson(report), formatPretty(report, { color: false, verbose: true }), formatSarif(report, builtinRules), formatJunit(report, builtinRules), formatMarkdown(report), formatGithub(report).stdout];
      for (const output of outputs) expect(findCanaries(output, unknown).filter((value) => unknown.includes(value))).toEqual([]);
      // they were there to leak: the masks stand where they were
      expect(formatJson(report)).toMatch(/#token=\[masked\]|--pass \[masked\]/);
    }
  });
});

describe('the CLI\'s debug output (RESONIX_MIGRATE_DEBUG)', () => {
  it('an internal error\'s stack passes the masker and the escaper: no canary, no raw ESC or BEL', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-debug-'));
    const stderr: string[] = [];
    const io: CliIo = {
      // an internal error whose message and frames carry what a scanned machine could have put there
      stdout: () => {
        const error = new Error(`cannot write ${canary}\u001b[2J`);
        error.stack = `${error.stack}\n    at evil (/home/alice/${CANARY.telegram}/\u001b]0;pwned\u0007.js:1:1)`;
        throw error;
      },
      stderr: (text) => void stderr.push(text),
      env: { RESONIX_MIGRATE_DEBUG: '1' },
      cwd,
      stdoutIsTTY: false,
    };
    try {
      expect(await main(['rules'], io)).toBe(2);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
    const text = stderr.join('');
    // the stack is printed (so this can fail), frame per line
    expect(text).toMatch(/\n {4}at evil \(/);
    expect(findCanaries(text)).toEqual([]);
    expect(text).not.toMatch(/[\u001b\u0007]/);
    expect(text).toContain('\\e]0;pwned\\x07');
  });
});
