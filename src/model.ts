// The contract between the layers: scan produces a Machine, rules turn it into findings,
// the engine makes a Report, reporters turn a Report into text. Everything here is plain,
// serialisable data: no functions on data types, no secret values anywhere.

export type Phase = 'audit' | 'verify' | 'image' | 'inspect';
export const PHASES: readonly Phase[] = ['audit', 'verify', 'image', 'inspect'];

export type Severity = 'error' | 'warning' | 'info';
export type SeveritySetting = Severity | 'off';
export const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1 };

export type FileType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'block' | 'char' | 'unknown';

/** One entry of a file inventory. `path` is relative to the inventory's root, POSIX separators, '' for the root. */
export interface FileEntry {
  path: string;
  type: FileType;
  /** permission bits only (mode & 0o7777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  linkTarget?: string;
  /** the name was not valid UTF-8; `path` shows the bad bytes as \xNN */
  nonUtf8?: boolean;
  /** a directory the scan could not list (EACCES, ENOTDIR during a race, …) */
  unreadable?: string;
  /** symlinks only: the target does not resolve (missing, loop, permission) */
  linkBroken?: boolean;
  /** regular files of a snapshot manifest (and those `verify --against` compares): lower-case hex sha256 of the bytes */
  sha256?: string;
  /** why a regular file of a manifest has no sha256 */
  hashSkipped?: 'secret' | 'changed' | 'unreadable' | 'not-regular' | 'sparse' | 'too-big';
}

export interface FileInventory {
  /** absolute path (as seen on the scanned machine) of the inventory root */
  root: string;
  exists: boolean;
  entries: FileEntry[];
  /** true when the walk stopped early at its entry limit */
  truncated?: boolean;
  /**
   * the scanning process could not list the root of this tree (EACCES…): nothing inside it is known, so
   * nothing inside it is judged. The code, with the uid the scan ran as.
   */
  unseen?: { code: string; uid: number };
}

/** The ScanProblem code of a tree the scan stopped listing at its entry limit (--max-entries). */
export const ENTRY_LIMIT_CODE = 'ETOOMANY';

/** The ScanProblem code of a `--with-doctor` run that gave no findings (failed, timed out, garbage, refused). */
export const DOCTOR_PROBLEM_CODE = 'EDOCTOR';
/** The ScanProblem code of work the scan cut short at one of its budgets (agents per config, archive decompression). */
export const BUDGET_CODE = 'EBUDGET';

export interface ScanProblem {
  path: string;
  code: string;
  message: string;
}

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Who will run the gateway, and how we know. */
export interface GatewayUser {
  name?: string;
  uid: number;
  gid: number;
  /** supplementary groups (gids) */
  groups: number[];
  source: 'service' | 'home-owner' | 'flag' | 'current';
}

/** How a Resonix process resolves its state dir (reference §1). */
export interface Resolution {
  home: string;
  homeSource: 'RESONIX_HOME' | 'HOME' | 'USERPROFILE' | 'os' | 'flag' | 'passwd';
  stateDir: string;
  stateDirSource: 'RESONIX_STATE_DIR' | 'profile' | 'default' | 'flag';
  configPath: string;
  configPathSource: 'RESONIX_CONFIG_PATH' | 'profile' | 'default';
  profile?: string;
  /** RESONIX_HOME value when set (it replaces the home, it is not the state dir) */
  resonixHome?: string;
}

/** Where a config key sits in its file: 1-based lines, columns in UTF-16 code units; end is exclusive. */
export interface KeyPosition {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface ParseErrorInfo {
  message: string;
  line?: number;
  column?: number;
}

export interface AgentConfig {
  id: string;
  workspace?: string;
  agentDir?: string;
  isDefault?: boolean;
}

/** A config value that is a path; `key` is the dotted config key. */
export interface ConfigPath {
  key: string;
  value: string;
}

/** What the tool knows of one resonix.json, without any secret value. */
export interface ConfigSummary {
  path: string;
  exists: boolean;
  /** bytes; the parser refuses very large files */
  size?: number;
  parseError?: ParseErrorInfo;
  gatewayMode?: string;
  /** the remote URL with any user:password removed */
  remoteUrl?: string;
  port?: number;
  lastTouchedVersion?: string;
  wizardLastRunVersion?: string;
  agentsDefaultWorkspace?: string;
  agents: AgentConfig[];
  /** agents the config names past the scan's agent limit (MAX_AGENTS): counted, not looked at */
  agentsOmitted?: number;
  /** configured channel names (telegram, whatsapp, …) */
  channels: string[];
  whatsappAccounts: { id: string; authDir?: string }[];
  includes: string[];
  /** names in `${VAR}` substitutions and `source: "env"` secret refs */
  envRefs: string[];
  /** every path-valued key found */
  paths: ConfigPath[];
  /** dotted keys that hold an inline secret (values never kept) */
  inlineSecretKeys: string[];
  /** env variable names the config's own `env` / `env.vars` section sets */
  envVarKeys?: string[];
  /** each `$include`, checked */
  includeChecks?: IncludeCheck[];
  /** where the keys the scan reports on (paths, inline secrets, gateway.*, meta.*, $include, env refs) sit in the text */
  keyPositions?: Record<string, KeyPosition>;
  /** for each `${VAR}` the config uses, the first key whose value uses it */
  envRefKeys?: Record<string, string>;
}

export interface IncludeCheck {
  /** as written in the config */
  value: string;
  /** absolute path after ~ and relative resolution */
  resolved: string;
  exists: boolean;
  /** resolves (after symlinks) outside the config's own dir */
  outside: boolean;
  /** part of an include cycle */
  cycle: boolean;
  /** deeper than Resonix's limit of 10 */
  tooDeep?: boolean;
  /** the file that includes it */
  from: string;
}

/** Absolute paths that sessions.json records (sessionFile, skillsSnapshot). */
export interface SessionPathRefs {
  /** sessions.json path relative to the state dir */
  file: string;
  sessionFiles: string[];
  skillPaths: string[];
  /** sessionFile entries whose transcript is missing */
  missingTranscripts: string[];
  /** sessionFile values under another prefix whose transcript arrived here with the same tail (a moved home) */
  relocated?: { from: string; to: string }[];
  parseError?: string;
}

export interface WorkspaceGit {
  /** tracked or staged files that are credentials by name (.env, creds.json, auth-profiles.json, …) */
  secretFiles: string[];
  /** secret-looking values in tracked/staged content: where and what kind, never the value */
  secretHits: { path: string; line?: number; kind: string }[];
  error?: string;
  /** git could not look at all (refused to run, failed, timed out, a bad .git/index): `error` says why, and the empty lists mean nothing */
  unchecked?: boolean;
}

export interface SqliteHeader {
  /** path relative to the install's state dir */
  path: string;
  valid: boolean;
  pageSize?: number;
  pageCount?: number;
  userVersion?: number;
  /** actual file size in bytes */
  size: number;
}

/** A SQLite `-wal`, from its header and frame headers only (scan/sqlite-wal.ts). */
export interface SqliteWal {
  /** path relative to the install's state dir */
  path: string;
  size: number;
  /** magic, version and page size are a WAL header's (true for an empty -wal) */
  headerValid: boolean;
  headerChecksumOk?: boolean;
  pageSize?: number;
  checkpointSeq?: number;
  /** whole frames (24-byte header + a page) after the 32-byte header */
  wholeFrames: number;
  /** bytes after the last whole frame: a frame cut off */
  trailingBytes: number;
  /** frame headers read (bounded) */
  framesRead: number;
  /** index of the first frame whose salts are not the header's (left over from before a restart, or torn) */
  saltMismatchAt?: number;
  /** a frame with the header's salts comes after one without: not a valid WAL */
  saltMatchAfterMismatch?: boolean;
  /** database size in pages of the last commit frame read */
  lastCommitDbPages?: number;
}

export interface Workspace {
  agentId: string;
  /** absolute path as configured (after ~ expansion) or the default */
  path: string;
  source: 'config' | 'default';
  inventory: FileInventory;
  /** present when the workspace is a git repository */
  git?: WorkspaceGit;
  /** configured under an old home prefix (Home.oldHomes) and found here under this home with the same tail */
  arrivedAt?: string;
}

export type LayoutGeneration = 'file' | 'sqlite' | 'mixed' | 'empty';

/** One Resonix state dir. */
export interface Install {
  /** stable id: the state dir path */
  id: string;
  stateDir: string;
  /** profile implied by the dir name (.resonix-<p>), undefined for .resonix */
  profile?: string;
  /** the CLI, run by this home's user with this env, would use this dir */
  active: boolean;
  /** some service unit resolves to this dir */
  servedBy: string[];
  /** how it was found */
  foundBy: 'resolution' | 'home-glob' | 'service' | 'flag' | 'archive';
  inventory: FileInventory;
  generation: LayoutGeneration;
  /** holds data beyond an empty/fresh skeleton */
  hasData: boolean;
  /**
   * a profile that was never onboarded: a generated config (gateway.mode, a token), its backups and logs, nothing
   * else (what a failed `gateway install --profile p` leaves). `hasData` is false; it is no damaged copy.
   */
  neverOnboarded?: boolean;
  config: ConfigSummary;
  workspaces: Workspace[];
  sqlite: SqliteHeader[];
  /** the -wal files beside databases, from their headers (bounded reads) */
  sqliteWals?: SqliteWal[];
  /** names (not values) of variables set in <state>/.env */
  dotenvKeys: string[];
  /** sessions.json files and the absolute paths they record */
  sessionRefs?: SessionPathRefs[];
  /** file system type the state dir lives on (tmpfs, ext4, …), when known */
  fsType?: string;
  /** transcripts (*.jsonl) whose last byte is not a newline */
  partialTranscripts?: string[];
}

export interface ServiceUnit {
  kind: 'systemd-user' | 'systemd-system' | 'launchd';
  /** unit file path */
  path: string;
  /** bytes of the unit file */
  size?: number;
  name: string;
  enabled: boolean;
  /** ExecStart / ProgramArguments split into words; secret-looking words masked */
  execStart: string[];
  workingDirectory?: string;
  user?: string;
  group?: string;
  /** non-secret environment values (HOME, PATH, RESONIX_STATE_DIR, …) */
  env: Record<string, string>;
  /** every environment variable name the unit sets (values of secret ones are never kept) */
  envKeys: string[];
  /** env keys whose values look like secrets */
  secretEnvKeys: string[];
  environmentFiles: { path: string; exists: boolean; keys: string[] }[];
  /** the home and state dir this unit's gateway resolves */
  resolution: Resolution;
  parseError?: string;
  /** ExecStart binary/script, WorkingDirectory or EnvironmentFile paths that do not exist on this machine */
  missingPaths?: string[];
  /** the Node.js version of the binary ExecStart runs, when it could be learned */
  nodeVersion?: string;
  /** the Resonix version of the entry script's package.json (else, the script being there, the unit's RESONIX_SERVICE_VERSION) */
  resonixVersion?: string;
}

export interface GatewayLock {
  path: string;
  pid?: number;
  configPath?: string;
  alive?: boolean;
  generation: 'file' | 'sqlite';
}

export type ArchiveFormat =
  | 'tar'
  | 'tar.gz'
  | 'gzip'
  | 'zip'
  | 'age'
  | 'openpgp'
  | 'openssl-enc'
  | '7z'
  | 'bzip2'
  | 'xz'
  | 'zstd'
  | 'unknown';

export interface ArchiveMember {
  path: string;
  type: FileType;
  mode: number;
  size: number;
  uid?: number;
  gid?: number;
  mtimeMs?: number;
  linkTarget?: string;
  encrypted?: boolean;
}

export interface BackupArchive {
  path: string;
  format: ArchiveFormat;
  /** the bytes say it is encrypted (age, OpenPGP, openssl enc, all zip entries encrypted, 7z AES) */
  encrypted: boolean;
  /** some but not all zip entries are encrypted */
  partlyEncrypted?: boolean;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** listed members (readable formats only); undefined when not listable */
  members?: ArchiveMember[];
  /** members truncated at the listing limit */
  membersTruncated?: boolean;
  /** looks like it holds Resonix state */
  holdsResonixState: boolean;
  /** sits directly in a shared temporary dir (/tmp, /var/tmp, /dev/shm, $TMPDIR) */
  inTempDir?: boolean;
  /**
   * who can reach the archive through its parent dirs (each must be searchable): 'world', 'group', or 'owner'
   * when some parent shuts the others out (a 0644 file in a 0700 home is not readable by others)
   */
  reachableBy?: 'world' | 'group' | 'owner';
  /** relative member paths (or reasons) that carry secrets */
  secretMembers: string[];
  listError?: string;
}

export interface StrayWorkspace {
  /** a directory that looks like an agent workspace (AGENTS.md, SOUL.md, …) */
  path: string;
  markers: string[];
}

/** One home dir and everything Resonix-related found for its user. */
export interface Home {
  path: string;
  exists: boolean;
  ownerUid?: number;
  ownerGid?: number;
  user?: string;
  /** what the resonix CLI resolves for this home and environment */
  resolution: Resolution;
  gatewayUser: GatewayUser;
  installs: Install[];
  services: ServiceUnit[];
  locks: GatewayLock[];
  /** workspace-looking dirs outside any state dir */
  workspaceDirs: StrayWorkspace[];
  /** names of variables in ~/.config/resonix/gateway.env */
  gatewayEnvKeys?: string[];
  /** the home was chosen as SUDO_USER's: the tool runs as root under sudo without --home */
  sudoUser?: string;
  /**
   * old home prefixes the state names (a home moved to another path): recognised from the paths themselves
   * (a missing absolute path whose tail exists under this home) or from HOME= in a unit
   */
  oldHomes?: OldHome[];
}

export interface OldHome {
  /** e.g. /srv/alice */
  prefix: string;
  how: ('tail' | 'unit-home')[];
  /** a few old paths whose tail exists here, with where they are now */
  arrived: { from: string; to: string }[];
}

/** The Resonix build and Node.js this machine will run, where they could be learned. */
export interface Runtime {
  resonixVersion?: string;
  resonixSource?: 'flag' | 'path' | 'service-package' | 'unknown';
  /** package.json engines.node of the installed Resonix */
  nodeRange?: string;
  /** resonix.schemaVersions of the installed Resonix */
  schemaVersions?: { state?: number; agent?: number };
  /** `node` on PATH */
  nodeVersion?: string;
  nodePath?: string;
  /** bytes of the file `nodePath` resolves to */
  nodeSize?: number;
  /** TCP ports on loopback that accept connections (live only, only the ports Resonix would use) */
  openPorts?: number[];
  /** encryption tools found on PATH (live only; found by stat, never run), in order of preference */
  encryptionTools?: EncryptionTool[];
}

export type EncryptionTool = 'age' | 'gpg' | 'openssl';
export const ENCRYPTION_TOOLS: readonly EncryptionTool[] = ['age', 'gpg', 'openssl'];

export interface Machine {
  schema: 1;
  mode: 'live' | 'image';
  /** '/' for a live scan, the ROOTFS for an image */
  root: string;
  platform: string;
  scannedAt: string;
  currentUid: number;
  users: PasswdEntry[];
  groups: GroupEntry[];
  homes: Home[];
  archives: BackupArchive[];
  /** names (not values) of set process env variables */
  processEnvKeys: string[];
  runtime?: Runtime;
  problems: ScanProblem[];
}

export interface FixAction {
  kind: 'chmod' | 'chown' | 'mkdir';
  /** absolute path on the scanned machine */
  path: string;
  mode?: number;
  uid?: number;
  gid?: number;
  recursive?: boolean;
}

/**
 * Where a fix's commands go in the one ordered plan, in the order that works: stop the old gateway, copy or
 * restore, ownership, modes, config rewrites, the runtime (Node, Resonix), the service for the profile that
 * holds the data, `resonix doctor`, `gateway restart`, `status`; hygiene (backups, old services) last.
 */
export type StepKind = 'stop' | 'copy' | 'ownership' | 'modes' | 'config' | 'runtime' | 'service' | 'doctor' | 'restart' | 'status' | 'hygiene';
export const STEP_ORDER: readonly StepKind[] = ['stop', 'copy', 'ownership', 'modes', 'config', 'runtime', 'service', 'doctor', 'restart', 'status', 'hygiene'];

export interface Fix {
  summary: string;
  commands: string[];
  actions?: FixAction[];
  /** the plan step these commands belong to (else the rule's `fixStep`); the CLI's own verbs are placed by themselves */
  step?: StepKind;
  /** the commands are alternatives (do one of them), not a sequence */
  alternatives?: boolean;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  path?: string;
  /** the install (state dir) this finding belongs to */
  install?: string;
  /** where in the file at `path` (a config key, a parse error): 1-based, columns in UTF-16 code units */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  /** what `path` (else `install`) is on the scanned machine, when the scan saw it; set by the engine */
  target?: { type: FileType; size?: number };
  evidence?: string[];
  fix?: Fix;
  /** stable across machines: rule id + the target with home/state dir/rootfs prefixes normalised */
  fingerprint?: string;
  /** present when a suppression or the baseline file covers this finding: it no longer fails the run */
  suppressed?: { kind: 'config' | 'baseline'; reason: string; expires?: string };
  /** the fingerprint of the root finding this one follows from (the diagnosis): it is not counted on its own */
  causedBy?: string;
  /** the old home prefixes the finding says the state still names (a moved home): what `under-old-home` relates to */
  oldHomes?: string[];
}

/** What a rule returns: the engine adds the rule id and default severity. */
export interface RuleReport {
  message: string;
  path?: string;
  install?: string;
  /** where in the file at `path`: see Finding */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
  evidence?: string[];
  fix?: Fix;
  /** overrides the rule's default severity (e.g. group vs world exposure) */
  severity?: Severity;
  /** see Finding.oldHomes */
  oldHomes?: string[];
}

/**
 * How a finding relates to the finding that may cause it (a closed set, so the relation is data the docs show):
 * - `inside`: its path is the cause's path or below it (inside an unreadable or foreign-owned tree);
 * - `same-path`: both are about the same path;
 * - `contains`: the cause's path is its path or below it (a tree inside the state dir it judges could not be read);
 * - `same-install`: both are about the same state dir, whatever they are about in it (the broadest: the built-in
 *   rules use a narrower relation, so that an unrelated finding on the same install stays a root);
 * - `holds-state-dir`: its path is a home or dir that holds the cause's state dir, and the cause is about that
 *   state dir itself (a home whose dot-dir copy was skipped or could not be read);
 * - `names-path-under`: every absolute path it names (in its evidence, else its message, else its path) is under
 *   the cause's path (a state dir that was not copied): a finding only partly explained by the cause stays a root;
 * - `under-old-home`: every absolute path it names (as for `names-path-under`) is under an old home the cause
 *   names in its `oldHomes` (paths/foreign-home's "/srv/alice"): a home moved to another path;
 * - `named-by`: the cause's message or evidence names this finding's path (a service pointed at the wrong dir).
 */
export type CauseRelation = 'inside' | 'same-path' | 'contains' | 'same-install' | 'holds-state-dir' | 'names-path-under' | 'under-old-home' | 'named-by';
export const CAUSE_RELATIONS: readonly CauseRelation[] = ['inside', 'same-path', 'contains', 'same-install', 'holds-state-dir', 'names-path-under', 'under-old-home', 'named-by'];

export interface CauseDeclaration {
  rule: string;
  relation: CauseRelation;
}

/** migration: will the gateway find, read and start the moved state; hygiene: backups, exposed secrets, old gateways. */
export type Verdict = 'migration' | 'hygiene';

/** What a clean run says it checked, one line per area. */
export type Area = 'state' | 'config' | 'agents' | 'channels' | 'sessions' | 'service' | 'versions' | 'secrets';
export const AREAS: readonly Area[] = ['state', 'config', 'agents', 'channels', 'sessions', 'service', 'versions', 'secrets'];

export interface RuleMeta {
  id: string;
  title: string;
  severity: Severity;
  phases: Phase[];
  description: string;
  why: string;
  fix: string;
  autofix?: boolean;
  /** needs a baseline (manifest or archive) to say anything */
  needsBaseline?: boolean;
  tags?: string[];
  /** the findings of other rules this one's findings may follow from: diagnose folds them under the cause */
  causedBy?: CauseDeclaration[];
  /** which verdict its findings count towards (default migration) */
  verdict?: Verdict;
  /** the area a clean run reports as checked */
  area?: Area;
  /** the plan step of its fixes' commands, unless a fix says otherwise */
  fixStep?: StepKind;
}

export interface RuleContext {
  phase: Phase;
  machine: Machine;
  baseline?: Machine;
  /**
   * A rule that cannot know (no version, no binary) says nothing and calls this: `--verbose` and the
   * JSON/SARIF reports list it as skipped, with the reason.
   */
  skip?: (reason: string) => void;
}

export interface Rule {
  meta: RuleMeta;
  check(context: RuleContext): RuleReport[];
}

export interface InstallSummary {
  stateDir: string;
  profile?: string;
  active: boolean;
  generation: LayoutGeneration;
  files: number;
  gatewayMode?: string;
  lastTouchedVersion?: string;
  servedBy: string[];
  /** the dir is not on this machine: only a service or a config names it (after a move, often the old home's) */
  missing?: true;
}

export interface Counts {
  error: number;
  warning: number;
  info: number;
}

export interface PlanStep {
  step: string;
  why: string;
  commands: string[];
  /** fingerprints of the root findings this step fixes */
  findings: string[];
  /** other ways to do the same step: do one of them, not all */
  alternatives?: string[][];
}

/** One line of "what was checked": ok when every rule of the area ran and found nothing unsuppressed. */
export interface CheckedArea {
  area: Area;
  status: 'ok' | 'warning' | 'error' | 'not-checked';
  text: string;
}

/** What must travel to the new machine (audit): sizes in bytes, from the scanned inventories. */
export interface MoveItem {
  kind: 'state-dir' | 'workspace' | 'unit' | 'env-file';
  path: string;
  profile?: string;
  /** bytes of its regular files, where the scan listed them */
  bytes?: number;
  entries?: number;
  /** verify --against: whether it arrived here (undefined: cannot be told from a scan) */
  arrived?: boolean;
  /** verify --against, when it did not arrive: the step of the move that was skipped */
  skippedStep?: string;
}

export interface Report {
  tool: { name: string; version: string };
  phase: Phase;
  installs: InstallSummary[];
  findings: Finding[];
  /** ROOT findings only (a folded finding is counted through its cause), unsuppressed */
  summary: Counts;
  /** the two questions apart: will the moved state work (migration), and is anything left exposed (hygiene) */
  verdicts?: Record<Verdict, Counts>;
  /** one ordered, deduplicated plan from the root findings' fixes (audit: the move itself) */
  plan?: PlanStep[];
  /** audit: what must travel */
  move?: MoveItem[];
  checked?: CheckedArea[];
  rules: { run: string[]; skipped: { id: string; reason: string }[] };
  problems: ScanProblem[];
  /** the home checked is SUDO_USER's: the tool ran as root under sudo without --home */
  sudoUser?: { user: string; home: string };
  /** trees this process could not list: nothing inside them was judged (run with sudo to see more) */
  unseen?: { path: string; code: string; uid: number }[];
  /** roots that `fingerprint` and SARIF `uriBaseId`s are relative to */
  roots?: { HOME?: string; STATEDIR?: string; ROOTFS?: string };
  /** inspect: the archive looked at, and whether its bytes are encrypted */
  archive?: { path: string; format: ArchiveFormat; encrypted: boolean; partlyEncrypted?: boolean };
  /** baseline entries that matched no finding (the baseline should shrink) and expired suppressions */
  stale?: { baseline: string[]; suppressions: { rule: string; path: string; expired: string }[] };
  /** `--with-doctor`: what ran and what doctor said it checked (its findings are in `findings`, its failure in `problems`) */
  doctor?: DoctorRun;
}

export interface DoctorRun {
  /** the command line, e.g. `/usr/bin/node /usr/lib/node_modules/resonix/dist/index.js doctor --lint --json` */
  command: string;
  /** the uid it ran as (the gateway user's) */
  uid: number;
  checksRun: number;
  checksSkipped: number;
}
