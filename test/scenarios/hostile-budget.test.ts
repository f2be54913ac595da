// Budgets for everything the scanned machine can make big (issue 10, point 5): archives planted in a shared
// temp dir, a gzip bomb and hard links to it, a 1 TB sparse file for `snapshot`, 40,000 agents in a config,
// 200 service units each naming a node to ask, a sessions.json hard-linked 50 times across two installs.
// Each must finish in bounded time and say what it cut, never exit 2. No wall-time target here beyond
// generous bounds that only an unbounded run would miss (speed targets live in bench/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { applySuppressions } from '../../src/gate.js';
import { BUDGET_CODE, type Finding, type Report } from '../../src/model.js';
import { formatGithub } from '../../src/reporters/github.js';
import { formatJson } from '../../src/reporters/json.js';
import { formatJunit } from '../../src/reporters/junit.js';
import { formatMarkdown } from '../../src/reporters/markdown.js';
import { formatPretty } from '../../src/reporters/pretty.js';
import { formatSarif } from '../../src/reporters/sarif.js';
import { MAX_AGENTS } from '../../src/scan/config-summary.js';
import { scanMachine } from '../../src/scan/index.js';
import { MAX_ASKED_BINARIES } from '../../src/scan/runtime.js';
import { MAX_UNITS } from '../../src/scan/services.js';
import { canChown, entry } from '../helpers/scenario.js';
import { report as reportOf, RULES, STATEDIR } from '../reporters/fixture.js';
import { cleanupMachines, liveScenario, machineFrom, type Machine } from './run.js';
import { spyOnReadsOf } from '../helpers/read-spy.js';
import { manifestFileText } from '../helpers/manifest-file.js';

afterAll(cleanupMachines);

const NOBODY = 65534;
const LINKS = 20;

/** A 512-byte ustar header (sizes below 8 GiB fit the 11-digit octal field). */
function tarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => void block.write(value, offset, length, 'latin1');
  const octal = (value: number, length: number): string => `${value.toString(8).padStart(length - 1, '0')}\0`;
  field(0, 100, name);
  field(100, 8, octal(0o600, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(size, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 6, 'ustar\0');
  field(263, 2, '00');
  let sum = 0;
  for (const byte of block) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/**
 * A tar.gz of ~8 MB that inflates to ~8 GiB: a small resonix.json, then one member of zeros. Built from
 * concatenated gzip members (gunzip reads them as one stream), so making it costs one deflate of 64 MiB.
 */
function gzipBomb(): Buffer {
  const config = Buffer.from('{"gateway":{"mode":"local"}}\n');
  const zerosBytes = 8 * 1024 ** 3 - 1024;
  const head = Buffer.concat([tarHeader('.resonix/resonix.json', config.length), config, Buffer.alloc(512 - config.length), tarHeader('.resonix/media/zeros.bin', zerosBytes)]);
  const chunk = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  return Buffer.concat([zlib.gzipSync(head), ...Array.from({ length: 128 }, () => chunk)]);
}

/** The bomb and LINKS hard links to it in the machine's TMPDIR, made a shared dir (1777) as /tmp is. */
function plantBomb(machine: Machine, owner: number): string[] {
  const tmp = machine.path('tmp');
  fs.chmodSync(tmp, 0o1777);
  const first = path.join(tmp, 'resonix-backup.tgz');
  fs.writeFileSync(first, gzipBomb(), { mode: 0o644 });
  fs.chownSync(first, owner, owner);
  const all = [first];
  for (let i = 1; i <= LINKS; i += 1) {
    const link = path.join(tmp, `resonix-backup-${i}.tgz`);
    fs.linkSync(first, link);
    all.push(link);
  }
  return all;
}

describe.skipIf(!canChown)('archives planted in a shared temp dir', () => {
  it('a gzip bomb and 20 hard links owned by nobody in $TMPDIR are not opened', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const planted = plantBomb(machine, NOBODY);
    const started = Date.now();
    const { report } = await machine.json('verify');
    // unbounded, this is 21 × 8 GiB of inflating: minutes, not seconds
    expect(Date.now() - started).toBeLessThan(30_000);
    const text = JSON.stringify(report);
    for (const file of planted) expect(text).not.toContain(path.basename(file));
    expect(report.problems.filter((problem) => problem.code === BUDGET_CODE)).toEqual([]);
  });

  it("the gateway user's own bomb is opened once for all its links, and the scan's budget stops it", async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const gatewayUid = fs.statSync(machine.home).uid;
    const planted = plantBomb(machine, gatewayUid);
    const started = Date.now();
    const { machine: scanned } = await scanMachine({
      mode: 'live',
      root: '/',
      env: { ...machine.env, TMPDIR: machine.path('tmp') },
      home: machine.home,
      archiveBudget: { bytes: 256 * 1024 * 1024, ms: 20_000 },
    });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(scanned.homes[0]!.gatewayUser.uid).toBe(gatewayUid);
    const budget = scanned.problems.filter((problem) => problem.code === BUDGET_CODE);
    expect(budget).toHaveLength(1);
    expect(budget[0]!.message).toMatch(/decompression budget \(256 MiB or 20 s for all archives\) was spent/);
    // every link is the one inode, listed once: each shows the same cut listing (a second open would find
    // the budget spent and see nothing inside)
    const found = scanned.archives.filter((archive) => planted.includes(archive.path));
    expect(found.map((archive) => archive.path).sort()).toEqual([...planted].sort());
    for (const archive of found) expect(archive, archive.path).toMatchObject({ format: 'tar.gz', membersTruncated: true, holdsResonixState: true });
  });
});

describe.skipIf(!canChown)('200 service units planted in the home (needs root: the nodes they name run as their owner)', () => {
  it(`only ${MAX_UNITS} are read, each distinct node runs at most once and at most ${MAX_ASKED_BINARIES} run, and both cuts are said`, async () => {
    const marks = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-budget-marks-'));
    try {
      // whoever a fake node runs as must be able to say so
      fs.chmodSync(marks, 0o1777);
      const fake = (mark: string): string => `#!/bin/sh\necho "${mark} $(id -u)" >> ${marks}/ran\necho v22.19.0\n`;
      const scenario = await liveScenario('healthy-file-2026.5');
      scenario.entries.push({ path: '{home}/bin/', mode: '0755' }, { path: '{home}/bin/node', mode: '0755', content: fake('shared') });
      // even units share one node; each odd one names a node of its own
      for (let index = 0; index < 200; index++) {
        const own = index % 2 === 1;
        if (own) scenario.entries.push({ path: `{home}/bin/n${index}/`, mode: '0755' }, { path: `{home}/bin/n${index}/node`, mode: '0755', content: fake(`n${index}`) });
        scenario.entries.push({
          path: `{home}/.config/systemd/user/resonix-gateway-${String(index).padStart(3, '0')}.service`,
          content: `[Service]\nExecStart={homeAbs}/bin/${own ? `n${index}/` : ''}node {root}/usr/lib/node_modules/resonix/dist/index.js gateway\n`,
        });
      }
      const machine = await machineFrom(scenario);
      const { machine: scanned } = await scanMachine({ mode: 'live', root: '/', env: { ...machine.env, TMPDIR: machine.path('tmp') }, home: machine.home });

      const services = scanned.homes[0]!.services;
      expect(services).toHaveLength(MAX_UNITS);
      expect(services.map((unit) => unit.name)).toEqual(Array.from({ length: MAX_UNITS }, (_, index) => `resonix-gateway-${String(index).padStart(3, '0')}.service`));
      const ran = fs.readFileSync(path.join(marks, 'ran'), 'utf8').trim().split('\n');
      const names = ran.map((line) => line.split(' ')[0]!);
      // asked once however many units name it; every run as alice; none past the unit cut
      expect(names.filter((name) => name === 'shared')).toEqual(['shared']);
      expect(new Set(names).size).toBe(names.length);
      expect(names.length).toBeLessThanOrEqual(MAX_ASKED_BINARIES);
      expect(names.every((name) => name === 'shared' || Number(name.slice(1)) < MAX_UNITS)).toBe(true);
      expect(new Set(ran.map((line) => line.split(' ')[1]))).toEqual(new Set(['1000']));
      // the ones asked carry the version they said
      expect(services.find((unit) => unit.name === 'resonix-gateway-000.service')!.nodeVersion).toBe('22.19.0');

      const budget = scanned.problems.filter((problem) => problem.code === BUDGET_CODE);
      expect(budget.map((problem) => problem.message)).toEqual([
        `${machine.home}/.config/systemd/user holds 201 gateway units: only the first ${MAX_UNITS} were read (the scan's unit limit, ${MAX_UNITS} for every home and /etc/systemd/system together); the other ${201 - MAX_UNITS} were not checked`,
        expect.stringMatching(new RegExp(`^${MAX_UNITS / 2 - (MAX_ASKED_BINARIES - 1)} node binaries were not asked for their Node\\.js version \\(.+/bin/n${2 * MAX_ASKED_BINARIES - 1}/node the first\\): the scan runs at most ${MAX_ASKED_BINARIES} distinct node binaries`)),
      ]);
    } finally {
      fs.rmSync(marks, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!canChown)('a sessions.json hard-linked 50 times, in two installs (needs root to chown)', () => {
  it('is read once for the whole scan, and every link is judged', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const source = machine.path('~/.resonix/agents/main/sessions/sessions.json');
    const { uid, gid, ino } = fs.statSync(source);
    const links: string[] = [];
    for (let index = 0; index < 50; index++) {
      // half in the install itself, half in a copy beside it (`~/.resonix-work`, found by its name)
      const stateDir = index % 2 === 0 ? '~/.resonix' : '~/.resonix-work';
      const dir = machine.path(`${stateDir}/agents/linked${index}/sessions`);
      fs.mkdirSync(dir, { recursive: true });
      for (let up = dir; up !== machine.home; up = path.dirname(up)) fs.chownSync(up, uid, gid);
      fs.linkSync(source, path.join(dir, 'sessions.json'));
      links.push(`agents/linked${index}/sessions/sessions.json`);
    }
    const spy = spyOnReadsOf(ino);
    const scanned = await scanMachine({ mode: 'live', root: '/', env: { ...machine.env, TMPDIR: machine.path('tmp') }, home: machine.home }).finally(() => spy.restore());
    expect(spy.reads()).toBe(1);
    const judged = scanned.machine.homes[0]!.installs.flatMap((install) => (install.sessionRefs ?? []).filter((refs) => links.includes(refs.file)));
    expect(judged).toHaveLength(50);
    for (const refs of judged) expect(refs).not.toHaveProperty('parseError');
    expect(scanned.machine.problems.filter((problem) => problem.code === BUDGET_CODE)).toEqual([]);
  }, 60_000);
});

describe('a 1 TB sparse file in the state dir', () => {
  it('snapshot records it by size without reading it, says so, and verify --against still compares it', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const huge = path.join(machine.home, '.resonix', 'huge.bin');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 1024 ** 4);
    if (canChown) fs.chownSync(huge, fs.statSync(machine.home).uid, fs.statSync(machine.home).gid);
    const out = machine.path('tmp/old.manifest.json');
    const started = Date.now();
    const snapshot = await machine.cli(['snapshot', '--home', machine.home, '--out', out]);
    // hashing 1 TB of zeros takes hours
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(snapshot.code, snapshot.stderr).toBe(0);
    expect(snapshot.stderr).toMatch(/1 sparse and 0 too big to hash: recorded by size/);
    const manifest = JSON.parse(manifestFileText(out)) as { machine: { homes: { installs: { inventory: { entries: Record<string, unknown>[] } }[] }[] }; hashing: { skipped: Record<string, number> } };
    const recorded = manifest.machine.homes[0]!.installs[0]!.inventory.entries.find((item) => item.path === 'huge.bin')!;
    expect(recorded).toMatchObject({ size: 1024 ** 4, hashSkipped: 'sparse' });
    expect(recorded.sha256).toBeUndefined();
    expect(manifest.hashing.skipped.sparse).toBe(1);

    const same = await machine.json('verify', ['--against', out]);
    expect(JSON.stringify(same.report.findings)).not.toContain('huge.bin');
    // compared by size: one that lost its tail is still seen
    fs.truncateSync(huge, 1024 ** 4 - 4096);
    const shrunk = await machine.json('verify', ['--against', out]);
    expect(JSON.stringify(shrunk.report.findings)).toContain('huge.bin');
  });
});

describe('40,000 agents in agents.list', () => {
  const AGENTS = 40_000;

  it('every format comes out (exit < 2), the cut is reported, and the scan looks at the first agents only', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json').json as { agents: { list: { id: string; workspace?: string }[] } };
    for (let i = 0; i < AGENTS; i += 1) config.agents.list.push({ id: `planted-${i}`, workspace: `~/planted/ws-${i}` });
    const machine = await machineFrom(scenario);
    const file = (name: string): string => machine.path(`tmp/report.${name}`);
    const summary = machine.path('tmp/step-summary.md');
    const started = Date.now();
    const result = await machine.cli(
      ['verify', '--home', machine.home, '--format', 'pretty', ...['json', 'sarif', 'junit', 'github', 'markdown'].flatMap((format) => ['--output', `${format}=${file(format)}`])],
      { GITHUB_STEP_SUMMARY: summary },
    );
    expect(result.code, result.stderr).toBeLessThan(2);
    expect(Date.now() - started).toBeLessThan(45_000);
    const total = AGENTS + 2; // the scenario's own agents too
    const cut = new RegExp(`names ${total} agents: only the first ${MAX_AGENTS} were looked at`);
    expect(result.stdout).toMatch(cut);
    const report = JSON.parse(fs.readFileSync(file('json'), 'utf8')) as Report;
    const budget = report.problems.filter((problem) => problem.code === BUDGET_CODE);
    expect(budget).toHaveLength(1);
    expect(budget[0]!.message).toMatch(cut);
    // memory bounded by the cut: no finding or problem per agent past it
    expect(JSON.stringify(report)).not.toContain(`planted-${MAX_AGENTS + 1}"`);
    expect(report.findings.length).toBeLessThan(MAX_AGENTS + 100);
    const sarif = JSON.parse(fs.readFileSync(file('sarif'), 'utf8')) as { runs: { results: unknown[]; invocations: { toolExecutionNotifications: { message: { text: string } }[] }[] }[] };
    expect(sarif.runs[0]!.results.length).toBe(report.findings.length);
    expect(sarif.runs[0]!.invocations[0]!.toolExecutionNotifications.some((note) => cut.test(note.message.text))).toBe(true);
    expect(fs.readFileSync(file('junit'), 'utf8')).toMatch(cut);
    expect(fs.readFileSync(file('markdown'), 'utf8')).toMatch(cut);
    expect(fs.readFileSync(file('github'), 'utf8')).toMatch(/::error /);
    expect(fs.readFileSync(summary, 'utf8')).toMatch(cut);
  }, 90_000);
});

describe('per-finding work is linear (tens of thousands of findings, one install)', () => {
  const findings = (count: number): Finding[] =>
    Array.from({ length: count }, (_, i) => ({
      ruleId: 'perms/secrets-exposed',
      severity: (['error', 'warning', 'info'] as const)[i % 3]!,
      message: `finding ${i} about ${STATEDIR}/agents/a${i}/agent/auth-profiles.json`,
      path: `${STATEDIR}/agents/a${i}/agent/auth-profiles.json`,
      install: STATEDIR,
      evidence: [`mode 0644 on a${i}`],
      fix: { summary: 'tighten it', commands: [`chmod 600 ${STATEDIR}/agents/a${i}/agent/auth-profiles.json`] },
      fingerprint: i.toString(16).padStart(32, '0'),
    }));
  const formats: Record<string, (report: Report) => string> = {
    pretty: (report) => formatPretty(report, { color: false }),
    json: formatJson,
    sarif: (report) => formatSarif(report, RULES),
    junit: (report) => formatJunit(report, RULES),
    github: (report) => formatGithub(report).stdout,
    markdown: (report) => formatMarkdown(report),
    suppressions: (report) => String(applySuppressions(report, [{ rule: '*', path: '$STATEDIR/agents/a1*/**', reason: 'known' }], '2026-01-01').summary.error),
  };
  const timed = (run: () => unknown): number => {
    const started = performance.now();
    run();
    return performance.now() - started;
  };

  for (const [name, format] of Object.entries(formats)) {
    it(`${name}: 4x the findings costs far less than 16x the time, and never throws`, () => {
      const small = reportOf(findings(10_000));
      const large = reportOf(findings(40_000));
      format(small); // warm up
      const tSmall = Math.min(timed(() => format(small)), timed(() => format(small)));
      const tLarge = timed(() => format(large));
      // quadratic work is 16x; linear is 4x. The slack absorbs a loaded CI machine, not a quadratic.
      expect(tLarge, `${name}: 10k took ${tSmall.toFixed(0)} ms, 40k ${tLarge.toFixed(0)} ms`).toBeLessThan(10 * tSmall + 1500);
    });
  }
});
