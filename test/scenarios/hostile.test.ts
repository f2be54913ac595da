// Bad input on the scanned machine: each gives a finding or a note, never a crash, a hang or exit 2,
// and the rest of the report still comes out.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { canChown, entry } from '../helpers/scenario.js';
import { cliForOtherUsers, releaseStaged } from '../helpers/unprivileged.js';
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, ruleIds } from './run.js';

afterAll(cleanupMachines);
afterAll(releaseStaged);

describe('a hostile state dir', () => {
  it('symlink loops, FIFOs, a non-UTF-8 name, a corrupt archive and a FIFO for a config: all reported, nothing hangs', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    scenario.entries.push(
      { path: '{home}/.resonix/loop-a', target: 'loop-b' },
      { path: '{home}/.resonix/loop-b', target: 'loop-a' },
      { path: '{home}/.resonix/agents/main/sessions/pipe', type: 'fifo', mode: '0600' },
      { path: '{home}/.resonix-fifo/', mode: '0700' },
      { path: '{home}/.resonix-fifo/resonix.json', type: 'fifo', mode: '0600' },
      { path: '{home}/Downloads/' },
      // a file where a backup dir is usually looked for
      { path: '{home}/backup', content: 'not a dir' },
      { path: '{home}/Downloads/resonix-backup.tgz', mode: '0600', base64: Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3]), Buffer.alloc(200, 0x5a)]).toString('base64') },
    );
    const machine = await machineFrom(scenario);
    const bad = Buffer.concat([Buffer.from(path.join(machine.home, '.resonix', 'media') + '/'), Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67])]);
    fs.writeFileSync(bad, 'x', { mode: 0o600 });
    if (canChown) fs.chownSync(bad, 1000, 1000);
    const started = Date.now();
    const result = await machine.cli(['verify', '--home', machine.home, '--format', 'json', '--verbose']);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.code).toBeLessThan(2);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.installs.map((install) => path.basename(install.stateDir))).toEqual(['.resonix', '.resonix-fifo']);
    const fifoConfig = report.findings.find((finding) => finding.ruleId === 'state/config-invalid')!;
    expect(fifoConfig.message).toMatch(/not a regular file \(FIFO\)/);
    expect(report.problems.map((problem) => problem.message).join('\n')).toMatch(/resonix-backup\.tgz: .*(gzip|truncated|corrupt)/i);
    // the pretty report escapes the bad bytes instead of writing them raw
    const pretty = await machine.cli(['verify', '--home', machine.home, '--verbose']);
    expect(pretty.stdout).not.toContain('\ufffd');
  });

  it.skipIf(!canChown)('a state dir the scanning user cannot read: a note and a finding, not a crash (needs root: runs as uid 1000)', async ({ skip }) => {
    const scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/credentials/').owner = 'root';
    const machine = await machineFrom(scenario);
    // scan as alice (uid 1000), who cannot list the root-owned 0700 credentials dir
    const cli = cliForOtherUsers(skip);
    const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cli, 'verify', '--home', machine.home, '--format', 'json', '--verbose'], {
      env: { PATH: process.env.PATH!, HOME: machine.home, TMPDIR: machine.path('tmp') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(1);
    expectNoLeak(run.stdout + run.stderr, machine);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.problems.some((problem) => problem.code === 'EACCES' && problem.path.endsWith('/.resonix/credentials'))).toBe(true);
    expect(ruleIds(report, 'error')).toContain('perms/unreadable');
  });

  it('links to /dev/zero and /proc, a socket, a 10 GB sparse transcript and a very deep path: nothing is read whole, the report comes out', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    scenario.entries.push(
      { path: '{home}/.resonix/zero', target: '/dev/zero' },
      { path: '{home}/.resonix/proc', target: '/proc/self' },
      { path: '{home}/.resonix/agents/main/sessions/huge.jsonl', type: 'sparse', size: 10 * 1024 ** 3, mode: '0600', mtime: 'now' },
    );
    const machine = await machineFrom(scenario);
    const net = await import('node:net');
    const socketPath = path.join(machine.home, '.resonix', 'gateway.sock');
    const server = net.createServer().listen(socketPath);
    await new Promise((resolve) => server.once('listening', resolve));
    let deep = path.join(machine.home, '.resonix', 'media');
    for (let i = 0; i < 45; i++) deep = path.join(deep, `level-${i}-${"x".repeat(70)}`); // ~3,600 characters: near PATH_MAX
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(deep, 'leaf.png'), 'x');
    try {
      const started = Date.now();
      const { code, report } = await machine.json('verify', ['--verbose']);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(code).toBeLessThan(2);
      expect(report.installs[0]!.files).toBeGreaterThan(85); // the 40 fixture entries, 45 deep dirs, the leaf, links, socket
      // the sparse transcript's last byte is a NUL, not a newline: reported, without reading 10 GB
      expect(report.findings.find((finding) => finding.ruleId === 'copy/truncated-transcript')?.evidence?.join('\n')).toContain('huge.jsonl');
    } finally {
      server.close();
    }
  });

  it.skipIf(!canChown)('unreadable dirs at every depth, scanned as a normal user: each noted, the report still comes out (needs root: runs as uid 1000)', async ({ skip }) => {
    const scenario = await liveScenario('healthy-file-2026.5');
    for (const dir of ['{home}/.resonix/credentials/', '{home}/.resonix/agents/main/', '{home}/.resonix/agents/research/sessions/']) entry(scenario, dir).owner = 'root';
    const machine = await machineFrom(scenario);
    const cli = cliForOtherUsers(skip);
    const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cli, 'verify', '--home', machine.home, '--format', 'json'], {
      env: { PATH: process.env.PATH!, HOME: machine.home, TMPDIR: machine.path('tmp') },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const unreadable = report.problems.filter((problem) => problem.code === 'EACCES').map((problem) => path.relative(machine.home, problem.path));
    expect(unreadable).toEqual(expect.arrayContaining(['.resonix/credentials', '.resonix/agents/main', '.resonix/agents/research/sessions']));
  });

  it('files appearing and vanishing during the scan: no crash, no exit 2', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const churn = path.join(machine.home, '.resonix', 'media');
    const child = spawn('bash', ['-c', 'while true; do for i in $(seq 1 200); do : > "$1/f$i"; done; rm -f "$1"/f*; mkdir -p "$1/d" && rmdir "$1/d"; done', 'churn', churn], { stdio: 'ignore' });
    try {
      for (let round = 0; round < 3; round++) {
        const result = await machine.cli(['verify', '--home', machine.home, '--format', 'json']);
        expect(result.code, result.stderr).toBeLessThan(2);
        JSON.parse(result.stdout);
      }
    } finally {
      child.kill();
    }
  });

  it('files changing during the scan (rewritten, truncated, swapped for a FIFO, a dir or a link, re-moded): no crash, no exit 2, no leak', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const state = path.join(machine.home, '.resonix');
    // each step leaves the tree in another shape; the scan meets whichever one is there
    const churner = [
      'cd "$1"; cp resonix.json ../config.orig; cp agents/main/sessions/sessions.json ../sessions.orig',
      't=agents/main/sessions/0b8e4c1e-3f7a-4d2b-9c61-5a2e8f1d7c34.jsonl',
      'while true; do',
      '  head -c 40 ../config.orig > resonix.json; cat ../config.orig > resonix.json',
      '  rm -f .f; mkfifo .f && mv -f .f resonix.json; cp ../config.orig .c && mv -f .c resonix.json',
      '  mv agents/main/sessions/sessions.json .s; mkdir agents/main/sessions/sessions.json; rmdir agents/main/sessions/sessions.json',
      '  ln -s /dev/zero agents/main/sessions/sessions.json; rm agents/main/sessions/sessions.json; mv .s agents/main/sessions/sessions.json',
      '  printf \'{"partial":\' >> "$t"; : > "$t"; printf \'{"type":"message"}\\n\' > "$t"',
      '  mv agents/research/sessions .r; echo x > agents/research/sessions; rm agents/research/sessions; mv .r agents/research/sessions',
      '  chmod 000 credentials/whatsapp/default/creds.json; chmod 644 credentials/whatsapp/default/creds.json; chmod 600 credentials/whatsapp/default/creds.json',
      '  mv credentials .cr; ln -s .cr credentials; rm credentials; mv .cr credentials',
      'done',
    ].join('\n');
    const child = spawn('bash', ['-c', churner, 'churn', state], { stdio: 'ignore' });
    try {
      for (let round = 0; round < 4; round++) {
        const result = await machine.cli(['verify', '--home', machine.home, '--format', 'json']);
        expect(result.code, result.stderr).toBeLessThan(2);
        const report = JSON.parse(result.stdout) as Report;
        expect(report.installs.map((install) => path.basename(install.stateDir))).toContain('.resonix');
      }
      const pretty = await machine.cli(['audit', '--home', machine.home]);
      expect(pretty.code, pretty.stderr).toBeLessThan(2);
      expect(pretty.stdout).toMatch(/problems?|passed|✓|✗|!/);
    } finally {
      child.kill();
    }
  });

  it('symlink chains: 60 hops (past the kernel\'s 40) is broken, 10 hops resolves, a dangling chain is broken, a config reached through a chain is read live', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json');
    scenario.entries = scenario.entries.filter((item) => item !== config);
    scenario.entries.push({ ...config, path: '{home}/dotfiles/resonix.json' });
    const link = (from: string, to: string): void => void scenario.entries.push({ path: from, target: to });
    for (let i = 0; i < 5; i++) link(`{home}/dotfiles/hop-${i}`, i === 4 ? 'resonix.json' : `hop-${i + 1}`);
    link('{home}/.resonix/resonix.json', '../dotfiles/hop-0');
    for (let i = 0; i < 60; i++) link(`{home}/.resonix/long-${i}`, i === 59 ? 'update-check.json' : `long-${i + 1}`);
    for (let i = 0; i < 10; i++) link(`{home}/.resonix/short-${i}`, i === 9 ? 'update-check.json' : `short-${i + 1}`);
    for (let i = 0; i < 10; i++) link(`{home}/.resonix/dangling-${i}`, i === 9 ? 'nowhere' : `dangling-${i + 1}`);
    const machine = await machineFrom(scenario);
    for (const [mode, run] of [['live', () => machine.json('verify', ['--verbose'])], ['image', () => machine.image(['--verbose'])]] as const) {
      const started = Date.now();
      const { code, report } = await run();
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(code).toBeLessThan(2);
      const invalid = report.findings.find((finding) => finding.ruleId === 'state/config-invalid');
      // live, Resonix follows a symlinked config (a dotfiles repo) and so does the scan; an image never follows one
      if (mode === 'live') expect(invalid).toBeUndefined();
      else expect(invalid?.message).toMatch(/not a regular file \(symlink\)/);
      const escapes = report.findings.filter((finding) => finding.ruleId === 'perms/symlink-escape').flatMap((finding) => [finding.message, ...(finding.evidence ?? [])]).join('\n');
      // the 10 dangling links, and long-0 … long-20 (41 or more hops to go): the short chain and long-21 on resolve
      expect(escapes).toMatch(/^31 symlinks under .*\.resonix include broken/);
      expect(escapes).toMatch(/dangling-0 -> dangling-1 \(broken\)/);
      expect(escapes).not.toMatch(/short-\d+ ->/);
    }
  });

  it('an $include cycle and a missing include are findings', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json');
    (config.json as Record<string, unknown>).$include = ['./channels.json5', './gone.json5'];
    scenario.entries.push({ path: '{home}/.resonix/channels.json5', mode: '0600', content: '{ $include: "./resonix.json" }' });
    const { report } = await (await machineFrom(scenario)).json('verify');
    const evidence = report.findings.filter((finding) => finding.ruleId === 'paths/include-broken').map((finding) => finding.message).join('\n');
    expect(evidence).toMatch(/gone\.json5/);
    expect(evidence).toMatch(/cycle|circular/i);
  });

  it('a manifest crafted to exhaust memory (600 MB, sparse) is refused at once with exit 2', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const huge = machine.path('tmp/huge-manifest.json');
    fs.writeFileSync(huge, '{');
    fs.truncateSync(huge, 600 * 1024 * 1024);
    const started = Date.now();
    const result = await machine.cli(['verify', '--home', machine.home, '--against', huge]);
    expect(result.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a resonix.json of binary garbage, and one that is huge, are findings', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json');
    delete config.json;
    config.base64 = Buffer.from([0, 1, 2, 0xff, 0x00, 0x7b]).toString('base64');
    const machine = await machineFrom(scenario);
    const { report } = await machine.json('verify');
    expect(report.findings.find((finding) => finding.ruleId === 'state/config-invalid')!.message).toMatch(/binary/);
    execFileSync('truncate', ['-s', String(50 * 1024 * 1024), path.join(machine.home, '.resonix', 'resonix.json')]);
    const huge = await machine.json('verify');
    expect(huge.report.findings.find((finding) => finding.ruleId === 'state/config-invalid')!.message).toMatch(/too large/);
    // the rest of the report still comes out
    expect(huge.report.installs[0]!.files).toBeGreaterThan(30);
  });

  it('a resonix.json nested 10,000 and 100,000 deep, and 50 MB of real JSON5 text: a finding or a parse, never a crash', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const config = path.join(machine.home, '.resonix', 'resonix.json');
    for (const depth of [10_000, 100_000]) {
      fs.writeFileSync(config, `${'{a:'.repeat(depth)}1${'}'.repeat(depth)}`, { mode: 0o600 });
      const started = Date.now();
      const { report } = await machine.json('verify');
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(report.installs.map((install) => path.basename(install.stateDir))).toContain('.resonix');
      const invalid = report.findings.find((finding) => finding.ruleId === 'state/config-invalid');
      if (invalid) expect(invalid.message.split('\n')).toHaveLength(1);
    }
    // real text past the 8 MiB read cap: refused by size before a byte of it is parsed
    const line = `  // ${'x'.repeat(1000)}\n`;
    fs.writeFileSync(config, `{\n${line.repeat(Math.ceil((50 * 1024 * 1024) / line.length))}}\n`, { mode: 0o600 });
    const { report } = await machine.json('verify');
    expect(report.findings.find((finding) => finding.ruleId === 'state/config-invalid')!.message).toMatch(/too large/);
  });
});
