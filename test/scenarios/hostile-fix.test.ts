// --fix on a home written by someone hostile, run as root: a config and a unit that name dirs outside the
// home, a symlinked parent of a workspace, a hard link to a root-owned file, a tree that makes a fix fail
// half-way. Nothing outside the home may change, and --fix-dry-run shows exactly what --fix does.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyFixes, confinePlan, setFdWalk, type PlannedFix } from '../../src/fix/index.js';
import type { FixAction } from '../../src/model.js';
import { scanMachine } from '../../src/scan/index.js';
import { canChown, entry, treeDigest, type Scenario } from '../helpers/scenario.js';
import { releaseStaged, stageForOtherUsers } from '../helpers/unprivileged.js';

// the checkout may sit in a private (0700) dir: another user runs a world-readable staged copy of the CLI
function cliForTheUser(): string {
  const staged = stageForOtherUsers();
  if (typeof staged === 'string') throw new Error(`cannot stage the CLI for another user: ${staged}`);
  return staged.cli;
}
import { cleanupMachines, expectNoLeak, liveScenario, machineFrom, type Machine } from './run.js';

afterAll(cleanupMachines);

interface FixOutput {
  refused: string[];
  applied: string[];
}

/** The two sections --fix and --fix-dry-run print: refused commands (with their reasons) and applied ones. */
function fixOutput(text: string): FixOutput {
  const out: FixOutput = { refused: [], applied: [] };
  let section: keyof FixOutput | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('--fix will not apply')) section = 'refused';
    else if (line.startsWith('--fix would apply') || line.startsWith('Applied')) section = 'applied';
    else if (!line.startsWith('  ')) section = undefined;
    else if (section) out[section].push(section === 'applied' ? line.replace(/\s+#.*$/, '').trim() : line.trim());
  }
  return out;
}

const UNIT = '{home}/.config/systemd/user/resonix-gateway.service';

/**
 * alice's home names three places outside it: the main agent's workspace (`{root}/etc-like`, root's),
 * the research workspace through `~/work -> {root}/srv`, and the unit's RESONIX_STATE_DIR (`{root}/opt/state`).
 * The state dir is loose (0755) and holds root-owned files, so fixes are due inside the home too.
 */
async function hostileHome(): Promise<Machine & { outside: string[]; hardLink: string; rootFile: string }> {
  const scenario: Scenario = await liveScenario('healthy-file-2026.5');
  const config = entry(scenario, '{home}/.resonix/resonix.json').json as { agents: { list: { id: string; workspace?: string }[] } };
  config.agents.list[0]!.workspace = '{root}/etc-like';
  entry(scenario, '{home}/.resonix/').mode = '0755';
  entry(scenario, '{home}/.resonix/credentials/').mode = '0755';
  entry(scenario, '{home}/.resonix/credentials/telegram-allowFrom.json').owner = 'root';
  const unit = entry(scenario, UNIT);
  unit.content = unit.content!.replace('Environment=HOME={homeAbs}\n', 'Environment=HOME={homeAbs}\nEnvironment=RESONIX_STATE_DIR={root}/opt/state\n');
  // the research workspace really lives in root's /srv, reached through a link in the home
  scenario.entries = scenario.entries.map((item) => (item.path.startsWith('{home}/work/') ? { ...item, path: item.path.replace('{home}/work/', 'srv/'), owner: 'root' } : item));
  scenario.entries.push(
    { path: '{home}/work', target: '{root}/srv' },
    { path: 'srv/', owner: 'root', mode: '0755' },
    { path: 'etc-like/', owner: 'root', mode: '0755' },
    { path: 'etc-like/passwd', owner: 'root', mode: '0644', content: 'root:x:0:0:root:/root:/bin/bash\n' },
    { path: 'etc-like/sudoers.d/', owner: 'root', mode: '0750' },
    { path: 'etc-like/sudoers.d/local', owner: 'root', mode: '0440', content: 'root ALL=(ALL) ALL\n' },
    { path: 'opt/', owner: 'root', mode: '0755' },
    { path: 'opt/state/', owner: 'root', mode: '0755' },
    { path: 'opt/state/resonix.json', owner: 'root', mode: '0644', json: { meta: { lastTouchedVersion: '2026.5.28' } } },
    { path: 'opt/state/credentials/', owner: 'root', mode: '0755' },
    { path: 'opt/state/credentials/telegram-allowFrom.json', owner: 'root', mode: '0644', json: { version: 1, allowFrom: [] } },
  );
  const machine = await machineFrom(scenario);
  // a second name, in alice's credentials, for a root-owned file outside the home
  const rootFile = machine.path('etc-like/shadow');
  fs.writeFileSync(rootFile, 'root:!:19000::::::\n', { mode: 0o644 });
  fs.chmodSync(rootFile, 0o644);
  const hardLink = path.join(machine.home, '.resonix/credentials/root-allowFrom.json');
  fs.linkSync(rootFile, hardLink);
  return Object.assign(machine, { outside: [machine.path('etc-like'), machine.path('srv'), machine.path('opt')], hardLink, rootFile });
}

async function digests(dirs: string[]): Promise<string[]> {
  return Promise.all(dirs.map((dir) => treeDigest(dir)));
}

describe.skipIf(!canChown)('--fix on a hostile home, as root', () => {
  it('changes nothing outside the home, lists what it refused with the command, and --fix-dry-run shows exactly that', async () => {
    const machine = await hostileHome();
    const outsideBefore = await digests(machine.outside);
    const linkBefore = fs.lstatSync(machine.rootFile);

    const dry = await machine.cli(['verify', '--home', machine.home, '--fix-dry-run']);
    expect(dry.code).toBe(1);
    const planned = fixOutput(dry.stdout);
    const refusedText = planned.refused.join('\n');
    // the config's workspace outside the home, the unit's state dir, the workspace through ~/work -> srv
    expect(refusedText).toContain(`chown -hR 1000:1000 ${machine.path('etc-like')}`);
    expect(refusedText).toMatch(/named only by the scanned config/);
    expect(refusedText).toContain(machine.path('opt/state'));
    expect(refusedText).toMatch(/named only by the unit/);
    expect(refusedText).toContain(path.join(machine.home, 'work/agent-research'));
    expect(refusedText).toMatch(/work is a symlink in a parent of the path/);
    // the hard-linked file: its mode is not changed through its second name
    expect(refusedText).toContain(`chmod 0600 ${machine.hardLink}`);
    expect(refusedText).toMatch(/2 hard links/);
    // and inside the home it still fixes what it should
    expect(planned.applied).toContain(`chmod 0700 ${path.join(machine.home, '.resonix')}`);
    expect(planned.applied).toContain(`chown -hR 1000:1000 ${path.join(machine.home, '.resonix')}`);
    for (const command of planned.applied) expect(command).not.toMatch(/etc-like|\/srv|opt\/state|work\/agent-research|root-allowFrom/);

    const fixed = await machine.cli(['verify', '--home', machine.home, '--fix']);
    expect(fixed.code, fixed.stderr).toBe(1);
    expect(fixOutput(fixed.stdout)).toEqual(planned);
    expect(fixed.stdout).toMatch(/Left alone 1 hard-linked file under `chown -hR 1000:1000 [^`]*\.resonix`/);

    // nothing outside the home changed: modes, owners, contents, links (stat and sha256 of every entry)
    expect(await digests(machine.outside)).toEqual(outsideBefore);
    const linkAfter = fs.lstatSync(machine.rootFile);
    expect([linkAfter.uid, linkAfter.gid, linkAfter.mode]).toEqual([linkBefore.uid, linkBefore.gid, linkBefore.mode]);
    expect(linkAfter.uid).toBe(0);
    // while inside it the fixes were applied
    expect(fs.statSync(path.join(machine.home, '.resonix')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(machine.home, '.resonix/credentials/telegram-allowFrom.json')).uid).toBe(1000);
  });

  it('a state dir the operator names outside the home is fixed only when every ancestor is root\'s or the user\'s', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const make = (dir: string, ancestorOwner: number): string => {
      const state = machine.path(`${dir}/resonix`);
      fs.mkdirSync(path.join(state, 'credentials'), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(state, 'resonix.json'), '{}\n', { mode: 0o600 });
      fs.writeFileSync(path.join(state, 'credentials/telegram-allowFrom.json'), '{"version":1,"allowFrom":[]}\n', { mode: 0o600 });
      fs.chownSync(machine.path(dir), ancestorOwner, ancestorOwner);
      return state;
    };
    const trusted = make('srv', 0);
    const foreign = make('data', 2000);

    const ok = await machine.cli(['verify', '--home', machine.home, '--state-dir', trusted, '--fix']);
    expect(ok.code, ok.stderr).toBeLessThan(2);
    expect(fixOutput(ok.stdout).applied).toContain(`chown -hR 1000:1000 ${trusted}`);
    expect(fs.statSync(path.join(trusted, 'credentials/telegram-allowFrom.json')).uid).toBe(1000);

    const before = await treeDigest(machine.path('data'));
    const dry = await machine.cli(['verify', '--home', machine.home, '--state-dir', foreign, '--fix-dry-run']);
    const refused = await machine.cli(['verify', '--home', machine.home, '--state-dir', foreign, '--fix']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(fixOutput(refused.stdout)).toEqual(fixOutput(dry.stdout));
    expect(fixOutput(refused.stdout).refused.join('\n')).toContain(`chown -hR 1000:1000 ${foreign}  # perms/wrong-owner: ${machine.path('data')} belongs to uid 2000`);
    expect(await treeDigest(machine.path('data'))).toBe(before);
  });

  it('as the gateway user itself: fixes its home through the opened fds, refuses the unit\'s state dir outside though it owns it', async () => {
    const scenario: Scenario = await liveScenario('healthy-file-2026.5');
    entry(scenario, '{home}/.resonix/').mode = '0755';
    entry(scenario, '{home}/.resonix/resonix.json').mode = '0644';
    const unit = entry(scenario, UNIT);
    unit.content = unit.content!.replace('Environment=HOME={homeAbs}\n', 'Environment=HOME={homeAbs}\nEnvironment=RESONIX_STATE_DIR={root}/opt/state\n');
    scenario.entries.push(
      { path: 'opt/', owner: 'root', mode: '0755' },
      { path: 'opt/state/', mode: '0755' },
      { path: 'opt/state/resonix.json', mode: '0644', json: { meta: { lastTouchedVersion: '2026.5.28' } } },
    );
    const machine = await machineFrom(scenario);
    const asAlice = (flag: string) => {
      const run = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', process.execPath, cliForTheUser(), 'audit', '--home', machine.home, flag], {
        env: { PATH: process.env.PATH!, HOME: machine.home, TMPDIR: machine.path('tmp') },
        encoding: 'utf8',
      });
      expectNoLeak(run.stdout + run.stderr, machine);
      return run;
    };
    const before = await treeDigest(machine.path('opt'));
    const dry = asAlice('--fix-dry-run');
    const fixed = asAlice('--fix');
    expect(fixed.status, fixed.stderr).toBe(1);
    expect(fixOutput(fixed.stdout)).toEqual(fixOutput(dry.stdout));
    expect(fixOutput(fixed.stdout).refused.join('\n')).toContain(`chmod 0600 ${machine.path('opt/state/resonix.json')}  # perms/secrets-exposed: a state dir named only by the unit`);
    expect(fixOutput(fixed.stdout).applied).toContain(`chmod 0600 ${path.join(machine.home, '.resonix/resonix.json')}`);
    expect(fs.statSync(path.join(machine.home, '.resonix/resonix.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(machine.home, '.resonix')).mode & 0o777).toBe(0o700);
    expect(await treeDigest(machine.path('opt'))).toBe(before);
  });

  it('image: a config naming a dir of the image outside the home is refused, the home is fixed, the same in --fix-dry-run', async () => {
    const scenario: Scenario = await liveScenario('healthy-file-2026.5');
    const config = entry(scenario, '{home}/.resonix/resonix.json').json as { agents: { list: { id: string; workspace?: string }[] } };
    config.agents.list[0]!.workspace = '/etc-like';
    entry(scenario, '{home}/.resonix/').mode = '0755';
    entry(scenario, '{home}/.resonix/credentials/telegram-allowFrom.json').owner = 'root';
    scenario.entries.push(
      { path: 'etc-like/', owner: 'root', mode: '0755' },
      { path: 'etc-like/passwd', owner: 'root', mode: '0644', content: 'root:x:0:0:root:/root:/bin/bash\n' },
    );
    const machine = await machineFrom(scenario, { live: false });
    const before = await treeDigest(machine.path('etc-like'));
    const dry = await machine.cli(['image', machine.root, '--fix-dry-run']);
    const fixed = await machine.cli(['image', machine.root, '--fix']);
    expect(fixed.code, fixed.stderr).toBe(1);
    const output = fixOutput(fixed.stdout);
    expect(output).toEqual(fixOutput(dry.stdout));
    expect(output.refused.join('\n')).toContain('chown -hR 1000:1000 /etc-like  # perms/wrong-owner: a workspace named only by the scanned config');
    expect(output.applied).toContain('chown -hR 1000:1000 /home/alice/.resonix');
    expect(await treeDigest(machine.path('etc-like'))).toBe(before);
    expect(fs.statSync(machine.path('{home}/.resonix/credentials/telegram-allowFrom.json')).uid).toBe(1000);
  });

  it('a fix that fails half-way says truthfully how many fixes and entries it changed, and exits 2', async () => {
    const machine = await machineFrom('healthy-file-2026.5');
    const state = path.join(machine.home, '.resonix');
    fs.chmodSync(state, 0o755);
    // root's files in alice's workspace, then a chain of dirs deeper than chown -R descends
    const workspace = path.join(state, 'workspace');
    for (let index = 0; index < 40; index++) fs.writeFileSync(path.join(workspace, `a-${String(index).padStart(2, '0')}.md`), 'x\n');
    let deep = path.join(workspace, 'z-deep');
    for (let level = 0; level < 300; level++) deep = path.join(deep, 'd');
    fs.mkdirSync(deep, { recursive: true });
    const rootOwned = (): number => {
      let count = 0;
      const visit = (dir: string): void => {
        for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
          const full = path.join(dir, item.name);
          if (fs.lstatSync(full).uid === 0) count += 1;
          if (item.isDirectory()) visit(full);
        }
      };
      visit(state);
      return count + (fs.lstatSync(state).uid === 0 ? 1 : 0);
    };
    const before = rootOwned();
    expect(before).toBeGreaterThan(300);

    const run = await machine.cli(['verify', '--home', machine.home, '--fix']);
    expect(run.code).toBe(2);
    const message = run.stderr.trim().split('\n').at(-1)!;
    const match = /`chown -hR 1000:1000 ([^`]+)` failed \((it goes more than 256 levels deep)\), after changing (\d+) entries in it; (\d+) of (\d+) fixes applied before it(: [^;]+)?/.exec(message);
    expect(match, message).not.toBeNull();
    expect(match![1]).toBe(state);
    const changed = Number(match![3]);
    // the count is what really changed: every root-owned entry it reached before the deep end
    expect(changed).toBeGreaterThan(40);
    expect(before - rootOwned()).toBe(changed);
    // the chmod that came first was applied, and is named
    expect([match![4], match![5]]).toEqual(['1', '2']);
    expect(match![6]).toBe(`: chmod 0700 ${state}`);
    expect(fs.statSync(state).mode & 0o777).toBe(0o700);
    expect(message.length).toBeLessThan(400);
  });
});

// The same confinement whichever way the walk goes: fds relative to the opened parent (Linux), or paths with
// lstat before and after (where /proc/self/fd is missing), called directly on a scanned tree.
describe.skipIf(!canChown).each([
  ['opened fds', true],
  ['paths and lstat', false],
])('--fix walk by %s', (_name, fds) => {
  afterEach(() => setFdWalk(undefined));

  it('fixes inside the home, refuses a symlinked parent and a hard link, fails truthfully on a swap', async () => {
    setFdWalk(fds);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-fixwalk-'));
    try {
      const home = path.join(root, 'home/alice');
      const state = path.join(home, '.resonix');
      fs.mkdirSync(path.join(state, 'sub'), { recursive: true });
      fs.mkdirSync(path.join(root, 'srv/ws'), { recursive: true });
      fs.writeFileSync(path.join(root, 'srv/ws/secret.json'), '{}', { mode: 0o644 });
      fs.writeFileSync(path.join(root, 'srv/shadow'), 'x', { mode: 0o644 });
      fs.writeFileSync(path.join(state, 'resonix.json'), '{}', { mode: 0o644 });
      fs.writeFileSync(path.join(state, 'sub/a.json'), '{}', { mode: 0o644 });
      fs.linkSync(path.join(root, 'srv/shadow'), path.join(state, 'sub/linked.json'));
      fs.symlinkSync(path.join(root, 'srv'), path.join(state, 'away'));
      fs.chownSync(home, 1000, 1000);
      fs.chownSync(path.join(root, 'home'), 0, 0);
      const { machine } = await scanMachine({ mode: 'live', root: '/', env: { HOME: home }, home });
      const outside = await treeDigest(path.join(root, 'srv'));
      const fix = (action: FixAction): PlannedFix => ({ action, command: `${action.kind} ${action.path}`, ruleId: 'test/rule' });
      const plan = [
        fix({ kind: 'chmod', path: path.join(state, 'resonix.json'), mode: 0o600 }),
        fix({ kind: 'chown', path: state, uid: 1000, gid: 1000, recursive: true }),
        fix({ kind: 'chmod', path: path.join(state, 'away/ws/secret.json'), mode: 0o600 }),
        fix({ kind: 'chmod', path: path.join(state, 'sub/linked.json'), mode: 0o600 }),
        fix({ kind: 'chown', path: path.join(root, 'srv/ws'), uid: 1000, gid: 1000, recursive: true }),
      ];
      const { apply, refused } = confinePlan(machine, plan);
      expect(apply.map((item) => item.action.path)).toEqual([path.join(state, 'resonix.json'), state]);
      expect(refused.map((item) => item.reason)).toEqual([
        expect.stringContaining(`${path.join(state, 'away')} is a symlink in a parent of the path`),
        expect.stringContaining('2 hard links'),
        expect.stringContaining('not inside a state dir, workspace or backup that was scanned'),
      ]);
      const applied = applyFixes(machine, apply);
      expect(applied.map((item) => item.changed)).toEqual([1, 4]);
      expect(applied[1]!.linked).toBe(1);
      expect(fs.statSync(path.join(state, 'resonix.json')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(state, 'sub/a.json')).uid).toBe(1000);
      expect(fs.lstatSync(path.join(state, 'away')).uid).toBe(0); // the link itself is left alone too
      expect(await treeDigest(path.join(root, 'srv'))).toBe(outside);

      // backups outside the home: only one owned by root or the gateway user, in dirs nobody else may write
      const tmp = path.join(root, 'tmp');
      fs.mkdirSync(tmp, { mode: 0o1777 });
      fs.chmodSync(tmp, 0o1777);
      const backup = (name: string, uid: number): string => {
        const file = path.join(tmp, name);
        fs.writeFileSync(file, 'x', { mode: 0o644 });
        fs.chownSync(file, uid, uid);
        machine.archives.push({ path: file, format: 'tar.gz', encrypted: false, mode: 0o100644, uid, gid: uid, size: 1 } as (typeof machine.archives)[number]);
        return file;
      };
      const own = backup('resonix-own.tgz', 1000);
      const planted = backup('resonix-planted.tgz', 2000);
      const backups = confinePlan(machine, [fix({ kind: 'chmod', path: own, mode: 0o600 }), fix({ kind: 'chmod', path: planted, mode: 0o600 })]);
      expect(backups.apply.map((item) => item.action.path)).toEqual([own]);
      expect(backups.refused[0]!.reason).toContain('the backup belongs to uid 2000');
      applyFixes(machine, backups.apply);
      expect([fs.statSync(own).mode & 0o777, fs.statSync(planted).mode & 0o777]).toEqual([0o600, 0o644]);

      // swapped for a link between planning and acting: walked again right before, so refused then (exit 2)
      const late = [fix({ kind: 'chmod', path: path.join(state, 'sub/a.json'), mode: 0o600 })];
      expect(confinePlan(machine, late).apply).toHaveLength(1);
      fs.rmSync(path.join(state, 'sub'), { recursive: true });
      fs.symlinkSync(path.join(root, 'srv/ws'), path.join(state, 'sub'));
      fs.symlinkSync(path.join(root, 'srv/ws/secret.json'), path.join(root, 'srv/ws/a.json'));
      const swapped = await treeDigest(path.join(root, 'srv'));
      expect(() => applyFixes(machine, late)).toThrow(/refusing `chmod .*sub\/a\.json`: .*sub is a symlink in a parent of the path/);
      expect(await treeDigest(path.join(root, 'srv'))).toBe(swapped);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a home top swapped for a link its user owns is refused; a root-owned link on the way is followed', async () => {
    setFdWalk(fds);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-fixtop-'));
    try {
      // alice owns /data, the dir above her home, so she can rename her home and put a link in its place
      const data = path.join(root, 'data');
      const home = path.join(data, 'alice');
      fs.mkdirSync(path.join(home, '.resonix'), { recursive: true });
      fs.writeFileSync(path.join(home, '.resonix/resonix.json'), '{}', { mode: 0o644 });
      fs.chownSync(data, 1000, 1000);
      fs.chownSync(home, 1000, 1000);
      // a root dir holding the same relative names, the link's target
      const rootOwned = path.join(root, 'etc-like/.resonix/resonix.json');
      fs.mkdirSync(path.dirname(rootOwned), { recursive: true });
      fs.writeFileSync(rootOwned, '{}', { mode: 0o644 });
      fs.chmodSync(rootOwned, 0o644);
      // the home is reached through a link root made (as /home -> /usr/home)
      fs.symlinkSync(data, path.join(root, 'homes'));
      const named = path.join(root, 'homes/alice');
      const { machine } = await scanMachine({ mode: 'live', root: '/', env: { HOME: named }, home: named });
      const fix = (file: string): PlannedFix => ({ action: { kind: 'chmod', path: file, mode: 0o600 }, command: `chmod 0600 ${file}`, ruleId: 'test/rule' });
      const first = confinePlan(machine, [fix(path.join(named, '.resonix/resonix.json'))]);
      expect(first.refused).toEqual([]);
      applyFixes(machine, first.apply);
      expect(fs.statSync(path.join(home, '.resonix/resonix.json')).mode & 0o777).toBe(0o600);

      // between planning and acting alice swaps her home for a link of hers to the root dir
      const late = [fix(path.join(named, '.resonix/resonix.json'))];
      fs.renameSync(home, `${home}.old`);
      fs.symlinkSync(path.join(root, 'etc-like'), home);
      fs.lchownSync(home, 1000, 1000);
      expect(() => applyFixes(machine, late)).toThrow(/refusing `chmod /);
      expect(confinePlan(machine, late).apply).toEqual([]);
      expect(fs.statSync(rootOwned).mode & 0o777).toBe(0o644);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!canChown)('who the gateway runs as, on a hostile home', () => {
  it("a user unit's User= and a LaunchAgent's UserName do not make another user's home the one --fix may change", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-unituser-'));
    try {
      const home = path.join(root, 'alice');
      fs.mkdirSync(path.join(home, '.resonix'), { recursive: true });
      fs.mkdirSync(path.join(home, '.config/systemd/user'), { recursive: true });
      fs.mkdirSync(path.join(home, 'Library/LaunchAgents'), { recursive: true });
      fs.writeFileSync(path.join(home, '.resonix/resonix.json'), '{}');
      // daemon's home in /etc/passwd is /usr/sbin: a gateway "running as daemon" would make it a fix zone
      fs.writeFileSync(path.join(home, '.config/systemd/user/resonix-gateway.service'), '[Service]\nUser=daemon\nExecStart=/usr/bin/true\n');
      fs.writeFileSync(
        path.join(home, 'Library/LaunchAgents/ai.resonix.gateway.plist'),
        '<?xml version="1.0"?><plist version="1.0"><dict><key>Label</key><string>ai.resonix.gateway</string><key>UserName</key><string>daemon</string><key>ProgramArguments</key><array><string>/usr/bin/true</string></array></dict></plist>',
      );
      fs.chownSync(home, 1000, 1000);
      const { machine } = await scanMachine({ mode: 'live', root: '/', env: { HOME: home }, home });
      const scanned = machine.homes[0]!;
      expect(scanned.services.length).toBe(2);
      expect(scanned.gatewayUser).toMatchObject({ uid: 1000, source: 'home-owner' });
      expect(scanned.services.map((unit) => unit.user)).toEqual([undefined, undefined]);
      const target = '/usr/sbin/resonix-test-never-there';
      const { apply } = confinePlan(machine, [{ action: { kind: 'chown', path: target, uid: 1, gid: 1, recursive: true }, command: '', ruleId: 'test/rule' }]);
      expect(apply).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

afterAll(releaseStaged);
