// The one ordered plan, on in-memory findings and machines: step order, dedup, alternatives, the user's
// words, the service for the profile that holds the data, and the audit's move.
import { describe, expect, it } from 'vitest';
import type { Finding, Fix } from '../src/model.js';
import { arrivals, inUserWords, movePlan, planFromFindings, stepOf, whatMustTravel, type Words } from '../src/plan.js';
import { runRules } from '../src/engine.js';
import { entries, home, install, machine, service } from './helpers/machine.js';

const S = '/home/alice/.resonix';
const words: Words = { users: { 1000: 'alice' }, groups: { 1000: 'staff' }, dataProfiles: ['default'] };
const finding = (ruleId: string, fix: Fix, extra: Partial<Finding> = {}): Finding => ({ ruleId, severity: 'error', message: ruleId, fingerprint: `fp-${ruleId}`, fix, ...extra });

describe('stepOf', () => {
  it("places the Resonix CLI's own verbs by themselves, anything else by its declared step", () => {
    expect(stepOf('resonix gateway stop   # on the old machine', 'copy')).toBe('stop');
    expect(stepOf('resonix --profile work doctor', 'copy')).toBe('doctor');
    expect(stepOf('resonix doctor --fix', undefined)).toBe('config');
    expect(stepOf('RESONIX_STATE_DIR=/x resonix gateway install --force', 'config')).toBe('service');
    expect(stepOf('systemctl --user daemon-reload && systemctl --user restart resonix-gateway.service', 'service')).toBe('restart');
    expect(stepOf('rsync -a a b', 'copy')).toBe('copy');
    expect(stepOf('chmod 700 x', 'modes')).toBe('modes');
  });
});

describe('inUserWords', () => {
  it('writes the home as ~ (unquoted words only) and ids as names', () => {
    const own = { ...words, home: '/home/alice' };
    expect(inUserWords('sudo chown -R 1000:1000 /home/alice/.resonix', own)).toBe('sudo chown -R alice:staff ~/.resonix');
    expect(inUserWords("rsync -a <old-host>:/home/alice/.resonix/ '/home/alice/my dir/'", own)).toBe("rsync -a <old-host>:~/.resonix/ '/home/alice/my dir/'");
    expect(inUserWords('ls /home/alicebob/x', own)).toBe('ls /home/alicebob/x');
    // not the runner's home: kept absolute; an unknown uid stays a number
    expect(inUserWords('sudo chown 1000:1000 /home/alice/.resonix', words)).toBe('sudo chown alice:staff /home/alice/.resonix');
    expect(inUserWords('sudo chown 1234:1000 /x', words)).toBe('sudo chown 1234:1000 /x');
  });
});

describe('planFromFindings', () => {
  const findings: Finding[] = [
    finding('t/config', { summary: 'Rewrite the workspace path', commands: ['resonix config set agents.defaults.workspace ~/.resonix/workspace', 'resonix doctor'], step: 'config' }),
    finding('t/owner', { summary: 'Give the files back', commands: [`sudo chown -R 1000:1000 ${S}`], step: 'ownership' }),
    finding('t/modes', { summary: 'Close them', commands: [`chmod 700 ${S}`], step: 'modes' }),
    finding('t/copy', { summary: 'Copy the state dir', commands: [`rsync -a <old-host>:${S}/ ${S}/`, 'resonix doctor'], step: 'copy' }),
    finding('t/torn', { summary: 'Stop the old gateway, copy again', commands: ['resonix gateway stop   # on the old machine', `rsync -a <old-host>:${S}/ ${S}/`], step: 'copy' }),
    finding('t/service', { summary: 'Install the service', commands: ['resonix --profile work gateway install --force', 'resonix gateway install --force', 'resonix gateway install'], step: 'service' }),
    finding('t/folded', { summary: 'never shown', commands: ['chmod 000 /never'], step: 'modes' }, { causedBy: 'fp-t/owner' }),
    finding('t/suppressed', { summary: 'never shown', commands: ['chmod 000 /suppressed'], step: 'modes' }, { suppressed: { kind: 'config', reason: 'x' } }),
  ];

  it('one step per kind, in the order that works, each command once, then doctor → restart → status', () => {
    const plan = planFromFindings(findings, words, { phase: 'verify' });
    expect(plan.map((step) => step.step)).toEqual([
      'Stop the gateway',
      'Copy or restore what is missing',
      'Give the files to the gateway user',
      'Set the modes',
      'Rewrite the config and its paths',
      'Install the service for the profile that holds the data',
      'Check with resonix doctor',
      'Restart the gateway',
      'Check that it runs',
    ]);
    const commands = plan.flatMap((step) => step.commands);
    expect(new Set(commands).size).toBe(commands.length);
    expect(plan[1]!.commands).toEqual([`rsync -a <old-host>:${S}/ ${S}/`]);
    expect(plan[1]!.findings).toEqual(['fp-t/copy', 'fp-t/torn']);
    expect(plan[2]!.commands).toEqual([`sudo chown -R alice:staff ${S}`]);
    expect(commands).not.toContain('chmod 000 /never');
    expect(commands).not.toContain('chmod 000 /suppressed');
    // the service for the profile that holds the data, and the --force install only
    expect(plan[5]!.commands).toEqual(['resonix gateway install --force']);
    expect(plan.at(-1)!.commands).toEqual(['resonix status']);
  });

  it('the doctor checks the profiles the service step installs: not a never-onboarded one beside the one that holds the data', () => {
    // a moved home whose two units (default, and the work profile a failed install left) both name the old home
    const plan = planFromFindings(
      [finding('t/foreign', { summary: 'One rewrite', commands: ['resonix --profile work gateway install --force', 'resonix gateway install --force', 'resonix doctor', 'resonix --profile work doctor', "RESONIX_STATE_DIR=/srv/x resonix doctor"], step: 'config' })],
      words,
      { phase: 'verify' },
    );
    expect(plan.find((step) => step.step === 'Install the service for the profile that holds the data')!.commands).toEqual(['resonix gateway install --force']);
    expect(plan.find((step) => step.step === 'Check with resonix doctor')!.commands).toEqual(['resonix doctor', 'RESONIX_STATE_DIR=/srv/x resonix doctor']);
    // with only the empty profile's check, it stays: there is nothing to prefer it to
    const alone = planFromFindings([finding('t/work', { summary: 'Check', commands: ['resonix --profile work doctor'], step: 'config' })], words, { phase: 'verify' });
    expect(alone.find((step) => step.step === 'Check with resonix doctor')!.commands).toEqual(['resonix --profile work doctor']);
  });

  it('alternatives are one step with alternatives, never consecutive steps', () => {
    const plan = planFromFindings(
      [finding('t/hidden', { summary: 'Copy the state dir itself', commands: [`rsync -a <old-host>:${S}/ ${S}/`, 'tar -C ~ -czf resonix.tgz .resonix   # on the old machine'], alternatives: true, step: 'copy' })],
      words,
      { phase: 'verify' },
    );
    expect(plan[0]).toEqual({ step: 'Copy or restore what is missing', why: 'Copy the state dir itself', commands: [`rsync -a <old-host>:${S}/ ${S}/`], findings: ['fp-t/hidden'], alternatives: [['tar -C ~ -czf resonix.tgz .resonix   # on the old machine']] });
    expect(plan.filter((step) => step.step === 'Copy or restore what is missing')).toHaveLength(1);
  });

  it('no finding with a fix, no plan; hygiene alone, or an info\'s suggestion, gets no restart', () => {
    const info = planFromFindings([finding('t/service', { summary: 'Install it', commands: ['resonix gateway install'], step: 'service' }, { severity: 'info' })], words, { phase: 'verify' });
    expect(info.map((step) => step.step)).toEqual(['Install the service for the profile that holds the data']);
    expect(planFromFindings([], words, { phase: 'verify' })).toEqual([]);
    const plan = planFromFindings([finding('t/backup', { summary: 'Encrypt it', commands: ['age -p -o b.age b'], step: 'hygiene' })], words, { phase: 'verify' });
    expect(plan.map((step) => step.step)).toEqual(['Clean up (hygiene)']);
  });

  it('the fix step comes from the rule metadata when the fix does not say', () => {
    const plan = planFromFindings([finding('t/copy', { summary: 's', commands: ['rsync -a a b'] })], words, { phase: 'image', fixStepOf: () => 'copy' });
    expect(plan.map((step) => step.step)).toEqual(['Copy or restore what is missing']);
  });
});

describe('audit: what must travel, and the move', () => {
  const stateDir = install(S, ['resonix.json', ['agents/main/sessions/a.jsonl', 0o600, undefined, { size: 5000 }]], {
    workspaces: [
      { agentId: 'main', path: `${S}/workspace`, source: 'default', inventory: { root: `${S}/workspace`, exists: true, entries: entries(['AGENTS.md']) } },
      { agentId: 'research', path: '/home/alice/work/research', source: 'config', inventory: { root: '/home/alice/work/research', exists: true, entries: entries([['notes.md', 0o600, undefined, { size: 700 }]]) } },
      { agentId: 'ops', path: '/srv/ops', source: 'config', inventory: { root: '/srv/ops', exists: true, entries: entries(['x.md']) } },
    ],
  });
  const work = install(`${S}-work`, ['resonix.json', 'credentials/creds.json'], { profile: 'work', active: false });
  const empty = install(`${S}-dev`, [], { profile: 'dev', active: false, hasData: false });
  const unit = service(S, { environmentFiles: [{ path: '/home/alice/.config/resonix/work.env', exists: true, keys: ['K'] }, { path: '/nowhere.env', exists: false, keys: [] }] });
  const scanned = machine([home([stateDir, work, empty], { services: [unit] })], { runtime: { encryptionTools: ['gpg', 'openssl'] } });

  it('every state dir that holds data, each workspace outside it, the units and env files, with sizes', () => {
    const items = whatMustTravel(scanned);
    expect(items.map((item) => [item.kind, item.path, item.profile])).toEqual([
      ['state-dir', S, 'default'],
      ['workspace', '/home/alice/work/research', 'default'],
      ['workspace', '/srv/ops', 'default'],
      ['state-dir', `${S}-work`, 'work'],
      ['unit', unit.path, 'default'],
      ['env-file', '/home/alice/.config/resonix/work.env', 'default'],
    ]);
    expect(items[0]!.bytes).toBe(100 + 5000);
    expect(items[1]!.bytes).toBe(700);
  });

  it('stop → snapshot → one archive per profile (dot-dirs named) → inspect → encrypt with what is installed → transfer → extract, install, verify', () => {
    const items = whatMustTravel(scanned);
    const plan = movePlan(scanned, items, { ...words, home: '/home/alice' });
    expect(plan.map((step) => step.step)).toEqual([
      'Stop the gateway',
      'Write a snapshot to check against',
      'Archive each profile, dot-dirs included',
      'Check each archive against the snapshot',
      'Encrypt each archive',
      'Transfer to the new machine',
      'On the new machine: extract as the gateway user',
      'On the new machine: install the service for each profile',
      'On the new machine: verify against the snapshot',
    ]);
    expect(plan[0]!.commands).toEqual(['resonix gateway stop', 'resonix --profile work gateway stop']);
    expect(plan[2]!.commands).toEqual([
      'umask 077 && tar -C ~ -czf resonix-default.tgz .resonix work/research .config/systemd/user/resonix-gateway.service .config/resonix/work.env -C / srv/ops',
      'umask 077 && tar -C ~ -czf resonix-work.tgz .resonix-work',
    ]);
    expect(plan[2]!.why).toMatch(/default 5\.\d KiB, work \d+ B/);
    expect(plan[3]!.commands).toEqual(['resonix-migrate inspect resonix-default.tgz --against resonix-manifest.json', 'resonix-migrate inspect resonix-work.tgz --against resonix-manifest.json']);
    expect(plan[4]!.commands[0]).toBe('gpg --symmetric --cipher-algo AES256 -o resonix-default.tgz.gpg resonix-default.tgz');
    expect(plan[4]!.commands[1]).toBe('shred -u resonix-default.tgz');
    expect(plan[4]!.why).toContain('gpg is installed here (also: openssl)');
    expect(plan[5]!.commands).toEqual(['scp resonix-default.tgz.gpg resonix-work.tgz.gpg resonix-manifest.json <new-host>:']);
    expect(plan[6]!.commands[0]).toBe('gpg -d resonix-default.tgz.gpg | tar -C ~ -xzf -');
    expect(plan[7]!.commands).toEqual(['resonix gateway install', 'resonix --profile work gateway install']);
    const commands = plan.flatMap((step) => step.commands);
    expect(new Set(commands).size).toBe(commands.length);
  });

  it('age is preferred when installed; with none, the plan says to install one', () => {
    const withAge = machine([home([stateDir])], { runtime: { encryptionTools: ['age', 'gpg'] } });
    expect(movePlan(withAge, whatMustTravel(withAge), words)[4]!.commands[0]).toBe('age -p -o resonix-default.tgz.age resonix-default.tgz');
    const none = machine([home([stateDir])]);
    expect(movePlan(none, whatMustTravel(none), words)[4]!.why).toContain('No age, gpg or openssl was found on PATH');
  });

  it('through the engine: audit reports move and the move plan; the running gateway\'s stop commands join the stop step', () => {
    const report = runRules({ phase: 'audit', machine: scanned });
    expect(report.move!.map((item) => item.kind)).toContain('state-dir');
    expect(report.plan![0]!.step).toBe('Stop the gateway');
    expect(report.plan!.map((step) => step.step)).toContain('On the new machine: verify against the snapshot');
  });

  it('verify --against: a profile left behind and a workspace never archived are named with the skipped step', () => {
    const arrivedDefault = install(S, ['resonix.json', 'agents/main/sessions/a.jsonl'], { workspaces: [] });
    const current = machine([home([arrivedDefault], { services: [service(S)] })]);
    const items = arrivals(scanned, current);
    const byPath = new Map(items.map((item) => [item.path, item]));
    expect(byPath.get(S)!.arrived).toBe(true);
    expect(byPath.get(`${S}-work`)).toEqual(expect.objectContaining({ arrived: false, skippedStep: expect.stringContaining('profile work was left behind') }));
    expect(byPath.get('/home/alice/work/research')).toEqual(expect.objectContaining({ arrived: false, skippedStep: expect.stringMatching(/^Archive each profile/) }));
    expect(byPath.get(unit.path)!.arrived).toBe(true);
    expect(byPath.get('/home/alice/.config/resonix/work.env')!.arrived).toBeUndefined();
  });
});
