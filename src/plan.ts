// One ordered plan. After the move: the root findings' fixes as one deduplicated sequence of steps in the
// order that works (stop → copy → ownership → modes → config → runtime → service → doctor → restart →
// status → hygiene); a fix's alternatives stay alternatives. Before the move (audit): the move itself, from
// the scanned Machine. Pure: no IO.
import path from 'node:path';
import { isInside, isStrictlyInside } from './knowledge/paths.js';
import { liveRoots } from './diagnose.js';
import { mapPath, matchInstalls, matchWorkspaces } from './knowledge/baseline-match.js';
import { STEP_ORDER, type EncryptionTool, type Finding, type Machine, type MoveItem, type Phase, type PlanStep, type StepKind } from './model.js';

/** How commands are said in the user's words: `~` for the home (only when it is theirs), names not uids. */
export interface Words {
  /** the home to write as `~`: set only when the person running the tool is its owner */
  home?: string;
  users: Record<number, string>;
  groups: Record<number, string>;
  /** profiles ('default' for ~/.resonix) whose state dir holds data: the service is installed for these */
  dataProfiles?: string[];
}

/** The profile a `resonix …` command is for: 'default', a name, or undefined (RESONIX_STATE_DIR=…, not the resonix CLI). */
function profileOfCommand(command: string): string | undefined {
  if (!/^resonix\b/.test(command)) return undefined;
  if (/^resonix --dev\b/.test(command)) return 'dev';
  const named = /^resonix --profile (\S+)/.exec(command);
  return named ? named[1]!.replace(/^'|'$/g, '') : 'default';
}

/**
 * The service step installs the service for the profiles that hold the data: an install for an empty profile
 * is dropped when another is there for one that holds data (else they contradict), and a plain install
 * goes when the same profile's `--force` install is there.
 */
function serviceCommands(commands: string[], dataProfiles: string[] | undefined): string[] {
  const installs = commands.filter((command) => stepOf(command, undefined) === 'service');
  return forDataProfiles(commands, 'service', dataProfiles).filter((command) => {
    if (!installs.includes(command)) return true;
    const profile = profileOfCommand(command);
    return /--force\b/.test(command) || !installs.some((other) => other !== command && /--force\b/.test(other) && profileOfCommand(other) === profile);
  });
}

/**
 * A step's `resonix` commands for the profiles that hold the data: one for an empty profile (never onboarded)
 * goes when another is there for a profile that holds data. The doctor checks what the service step installed.
 */
function forDataProfiles(commands: string[], kind: StepKind, dataProfiles: string[] | undefined): string[] {
  if (!dataProfiles) return commands;
  const ofKind = commands.filter((command) => stepOf(command, undefined) === kind && profileOfCommand(command) !== undefined);
  if (!ofKind.some((command) => dataProfiles.includes(profileOfCommand(command)!))) return commands;
  return commands.filter((command) => !ofKind.includes(command) || dataProfiles.includes(profileOfCommand(command)!));
}

const FIXED_WHY: Partial<Record<StepKind, string>> = {
  doctor: 'Let Resonix check the state it will use.',
  restart: 'Start the gateway on the repaired state.',
  status: 'See it running, its channels connected.',
};

const STEP_TITLE: Record<StepKind, string> = {
  stop: 'Stop the gateway',
  copy: 'Copy or restore what is missing',
  ownership: 'Give the files to the gateway user',
  modes: 'Set the modes',
  config: 'Rewrite the config and its paths',
  runtime: 'Install the runtime',
  service: 'Install the service for the profile that holds the data',
  doctor: 'Check with resonix doctor',
  restart: 'Restart the gateway',
  status: 'Check that it runs',
  hygiene: 'Clean up (hygiene)',
};

const PROFILE = String.raw`(?:RESONIX_STATE_DIR=\S+ )?resonix(?: --profile \S+| --dev)?`;
const VERBS: [RegExp, StepKind][] = [
  [new RegExp(`^${PROFILE} gateway stop\\b`), 'stop'],
  [new RegExp(`^${PROFILE} doctor --fix\\b`), 'config'],
  [new RegExp(`^${PROFILE} doctor\\s*$`), 'doctor'],
  [new RegExp(`^${PROFILE} gateway install\\b`), 'service'],
  [new RegExp(`^${PROFILE} gateway restart\\b`), 'restart'],
  // the service manager's own restart of a rewritten unit
  [/^(?:sudo )?systemctl (?:--user )?daemon-reload && (?:sudo )?systemctl (?:--user )?restart /, 'restart'],
  [/^launchctl kickstart -k /, 'restart'],
  [new RegExp(`^${PROFILE} (?:gateway )?status\\s*$`), 'status'],
];

/**
 * The step of one command: the Resonix CLI's own lifecycle verbs (a closed vocabulary) go where they belong
 * wherever a rule wrote them; any other command goes to the step its fix (or rule) declares.
 */
export function stepOf(command: string, declared: StepKind | undefined): StepKind {
  for (const [pattern, kind] of VERBS) if (pattern.test(command)) return kind;
  return declared ?? 'config';
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `/home/alice/x` → `~/x` where the home is the user's own (unquoted words only), `chown 1000:1000` → `chown alice:alice`. */
export function inUserWords(command: string, words: Words): string {
  let text = command;
  if (words.home && words.home !== '/') {
    text = text.replace(new RegExp(`(^|[\\s=:])${escapeRegExp(words.home)}(?=/|\\s|$)`, 'g'), '$1~');
  }
  return text.replace(/\b(chown(?: -[A-Za-z]+)? )(\d+):(\d+)(?= )/g, (whole, head: string, uid: string, gid: string) => {
    const user = words.users[Number(uid)];
    const group = words.groups[Number(gid)];
    return user && group ? `${head}${user}:${group}` : whole;
  });
}

interface Draft {
  kind: StepKind;
  /** sets, not arrays: one step may gather thousands of findings, and each is added once in constant time */
  why: Set<string>;
  commands: string[];
  findings: Set<string>;
  alternatives?: string[][];
}

/** The plan from root findings' fixes (unsuppressed), each command once, in step order. */
export function planFromFindings(findings: readonly Finding[], words: Words, options: { phase: Phase; fixStepOf?: (ruleId: string) => StepKind | undefined } = { phase: 'verify' }): PlanStep[] {
  const merged = new Map<StepKind, Draft>();
  const separate: Draft[] = [];
  const seen = new Set<string>();
  const roots = liveRoots(findings).filter((finding) => finding.fix);
  let migration = false;
  for (const finding of roots) {
    const fix = finding.fix!;
    const declared = fix.step ?? options.fixStepOf?.(finding.ruleId);
    const fingerprint = finding.fingerprint ?? finding.ruleId;
    const byKind = new Map<StepKind, string[]>();
    for (const raw of fix.commands) {
      const command = inUserWords(raw, words);
      const kind = stepOf(raw, declared);
      byKind.set(kind, [...(byKind.get(kind) ?? []), command]);
    }
    for (const [kind, commands] of byKind) {
      // a repair (not an info's suggestion, not hygiene) is followed by doctor → restart → status
      if (kind !== 'hygiene' && finding.severity !== 'info') migration = true;
      if (fix.alternatives && commands.length > 1) {
        const fresh = commands.filter((command) => !seen.has(command));
        if (fresh.length === 0) continue;
        for (const command of fresh) seen.add(command);
        separate.push({ kind, why: new Set([fix.summary]), commands: [fresh[0]!], findings: new Set([fingerprint]), ...(fresh.length > 1 ? { alternatives: fresh.slice(1).map((command) => [command]) } : {}) });
        continue;
      }
      const draft = merged.get(kind) ?? { kind, why: new Set<string>(), commands: [], findings: new Set<string>() };
      for (const command of commands) {
        if (seen.has(command)) continue;
        seen.add(command);
        draft.commands.push(command);
      }
      draft.why.add(fix.summary);
      draft.findings.add(fingerprint);
      merged.set(kind, draft);
    }
  }
  // after the move, a repaired install is checked, restarted and seen running, in that order
  if (migration && options.phase === 'verify') {
    for (const [kind, command] of [
      ['doctor', 'resonix doctor'],
      ['restart', 'resonix gateway restart'],
      ['status', 'resonix status'],
    ] as [StepKind, string][]) {
      const why = FIXED_WHY[kind]!;
      const draft = merged.get(kind) ?? { kind, why: new Set<string>(), commands: [], findings: new Set<string>() };
      if (draft.commands.length === 0 && !seen.has(command)) {
        seen.add(command);
        draft.commands.push(command);
        draft.why.add(why);
      }
      merged.set(kind, draft);
    }
  }
  const service = merged.get('service');
  if (service) service.commands = serviceCommands(service.commands, words.dataProfiles);
  const doctor = merged.get('doctor');
  if (doctor) doctor.commands = forDataProfiles(doctor.commands, 'doctor', words.dataProfiles);
  for (const [kind, why] of Object.entries(FIXED_WHY) as [StepKind, string][]) {
    const draft = merged.get(kind);
    if (draft) draft.why = new Set([why]);
  }
  const drafts = [...merged.values(), ...separate].filter((draft) => draft.commands.length > 0);
  drafts.sort((a, b) => STEP_ORDER.indexOf(a.kind) - STEP_ORDER.indexOf(b.kind));
  return drafts.map((draft) => ({
    step: STEP_TITLE[draft.kind],
    why: [...draft.why].join(' '),
    commands: draft.commands,
    findings: [...draft.findings],
    ...(draft.alternatives ? { alternatives: draft.alternatives } : {}),
  }));
}

// ---------------------------------------------------------------------------------------------
// Before the move (audit): what must travel, and the move itself

function bytesOf(entries: readonly { type: string; size: number }[]): number {
  let total = 0;
  for (const entry of entries) if (entry.type === 'file') total += entry.size;
  return total;
}

/** Every state dir that holds data (one per profile), each workspace outside its state dir, the units and env files. */
export function whatMustTravel(machine: Machine): MoveItem[] {
  const items: MoveItem[] = [];
  const seen = new Set<string>();
  const add = (item: MoveItem): void => {
    if (seen.has(item.path)) return;
    seen.add(item.path);
    items.push(item);
  };
  for (const home of machine.homes) {
    for (const install of home.installs) {
      if (!install.inventory.exists || !install.hasData) continue;
      const profile = install.profile ?? 'default';
      add({ kind: 'state-dir', path: install.stateDir, profile, bytes: bytesOf(install.inventory.entries), entries: install.inventory.entries.length });
      for (const workspace of install.workspaces) {
        if (!workspace.inventory.exists || isInside(workspace.path, install.stateDir)) continue;
        add({ kind: 'workspace', path: workspace.path, profile, bytes: bytesOf(workspace.inventory.entries), entries: workspace.inventory.entries.length });
      }
    }
    for (const unit of home.services) {
      const install = home.installs.find((candidate) => candidate.stateDir === unit.resolution.stateDir);
      add({ kind: 'unit', path: unit.path, profile: install?.profile ?? unit.resolution.profile ?? 'default' });
      for (const file of unit.environmentFiles) if (file.exists) add({ kind: 'env-file', path: file.path, profile: install?.profile ?? unit.resolution.profile ?? 'default' });
    }
    if (home.gatewayEnvKeys !== undefined) add({ kind: 'env-file', path: path.posix.join(home.path, '.config/resonix/gateway.env'), profile: 'default' });
  }
  return items;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,~-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function profileFlag(profile: string): string {
  return profile === 'default' ? '' : profile === 'dev' ? ' --dev' : ` --profile ${shellWord(profile)}`;
}

function encryptCommand(tool: EncryptionTool | undefined, plain: string): { command: string; output: string; decrypt: string } {
  switch (tool) {
    case 'gpg':
      return { command: `gpg --symmetric --cipher-algo AES256 -o ${plain}.gpg ${plain}`, output: `${plain}.gpg`, decrypt: `gpg -d ${plain}.gpg` };
    case 'openssl':
      return { command: `openssl enc -aes-256-cbc -pbkdf2 -salt -in ${plain} -out ${plain}.enc`, output: `${plain}.enc`, decrypt: `openssl enc -d -aes-256-cbc -pbkdf2 -in ${plain}.enc` };
    default:
      return { command: `age -p -o ${plain}.age ${plain}`, output: `${plain}.age`, decrypt: `age -d ${plain}.age` };
  }
}

/** The move, step by step, for what must travel. `stopCommands` are the root findings' own stop commands. */
export function movePlan(machine: Machine, items: readonly MoveItem[], words: Words, findingsByStep: { stop: string[]; stopFindings: string[]; copyFindings: string[] } = { stop: [], stopFindings: [], copyFindings: [] }): PlanStep[] {
  const home = machine.homes[0]?.path;
  const profiles = [...new Set(items.filter((item) => item.kind === 'state-dir').map((item) => item.profile ?? 'default'))];
  if (profiles.length === 0) return [];
  const say = (command: string): string => inUserWords(command, words);
  const tools = machine.runtime?.encryptionTools ?? [];
  const tool = tools[0];
  const steps: PlanStep[] = [];
  const stop = [...findingsByStep.stop];
  for (const profile of profiles) {
    const command = `resonix${profileFlag(profile)} gateway stop`;
    if (!stop.includes(command)) stop.push(command);
  }
  steps.push({ step: 'Stop the gateway', why: 'A live gateway writes while you copy: its databases and transcripts would arrive torn.', commands: stop, findings: findingsByStep.stopFindings });
  steps.push({
    step: 'Write a snapshot to check against',
    why: 'A manifest of what is here (no secret values): the archive and the new machine are checked against it.',
    commands: ['resonix-migrate snapshot --out resonix-manifest.json'],
    findings: [],
  });
  const archives: { profile: string; plain: string }[] = [];
  const archiveCommands: string[] = [];
  for (const profile of profiles) {
    const plain = `resonix-${profile}.tgz`;
    const members = items.filter((item) => (item.profile ?? 'default') === profile);
    const relative: string[] = [];
    const absolute: string[] = [];
    for (const item of members) {
      if (home && isStrictlyInside(item.path, home)) relative.push(path.posix.relative(home, item.path));
      else absolute.push(item.path.replace(/^\/+/, ''));
    }
    const parts = [`tar -C ${shellWord(home ?? '/')} -czf ${plain}`, ...relative.map(shellWord)];
    if (absolute.length > 0) parts.push('-C /', ...absolute.map(shellWord));
    archiveCommands.push(say(`umask 077 && ${parts.join(' ')}`));
    archives.push({ profile, plain });
  }
  const sizes = profiles.map((profile) => {
    const bytes = items.filter((item) => (item.profile ?? 'default') === profile).reduce((sum, item) => sum + (item.bytes ?? 0), 0);
    return `${profile} ${formatBytes(bytes)}`;
  });
  steps.push({
    step: 'Archive each profile, dot-dirs included',
    why: `One archive per profile (${sizes.join(', ')}), naming the dot-dirs so nothing is skipped (a shell * would skip them), private to you.`,
    commands: archiveCommands,
    findings: findingsByStep.copyFindings,
  });
  steps.push({
    step: 'Check each archive against the snapshot',
    why: 'Before it leaves this machine: is everything in it, and nothing torn?',
    commands: archives.map(({ plain }) => `resonix-migrate inspect ${plain} --against resonix-manifest.json`),
    findings: [],
  });
  const encrypted = archives.map(({ profile, plain }) => ({ profile, plain, ...encryptCommand(tool, plain) }));
  steps.push({
    step: 'Encrypt each archive',
    why:
      tool !== undefined
        ? `It holds API keys and channel logins; ${tool} is installed here${tools.length > 1 ? ` (also: ${tools.slice(1).join(', ')})` : ''}. Then remove the plain archive.`
        : 'It holds API keys and channel logins. No age, gpg or openssl was found on PATH: install age first.',
    commands: encrypted.flatMap(({ command, plain }) => [command, `shred -u ${plain}`]),
    findings: [],
  });
  steps.push({
    step: 'Transfer to the new machine',
    why: 'The encrypted archives and the snapshot (it holds no secret values).',
    commands: [`scp ${encrypted.map(({ output }) => output).join(' ')} resonix-manifest.json <new-host>:`],
    findings: [],
  });
  steps.push({
    step: 'On the new machine: extract as the gateway user',
    why: 'As the user who will run the gateway (not with sudo), so the files are theirs; the archives keep modes.',
    commands: encrypted.map(({ decrypt }) => `${decrypt} | tar -C ~ -xzf -`),
    findings: [],
  });
  steps.push({
    step: 'On the new machine: install the service for each profile',
    why: 'The old unit names the old node and paths; the new one is written for this machine and the profile that holds the data.',
    commands: profiles.map((profile) => `resonix${profileFlag(profile)} gateway install`),
    findings: [],
  });
  steps.push({
    step: 'On the new machine: verify against the snapshot',
    why: 'Did everything arrive, and will the gateway find it, read it and start?',
    commands: ['resonix-migrate verify --against resonix-manifest.json'],
    findings: [],
  });
  return steps;
}

/**
 * verify --against: which of what the old machine had to carry arrived here, and for what did not, the step
 * of the move that was skipped (a profile left behind, a workspace outside the state dir never archived, a
 * service never installed). Env files cannot be told from a scan: left undefined.
 */
export function arrivals(baseline: Machine, current: Machine): MoveItem[] {
  const items = whatMustTravel(baseline);
  const matches = matchInstalls(baseline, current);
  return items.map((item): MoveItem => {
    if (item.kind === 'state-dir') {
      const match = matches.find((candidate) => candidate.baseline.stateDir === item.path);
      const arrived = match?.current?.inventory.exists === true && match.current.hasData;
      return { ...item, arrived, ...(arrived ? {} : { skippedStep: `Archive each profile, dot-dirs included (profile ${item.profile ?? 'default'} was left behind)` }) };
    }
    if (item.kind === 'workspace') {
      const match = matches.find((candidate) => candidate.baseline.workspaces.some((workspace) => workspace.path === item.path));
      const pair = match ? matchWorkspaces(match.baseline, match.current, match.homeMap).find((candidate) => candidate.baseline.path === item.path) : undefined;
      const arrived = pair?.current?.inventory.exists === true;
      return { ...item, arrived, ...(arrived ? {} : { skippedStep: 'Archive each profile, dot-dirs included (this workspace lives outside the state dir: it must be named in the archive)' }) };
    }
    if (item.kind === 'unit') {
      // the unit is rewritten for the new machine (gateway install): it arrived when a service here serves the profile
      const match = matches.find((candidate) => (candidate.baseline.profile ?? 'default') === (item.profile ?? 'default'));
      const mapped = match ? mapPath(item.path, match.homeMap) : item.path;
      const arrived = current.homes.some((home) => home.services.some((unit) => unit.path === mapped || (match?.current !== undefined && unit.resolution.stateDir === match.current.stateDir)));
      return { ...item, arrived, ...(arrived ? {} : { skippedStep: 'On the new machine: install the service for each profile' }) };
    }
    return { ...item };
  });
}
