// Two machines through the real CLI: snapshot the old one, make the new one with the commands users
// really run, then `verify --against` the snapshot (or the backup). The new machine is built at the same
// path as the old one, as a move to a new laptop with the same user name would.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { canChown, entry } from '../helpers/scenario.js';
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, ruleIds, type Machine } from './run.js';
import { manifestFileText } from '../helpers/manifest-file.js';

afterAll(cleanupMachines);

const hasRsync = (() => {
  try {
    execFileSync('rsync', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

interface Move {
  old: string;
  fresh: Machine;
  manifest: string;
}

/** Snapshots the old machine, moves it aside, and gives an empty home at the same path for the copy. */
async function move(name: string, configure?: (scenario: Awaited<ReturnType<typeof liveScenario>>) => void): Promise<Move> {
  const scenario = await liveScenario(name);
  configure?.(scenario);
  const machine = await machineFrom(scenario);
  // the manifest and the old tree go to a temp dir of their own, never loose in the shared /tmp
  const aside = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-move-'));
  asides.push(aside);
  const manifest = path.join(aside, 'manifest.json');
  const snapshot = await machine.cli(['snapshot', '--home', machine.home, '--out', manifest]);
  expect(snapshot.code, snapshot.stderr).toBe(0);
  expectNoLeak(manifestFileText(manifest), machine);
  const old = path.join(aside, 'old');
  fs.renameSync(machine.root, old);
  fs.mkdirSync(machine.home, { recursive: true, mode: 0o755 });
  fs.mkdirSync(machine.path('tmp'), { mode: 0o1777 });
  fs.cpSync(path.join(old, 'usr'), machine.path('usr'), { recursive: true, verbatimSymlinks: true });
  if (fs.existsSync(path.join(old, 'opt'))) fs.cpSync(path.join(old, 'opt'), machine.path('opt'), { recursive: true, verbatimSymlinks: true });
  if (canChown) fs.chownSync(machine.home, 1000, 1000);
  return { old: path.join(old, path.relative(machine.root, machine.home)), fresh: machine, manifest };
}

async function verifyAgainst(target: Move, against = target.manifest): Promise<{ code: number; report: Report }> {
  const result = await target.fresh.cli(['verify', '--home', target.fresh.home, '--against', against, '--format', 'json']);
  expect(result.code, result.stderr).toBeLessThan(2);
  const report = JSON.parse(result.stdout) as Report;
  return { code: result.code, report };
}

const asides: string[] = [];
afterAll(() => {
  for (const dir of asides.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('verify --against the old machine', () => {
  for (const name of ['healthy-file-2026.5', 'healthy-sqlite-2026.9']) {
    it.skipIf(!hasRsync)(`${name}: a correct rsync -a copy verified against its own snapshot gives no error and no warning`, async () => {
      const target = await move(name);
      for (const dir of fs.readdirSync(target.old)) execFileSync('rsync', ['-a', path.join(target.old, dir), `${target.fresh.home}/`]);
      const { code, report } = await verifyAgainst(target);
      expect(report.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
      expect(code).toBe(0);
    });
  }

  it('only resonix.json copied: copy/config-only and copy/incomplete', async () => {
    const target = await move('healthy-file-2026.5');
    fs.mkdirSync(path.join(target.fresh.home, '.resonix'), { mode: 0o700 });
    execFileSync('cp', [path.join(target.old, '.resonix/resonix.json'), path.join(target.fresh.home, '.resonix/')]);
    if (canChown) execFileSync('chown', ['-R', '1000:1000', path.join(target.fresh.home, '.resonix')]);
    const { code, report } = await verifyAgainst(target);
    expect(code).toBe(1);
    // what a config-only copy loses, rule by rule (the missing workspaces and WhatsApp login included)
    expect(ruleIds(report, 'error')).toEqual(['copy/channel-login-missing', 'copy/config-only', 'copy/hidden-omitted', 'copy/incomplete', 'copy/workspace-missing', 'paths/foreign-home']);
  });

  it('`tar czf x.tgz *` in the home, extracted on the new machine: the dot-dirs never left', async () => {
    const target = await move('healthy-file-2026.5');
    const archive = `${target.old}.tgz`;
    execFileSync('bash', ['-c', 'cd "$1" && tar czf "$2" *', 'tar', target.old, archive]);
    execFileSync('tar', ['xzf', archive, '-C', target.fresh.home]);
    const { report } = await verifyAgainst(target);
    // each rule caught by id, nothing else at error
    expect(ruleIds(report, 'error')).toEqual(['copy/hidden-omitted', 'copy/incomplete', 'state/not-found']);
    // the archive itself, inspected, says the same
    const inspected = JSON.parse((await target.fresh.cli(['inspect', archive, '--format', 'json'])).stdout) as Report;
    expect(ruleIds(inspected, 'error')).toContain('copy/hidden-omitted');
    fs.rmSync(archive);
  });

  it.skipIf(!canChown)('extracted as root without keeping owners: perms/wrong-owner (needs root: chown to other uids)', async () => {
    const target = await move('healthy-file-2026.5');
    const archive = `${target.old}.tgz`;
    execFileSync('tar', ['czf', archive, '-C', target.old, '.resonix', 'work']);
    execFileSync('tar', ['xzf', archive, '--no-same-owner', '-C', target.fresh.home]);
    const { report } = await verifyAgainst(target);
    expect(ruleIds(report, 'error')).toEqual(['perms/unreadable', 'perms/wrong-owner']);
    fs.rmSync(archive);
  });

  it.skipIf(!hasRsync)('a SQLite database truncated in the copy: copy/sqlite-torn', async () => {
    const target = await move('healthy-sqlite-2026.9');
    for (const dir of fs.readdirSync(target.old)) execFileSync('rsync', ['-a', path.join(target.old, dir), `${target.fresh.home}/`]);
    execFileSync('truncate', ['-s', '8192', path.join(target.fresh.home, '.resonix/state/resonix.sqlite')]);
    const { code, report } = await verifyAgainst(target);
    expect(code).toBe(1);
    expect(ruleIds(report, 'error')).toEqual(['copy/incomplete', 'copy/sqlite-torn']);
  });

  it('verify --against the backup archive itself', async () => {
    const target = await move('healthy-file-2026.5');
    const archive = `${target.old}-state.tgz`;
    execFileSync('tar', ['czf', archive, '-C', target.old, '.resonix']);
    fs.mkdirSync(path.join(target.fresh.home, '.resonix'), { mode: 0o700 });
    execFileSync('cp', [path.join(target.old, '.resonix/resonix.json'), path.join(target.fresh.home, '.resonix/')]);
    const { report } = await verifyAgainst(target, archive);
    expect(ruleIds(report, 'error')).toContain('copy/incomplete');
    fs.rmSync(archive);
  });

  it('a manifest that is not one, or from a newer version, is exit 2 with one line', async () => {
    const target = await move('healthy-file-2026.5');
    fs.writeFileSync(`${target.manifest}.bad`, '{"manifest": 99, "tool": {}}');
    const newer = await target.fresh.cli(['verify', '--home', target.fresh.home, '--against', `${target.manifest}.bad`]);
    expect(newer.code).toBe(2);
    expect(newer.stderr.trim().split('\n')).toHaveLength(1);
    fs.writeFileSync(`${target.manifest}.bad`, '{ not json');
    expect((await target.fresh.cli(['verify', '--home', target.fresh.home, '--against', `${target.manifest}.bad`])).code).toBe(2);
    fs.rmSync(`${target.manifest}.bad`);
  });
});

describe('copied while the gateway ran', () => {
  it.skipIf(!hasRsync)('a copy taken while a (fake) gateway held its lock and had un-checkpointed -wal data: copy/sqlite-torn after the move', async () => {
    const target = await move('healthy-sqlite-2026.9', (scenario) => {
      // the live gateway: its lock and 8 KiB of -wal frames not yet in the database
      entry(scenario, '{home}/.resonix/agents/main/agent/resonix-agent.sqlite-wal').content = 'W'.repeat(8192);
      scenario.entries.push({ path: '{home}/.resonix/tmp/resonix-1000/gateway.d97bed0c.lock.sqlite', mode: '0644', content: 'held' });
    });
    for (const dir of fs.readdirSync(target.old)) execFileSync('rsync', ['-a', path.join(target.old, dir), `${target.fresh.home}/`]);
    const { report } = await verifyAgainst(target);
    const torn = report.findings.find((finding) => finding.ruleId === 'copy/sqlite-torn')!;
    expect(torn.evidence!.join('\n')).toContain('agents/main/agent/resonix-agent.sqlite-wal');
  });
});

describe('audit while the gateway runs', () => {
  it('a live gateway lock: gateway/running, and the copy would be torn', async () => {
    const scenario = await liveScenario('healthy-file-2026.5');
    const machine = await machineFrom(scenario);
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const lockDir = path.join(machine.path('tmp'), 'resonix-1000');
      fs.mkdirSync(lockDir, { recursive: true });
      fs.writeFileSync(path.join(lockDir, 'gateway.1a2b3c4d.lock'), JSON.stringify({ pid: sleeper.pid, createdAt: new Date().toISOString(), configPath: path.join(machine.home, '.resonix/resonix.json'), startTime: 1 }));
      const { code, report } = await machine.json('audit');
      expect(code).toBe(1);
      expect(ruleIds(report, 'error')).toContain('gateway/running');
      // a live copy: the running gateway is the root; the plan of the move starts by stopping it
      expect(report.findings.filter((finding) => !finding.causedBy && finding.severity !== 'info').map((finding) => finding.ruleId).sort()).toEqual(['gateway/running', 'secrets/duplicate-live-credentials']);
      expect(report.plan![0]!.step).toBe('Stop the gateway');
      const commands = report.plan!.flatMap((step) => step.commands);
      expect(new Set(commands).size).toBe(commands.length);
    } finally {
      sleeper.kill();
    }
  });
});

describe('inspect ARCHIVE', () => {
  // retried once: one CI-like run under full load saw an empty stdout here that no rerun reproduced; the
  // assertion below now shows the CLI's stderr if it happens again
  it('classifies, lists and judges real archives; --against a manifest finds what the archive lacks', { retry: 1 }, async () => {
    const target = await move('healthy-file-2026.5', (scenario) => {
      entry(scenario, '{home}/.resonix/').mode = '0700';
    });
    const full = `${target.old}-full.tgz`;
    const partial = `${target.old}-partial.tgz`;
    execFileSync('tar', ['czf', full, '-C', target.old, '.resonix']);
    execFileSync('tar', ['czf', partial, '-C', target.old, '.resonix/resonix.json', '.resonix/agents']);
    fs.chmodSync(full, 0o600);
    fs.chmodSync(partial, 0o600);
    const inspected = await target.fresh.cli(['inspect', full, '--format', 'json']);
    expect(inspected.code, inspected.stderr).toBeLessThan(2);
    const plain = JSON.parse(inspected.stdout) as Report;
    expect(ruleIds(plain, 'error')).toEqual(['secrets/unencrypted-backup']);
    const compared = await target.fresh.cli(['inspect', partial, '--against', target.manifest, '--format', 'json']);
    expect(compared.code, compared.stderr).toBeLessThan(2);
    const against = JSON.parse(compared.stdout) as Report;
    expect(ruleIds(against, 'error')).toEqual(expect.arrayContaining(['copy/incomplete', 'secrets/unencrypted-backup']));
    const missing = await target.fresh.cli(['inspect', `${target.old}-nope.tgz`]);
    expect(missing.code).toBe(2);
    fs.rmSync(full);
    fs.rmSync(partial);
  });
});
