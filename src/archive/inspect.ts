// `inspect ARCHIVE`: a backup archive read as a Machine, in one streaming pass, with nothing extracted or
// written. Each Resonix state dir inside becomes an Install with the same inventory shape as a live scan,
// so the same rules run on it (phase 'inspect'), and the same Machine serves as the baseline of
// `verify --against backup.tgz`.
//
// What is read of member contents (tar and tar.gz only; zip data is never inflated): resonix.json (≤ 8 MiB)
// and .env (≤ 1 MiB) of each state dir, the first 100 bytes of SQLite files, the last byte of session
// transcripts, etc/passwd and etc/group. Secret values go to `secrets` (for the masker), never the Machine.
import fs from 'node:fs';
import type { ProgressCounter } from '../progress.js';
import os from 'node:os';
import path from 'node:path';
import { isStrictlyInside } from '../knowledge/paths.js';
import { printableShort } from '../knowledge/text.js';
import { TRANSCRIPT } from '../knowledge/layout.js';
import type {
  BackupArchive,
  ConfigSummary,
  GatewayUser,
  GroupEntry,
  Home,
  Install,
  Machine,
  PasswdEntry,
  ScanProblem,
  SqliteHeader,
  StrayWorkspace,
  Workspace,
} from '../model.js';
import { BUDGET_CODE } from '../model.js';
import { backupArchiveOf } from './backup-archive.js';
import { archiveHoldsResonixState, classifyArchiveHead } from './classify.js';
import { formatBytes } from './budget.js';
import { type ArchiveInspection, inspectArchiveFile, kindOf } from './list.js';
import { emptyConfigSummary, planWorkspaces } from '../scan/config-summary.js';
import { parseDotenv } from '../scan/dotenv.js';
import { assembleInstall, parseConfigText, subInventory } from '../scan/install.js';
import { assembleHome, assembleMachine, gatewayUserOf, usersOf } from '../scan/machine.js';
import { profileOfStateDir, resolveResonix } from '../scan/resolve.js';
import { isSqliteDatabasePath, parseSqliteHeader } from '../scan/sqlite-header.js';
import { type Captured, MemberCapture, type TextCapture } from './capture.js';
import { MemberIndex, workspaceDirsUnder } from './inventory.js';
import { type TraversalMember, sortMembers } from './members.js';
import { type Frame, type StateRoot, findStateRoots, originalStateDirs, relocate, stateDirPath, toArchive } from './state-dirs.js';

export interface InspectArchiveOptions {
  /** list at most this many members (default 200000) */
  maxMembers?: number;
  /** read at most this many decompressed tar bytes (default 64 GiB): bounds gzip bombs */
  maxBytes?: number;
  /** keep the member list in `archive.members` (off by default: the inventories hold the same facts) */
  keepMembers?: boolean;
  /** ticked with the bytes read from the archive (the CLI's progress line) */
  progress?: Pick<ProgressCounter, 'archiveRead'>;
}

export interface InspectedArchive {
  /** mode 'image', root = the archive path; no host facts */
  machine: Machine;
  /** secret values seen in configs and .env files: for the masker only, never serialise them */
  secrets: Set<string>;
  /** also machine.archives[0] */
  archive: BackupArchive;
  /** also machine.problems */
  problems: ScanProblem[];
  /** false when the file itself could not be opened (missing, no permission, not a regular file): problems[0] says why */
  opened: boolean;
}

const MAX_TRAVERSAL_LINES = 20;
const ZIP_BOMB_RATIO = 1000;
const ZIP_BOMB_MIN_TOTAL = 1024 ** 3;
const ZIP_BOMB_MEMBER = 1024 ** 4;
const ROOT_FRAME: Frame = { prefix: '', machineRoot: '/' };

const FORMAT_NAMES: Record<string, string> = {
  age: 'age',
  openpgp: 'OpenPGP',
  'openssl-enc': 'openssl enc',
  '7z': '7z AES',
  zip: 'zip',
};

/** Reads a backup archive as a Machine. Never throws, never writes; problems say what could not be read. */
export async function inspectArchive(hostPath: string, opts: InspectArchiveOptions = {}): Promise<InspectedArchive> {
  const archivePath = path.resolve(hostPath);
  const problems: ScanProblem[] = [];
  const secrets = new Set<string>();
  // one line each, naming the archive: the pretty reporter shows the message alone
  const report = (code: string, message: string): void => {
    problems.push({ path: archivePath, code, message: `${archivePath}: ${message}` });
  };
  const file = await openTarget(archivePath);
  if (!file.ok) {
    report(file.code, file.message);
    const archive: BackupArchive = { ...emptyArchive(archivePath), listError: file.message };
    return { ...result(machineOf(archivePath, [], [], [], archive, problems), secrets, archive, problems), opened: false };
  }

  const capture = new MemberCapture();
  const listing = await inspectArchiveFile(file.realPath, {
    ...(opts.maxMembers !== undefined ? { maxMembers: opts.maxMembers } : {}),
    ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
    onTarMember: capture.onTarMember,
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const archive = archiveEntry(archivePath, file.stat, listing, opts.keepMembers === true);
  reportListing(listing, file.stat.size, opts, report);
  if (!listing.members) {
    report('EARCHIVE_UNREADABLE', unreadableReason(listing));
    return result(machineOf(archivePath, [], [], [], archive, problems), secrets, archive, problems);
  }

  const sorted = sortMembers(listing.members);
  reportTraversal(sorted.traversal, report);
  const readsContents = listing.format === 'tar' || listing.format === 'tar.gz';
  if (!readsContents && archive.holdsResonixState) {
    report('EARCHIVE_CONTENT', `zip entries are never inflated, so resonix.json, .env, SQLite headers and transcripts inside it were not checked`);
  }
  try {
    const index = new MemberIndex(sorted.members, listing.limitHit !== undefined);
    const context: BuildContext = { index, captured: capture.captured, readsContents, stoppedAtLimit: listing.limitHit !== undefined, secrets, report };
    const installs = collectInstalls(context);
    const users = readUsers(capture.captured);
    const homes = collectHomes(context, installs, users);
    return result(machineOf(archivePath, users.users, users.groups, homes, archive, problems), secrets, archive, problems);
  } catch (error) {
    // a hostile member list or config we did not foresee: say so, keep what is known of the file itself
    const reason = error instanceof Error ? error.message : String(error);
    report('EARCHIVE', `its contents could not be inspected (${printableShort(reason.split('\n')[0] ?? '')})`);
    return result(machineOf(archivePath, [], [], [], archive, problems), secrets, archive, problems);
  }
}

/** The archive as the baseline of `verify --against backup.tgz`: the same Machine inspect builds. */
export async function archiveBaseline(hostPath: string, opts: InspectArchiveOptions = {}): Promise<Machine> {
  return (await inspectArchive(hostPath, opts)).machine;
}

/**
 * Whether the file's bytes are an archive or an encrypted file (tar, gzip, zip, age, OpenPGP, …) rather than,
 * say, a JSON manifest: for `--against FILE`. False for anything that cannot be read.
 */
export async function looksLikeArchive(hostPath: string): Promise<boolean> {
  try {
    const stat = await fs.promises.stat(hostPath);
    if (!stat.isFile()) return false;
    const handle = await fs.promises.open(hostPath, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    try {
      const head = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return classifyArchiveHead(head.subarray(0, bytesRead)).format !== 'unknown';
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// the archive file itself

type OpenedTarget = { ok: true; realPath: string; stat: fs.Stats } | { ok: false; code: string; message: string };

/** The file the user named; a symlink to an archive is followed (the name was given on purpose). */
async function openTarget(archivePath: string): Promise<OpenedTarget> {
  try {
    const realPath = await fs.promises.realpath(archivePath);
    const stat = await fs.promises.stat(realPath);
    if (!stat.isFile()) return { ok: false, code: 'EARCHIVE', message: `not a regular file (${kindOf(stat)})` };
    return { ok: true, realPath, stat };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EARCHIVE';
    return { ok: false, code, message: `cannot read: ${code}` };
  }
}

function emptyArchive(archivePath: string): BackupArchive {
  return { path: archivePath, format: 'unknown', encrypted: false, mode: 0, uid: 0, gid: 0, size: 0, holdsResonixState: false, secretMembers: [] };
}

function archiveEntry(archivePath: string, stat: fs.Stats, listing: ArchiveInspection, keepMembers: boolean): BackupArchive {
  const held = listing.members ? archiveHoldsResonixState(listing.members) : undefined;
  return backupArchiveOf(archivePath, stat, listing, {
    // an archive that cannot be looked into was named as a backup by the user: judge where it is kept
    holdsResonixState: held ? held.holdsResonixState : true,
    secretMembers: held?.secretMembers ?? [],
    keepMembers,
    tmpDir: os.tmpdir(),
  });
}

function unreadableReason(listing: ArchiveInspection): string {
  const { format, listError } = listing;
  if (listing.encrypted) return `encrypted (${FORMAT_NAMES[format] ?? format}): its contents cannot be read; only where and how it is stored was checked`;
  switch (format) {
    case 'bzip2':
    case 'xz':
    case 'zstd': {
      const tool = format === 'bzip2' ? 'bunzip2 -k' : format === 'xz' ? 'unxz -k' : 'unzstd';
      return `${format}-compressed, which inspect does not list: decompress it (${tool}) and inspect the .tar`;
    }
    case 'gzip':
      return listError ? `a damaged gzip stream (${listError}): nothing inside it was checked` : 'gzip-compressed data but not a tar archive: nothing inside it was checked';
    case '7z':
      return `a 7z archive, which inspect does not list${listError && listError !== 'cannot list 7z' ? ` (${listError})` : ''}: nothing inside it was checked`;
    default:
      return listError
        ? `cannot be read (${listError}): nothing inside it was checked`
        : 'not an archive format inspect knows (tar, tar.gz, zip; age, OpenPGP or openssl enc encrypted files): nothing inside it was checked';
  }
}

type Report = (code: string, message: string) => void;

function reportListing(listing: ArchiveInspection, archiveSize: number, opts: InspectArchiveOptions, report: Report): void {
  const members = listing.members;
  if (!members) return;
  if (listing.listError) report('EARCHIVE', `${listing.listError}: only the ${members.length} members listed before that are in the inventory`);
  if (listing.limitHit === 'maxBytes') {
    const limit = opts.maxBytes ?? 64 * 1024 ** 3;
    report(
      'EARCHIVE_LIMIT',
      `stopped after ${formatBytes(limit)} of decompressed data (the limit) from a ${formatBytes(archiveSize)} file: a gzip bomb or a very large backup; only the first ${members.length} members are in the inventory`,
    );
  } else if (listing.limitHit === 'maxMembers') {
    report('EARCHIVE_LIMIT', `stopped listing at ${members.length} members (the limit): the rest of the archive is not in the inventory`);
  }
  if (listing.format === 'zip') {
    const total = members.reduce((sum, member) => sum + member.size, 0);
    const huge = members.find((member) => member.size >= ZIP_BOMB_MEMBER);
    if (huge || (total >= ZIP_BOMB_MIN_TOTAL && total / Math.max(archiveSize, 1) >= ZIP_BOMB_RATIO)) {
      report(
        'EARCHIVE_BOMB',
        `zip declares ${formatBytes(total)} of contents in a ${formatBytes(archiveSize)} file${huge ? ` (${printableShort(huge.path)} alone ${formatBytes(huge.size)})` : ''}: a zip bomb? Nothing was inflated; do not extract it`,
      );
    }
  }
}

function reportTraversal(traversal: TraversalMember[], report: Report): void {
  for (const item of traversal.slice(0, MAX_TRAVERSAL_LINES)) {
    const why =
      item.kind === 'absolute'
        ? 'an absolute path'
        : item.kind === 'dot-dot'
          ? "'..' in its path"
          : `a path through the symlink member "${printableShort(item.via ?? '')}"`;
    report('EARCHIVE_TRAVERSAL', `unsafe member "${printableShort(item.name)}" (${why}): extracting it could write outside the target dir; left out of the inventory`);
  }
  if (traversal.length > MAX_TRAVERSAL_LINES) {
    report('EARCHIVE_TRAVERSAL', `… and ${traversal.length - MAX_TRAVERSAL_LINES} more unsafe members, left out of the inventory`);
  }
}

// ---------------------------------------------------------------------------------------------
// installs

interface BuildContext {
  index: MemberIndex;
  captured: Captured;
  /** tar: member contents were seen; zip: names and metadata only */
  readsContents: boolean;
  /** the listing stopped at one of inspect's limits: a member cut there is not damaged, just unread */
  stoppedAtLimit: boolean;
  secrets: Set<string>;
  report: Report;
}

interface ArchiveInstall {
  install: Install;
  root: StateRoot;
}

function joinKey(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

function collectInstalls(context: BuildContext): ArchiveInstall[] {
  const { index } = context;
  const keys = index.members.map((item) => item.key);
  const roots = findStateRoots(keys, (key) => index.byKey.get(key)?.member.type === 'dir');
  const taken = new Set<string>();
  const installs: ArchiveInstall[] = [];
  for (const found of roots) {
    const config = readConfig(context, found.dir);
    let root = relocate(found, originalStateDirs(config)[0]);
    if (taken.has(stateDirPath(root))) root = found;
    const stateDir = stateDirPath(root);
    if (taken.has(stateDir)) continue;
    taken.add(stateDir);
    installs.push({ install: buildInstall(context, root, stateDir, config), root });
  }
  return installs.sort((a, b) => a.install.stateDir.localeCompare(b.install.stateDir));
}

function buildInstall(context: BuildContext, root: StateRoot, stateDir: string, config: ConfigSummary): Install {
  const inventory = context.index.inventory(root.dir, stateDir);
  const profile = profileOfStateDir(stateDir);
  const home = path.posix.dirname(stateDir);
  const summary: ConfigSummary = { ...config, path: path.posix.join(stateDir, 'resonix.json') };
  // a profile never onboarded (reference §12) is in a backup as it was on the machine: assembleInstall says so
  return assembleInstall({
    stateDir,
    ...(profile ? { profile } : {}),
    // which one is active is known once the homes are (collectHomes)
    active: false,
    foundBy: 'home-glob',
    inventory,
    config: summary,
    workspaces: workspacesOf(context, root.frame, { home, stateDir, inventory, config: summary, ...(profile ? { profile } : {}) }),
    sqlite: sqliteHeaders(context, root.dir, inventory.entries),
    dotenvKeys: dotenvKeys(context, root.dir),
    ...(context.readsContents ? { partialTranscripts: partialTranscripts(context, root.dir, inventory.entries) } : {}),
  });
}

/** The member's captured text, following a hard link to the member that holds the data. */
function capturedText(context: BuildContext, key: string): TextCapture | undefined {
  const item = context.index.byKey.get(key);
  if (!item) return undefined;
  const target = item.member.linkTarget !== undefined && item.member.type === 'file' ? context.index.hardLinkTarget(item.member.linkTarget) : item;
  return target ? context.captured.texts.get(target.key) : undefined;
}

/** readConfig of src/scan/install.ts, on the member's captured bytes: the same parse, without `$include`s. */
function readConfig(context: BuildContext, stateKey: string): ConfigSummary {
  const key = joinKey(stateKey, 'resonix.json');
  const placeholder = `/${key}`;
  const member = context.index.byKey.get(key)?.member;
  if (!member) return emptyConfigSummary(placeholder, false);
  if (member.type !== 'file') return { ...emptyConfigSummary(placeholder, true), parseError: { message: `cannot read: not a regular file (${member.type})` } };
  // zip: the member is there, its contents are not read
  if (!context.readsContents) return { ...emptyConfigSummary(placeholder, true), size: member.size };
  const read = capturedText(context, key);
  if (!read) return { ...emptyConfigSummary(placeholder, true), size: member.size, parseError: { message: 'cannot read: its data is not in the archive' } };
  if (!read.ok) {
    if (read.skipped || context.stoppedAtLimit) {
      if (read.skipped) context.report('EARCHIVE_LIMIT', `${printableShort(key)}: ${read.reason}`);
      return { ...emptyConfigSummary(placeholder, true), size: read.size };
    }
    return { ...emptyConfigSummary(placeholder, true), size: read.size, parseError: { message: `cannot read: ${read.reason}` } };
  }
  if (read.text.includes(0)) return { ...emptyConfigSummary(placeholder, true), size: read.size, parseError: { message: 'cannot read: binary content (NUL bytes)' } };
  // the member's size, not the decoded text's: bytes that are not UTF-8 decode to longer replacement characters
  const summary = parseConfigText(read.text.toString('utf8'), placeholder, context.secrets);
  // the scan's agent limit holds here too (parseConfigText's default), and the cut is said, as a live scan says it
  if (summary.agentsOmitted) context.report(BUDGET_CODE, `${printableShort(key)} names ${summary.agents.length + summary.agentsOmitted} agents: only the first ${summary.agents.length} were looked at (the scan's agent limit); the other ${summary.agentsOmitted} were not checked`);
  return { ...summary, size: read.size };
}

function dotenvKeys(context: BuildContext, stateKey: string): string[] {
  const read = capturedText(context, joinKey(stateKey, '.env'));
  if (!read?.ok || read.text.includes(0)) return [];
  const values = parseDotenv(read.text.toString('utf8'));
  for (const value of Object.values(values)) if (value.length >= 6) context.secrets.add(value);
  return Object.keys(values).sort();
}

function sqliteHeaders(context: BuildContext, stateKey: string, entries: Install['inventory']['entries']): SqliteHeader[] {
  const headers: SqliteHeader[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file' || entry.size === 0 || !isSqliteDatabasePath(entry.path)) continue;
    // zip data, or a head past the archive's end: unknown, not invalid
    const head = context.captured.sqliteHeads.get(joinKey(stateKey, entry.path));
    if (head) headers.push(parseSqliteHeader(entry.path, head, entry.size));
  }
  return headers;
}

function partialTranscripts(context: BuildContext, stateKey: string, entries: Install['inventory']['entries']): string[] {
  const partial: string[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file' || entry.size === 0 || !TRANSCRIPT.test(entry.path)) continue;
    const last = context.captured.lastBytes.get(joinKey(stateKey, entry.path));
    if (last !== undefined && last !== 0x0a) partial.push(entry.path);
  }
  return partial.sort();
}

/** The configured workspaces the archive covers: inside the state dir, or elsewhere under the archive's frame. */
function workspacesOf(
  context: BuildContext,
  frame: Frame,
  facts: { home: string; stateDir: string; inventory: Install['inventory']; config: ConfigSummary; profile?: string },
): Workspace[] {
  const plans = planWorkspaces(facts.config, { home: facts.home, stateDir: facts.stateDir, ...(facts.profile ? { profile: facts.profile } : {}) });
  const workspaces: Workspace[] = [];
  for (const plan of plans) {
    let inventory: Install['inventory'] | undefined;
    if (isStrictlyInside(plan.path, facts.stateDir)) {
      inventory = subInventory(facts.inventory, path.posix.relative(facts.stateDir, plan.path), plan.path);
    } else {
      const key = toArchive(frame, plan.path);
      // a path the archive does not cover (an archive of the state dir's contents only): nothing to say
      if (key !== undefined) inventory = context.index.inventory(key, plan.path);
    }
    if (inventory) workspaces.push({ agentId: plan.agentId, path: plan.path, source: plan.source, inventory });
  }
  return workspaces;
}

// ---------------------------------------------------------------------------------------------
// homes, users

function readUsers(captured: Captured): { users: PasswdEntry[]; groups: GroupEntry[] } {
  const passwd = captured.texts.get('etc/passwd');
  const group = captured.texts.get('etc/group');
  return usersOf(passwd?.ok ? passwd.text.toString('utf8') : undefined, group?.ok ? group.text.toString('utf8') : undefined);
}

/** The gateway user of an archive is the home's owner (else the state dir's): no unit, no --user to say otherwise. */
function homeOwnerAsGatewayUser(users: { users: PasswdEntry[]; groups: GroupEntry[] }, owner: { uid: number; gid: number } | undefined): GatewayUser {
  const uid = owner?.uid ?? 0;
  const gid = owner?.gid ?? 0;
  return gatewayUserOf(users.users.find((user) => user.uid === uid), uid, gid, users.groups, 'home-owner');
}

/** Where a home with stray workspaces but no state dir would be: /home/<u>, /Users/<u>, /root, else the archive root. */
function homeOfStray(workspacePath: string): string {
  const match = /^\/(home|Users)\/[^/]+/.exec(workspacePath) ?? /^\/root(?=\/)/.exec(workspacePath);
  return match ? match[0] : '/';
}

function collectHomes(context: BuildContext, installs: ArchiveInstall[], users: { users: PasswdEntry[]; groups: GroupEntry[] }): Home[] {
  const { index } = context;
  const groups = new Map<string, { frame: Frame; installs: ArchiveInstall[]; workspaceDirs?: StrayWorkspace[] }>();
  for (const item of installs) {
    const home = path.posix.dirname(item.install.stateDir);
    const group = groups.get(home) ?? { frame: item.root.frame, installs: [] };
    group.installs.push(item);
    groups.set(home, group);
  }
  if (installs.length === 0) {
    // `tar czf x.tgz *` in a home: visible dirs only. Look deeper than a live scan, the home may be below the root.
    for (const stray of workspaceDirsUnder(index, ROOT_FRAME, '', 4)) {
      const home = homeOfStray(stray.path);
      const group = groups.get(home) ?? { frame: ROOT_FRAME, installs: [], workspaceDirs: [] };
      group.workspaceDirs!.push(stray);
      groups.set(home, group);
    }
  }
  const homes: Home[] = [];
  for (const [homePath, group] of [...groups.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const resolution = resolveResonix({ env: { HOME: homePath }, fallbackHome: homePath, fallbackHomeSource: 'passwd' });
    for (const { install } of group.installs) install.active = install.stateDir === resolution.stateDir || group.installs.length === 1;
    const homeKey = toArchive(group.frame, homePath);
    const homeMember = homeKey !== undefined ? index.byKey.get(homeKey)?.member : undefined;
    const stateRoot = group.installs.map(({ install }) => install.inventory.entries.find((entry) => entry.path === '')).find(Boolean);
    const anyEntry = group.installs.flatMap(({ install }) => install.inventory.entries)[0];
    const ownerOf = homeMember ? { uid: homeMember.uid ?? 0, gid: homeMember.gid ?? 0 } : (stateRoot ?? anyEntry);
    const owner = users.users.find((user) => user.uid === homeMember?.uid);
    homes.push(
      assembleHome({
        path: homePath,
        exists: homeKey !== undefined,
        ...(homeMember ? { owner: { uid: homeMember.uid ?? 0, gid: homeMember.gid ?? 0 } } : {}),
        // a member without a recorded owner (zip) names nobody, though its uid reads as 0
        ...(owner ? { user: owner.name } : {}),
        resolution,
        gatewayUser: homeOwnerAsGatewayUser(users, ownerOf ? { uid: ownerOf.uid, gid: ownerOf.gid } : undefined),
        installs: group.installs.map(({ install }) => install),
        workspaceDirs: group.workspaceDirs ?? (homeKey !== undefined ? workspaceDirsUnder(index, group.frame, homeKey, 2) : []),
      }),
    );
  }
  return homes;
}

/** An archive is read as an image whose root is the archive: no host facts, no runtime (nothing says what will run). */
function machineOf(archivePath: string, users: PasswdEntry[], groups: GroupEntry[], homes: Home[], archive: BackupArchive, problems: ScanProblem[]): Machine {
  return assembleMachine({ mode: 'image', root: archivePath, users, groups, homes, archives: [archive], problems });
}

function result(machine: Machine, secrets: Set<string>, archive: BackupArchive, problems: ScanProblem[]): InspectedArchive {
  return { machine, secrets, archive, problems, opened: true };
}
