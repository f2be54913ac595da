// argv → command → exit code. No business logic: parse, call scan/engine/reporters, write.
import fs from 'node:fs';
import path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { SHELLS, completionScript, describeProgram, type Shell } from './completion.js';
import { UsageError, loadToolConfig, type ToolConfig } from './config.js';
import { CauseDeclarationError, validateCauses } from './diagnose.js';
import { runRules } from './engine.js';
import { BaselineError, applyBaseline, applySuppressions, failsGate, makeBaseline, parseBaseline } from './gate.js';
import { FixError, applyFixes, confinePlan, planFixes, type AppliedFix, type PlannedFix, type RefusedFix } from './fix/index.js';
import type { Phase, Report, Rule, Severity, SeveritySetting } from './model.js';
import { progressDelayMs, progressWanted, startProgressLine, type ProgressLine } from './progress-line.js';
import { printable } from './reporters/escape.js';
import { formatDoctorLint } from './reporters/doctor-lint.js';
import { formatGithub } from './reporters/github.js';
import { formatJson } from './reporters/json.js';
import { formatJunit } from './reporters/junit.js';
import { formatMarkdown } from './reporters/markdown.js';
import { formatSarif } from './reporters/sarif.js';
import { formatPretty } from './reporters/pretty.js';
import { explainRule, formatRuleList } from './reporters/rules.js';
import type { InspectedArchive } from './inspect/archive-machine.js';
import type { LoadedBaseline } from './manifest/baseline.js';
import { ManifestError } from './manifest/types.js';
import { loadPlugins } from './plugins.js';
import { builtinRules } from './rules/index.js';
import { doctorFindings } from './doctor-merge.js';
import { DOCTOR_MAX_TIMEOUT_MS, DOCTOR_TIMEOUT_MS, doctorProblem, runDoctorLint } from './scan/doctor.js';
import { UnknownUserError, scanMachine } from './scan/index.js';
import { PROFILE_NAME } from './scan/resolve.js';
import { maskSecrets } from './knowledge/mask.js';
import { TOOL } from './version.js';

export const EXIT = { ok: 0, findings: 1, failure: 2 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  stdoutIsTTY: boolean;
  /** stderr is a terminal: only then is a progress line drawn */
  stderrIsTTY?: boolean;
  stderrColumns?: number;
}

interface SharedOptions {
  home?: string;
  stateDir?: string;
  profile?: string;
  dev?: boolean;
  user?: string;
  config?: string;
  format: string;
  output: string[];
  rule: string[];
  only: string[];
  skip: string[];
  failOn?: 'error' | 'warning' | 'info';
  /** doctor's name for the same threshold as --fail-on */
  severityMin?: 'error' | 'warning' | 'info';
  category?: string;
  baseline?: string;
  writeBaseline?: string;
  maxWarnings?: number;
  maxEntries?: number;
  quiet?: boolean;
  color: boolean;
  verbose?: boolean;
  resonixVersion?: string;
  fix?: boolean;
  fixDryRun?: boolean;
  /** audit --snapshot FILE, snapshot --out FILE */
  snapshot?: string;
  out?: string;
  /** verify/inspect --against manifest.json|backup.tgz */
  against?: string;
  hash?: boolean;
  /** audit/verify --with-doctor: also run the installed `resonix doctor --lint --json` */
  withDoctor?: boolean;
  /** --doctor-timeout, in ms */
  doctorTimeout?: number;
}

export const FORMATS = ['pretty', 'json', 'sarif', 'junit', 'github', 'markdown', 'doctor-lint'] as const;
type Format = (typeof FORMATS)[number];

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseCount(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--max-warnings takes a whole number, not "${value}"`);
  return Number(value);
}

function parseEntryLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--max-entries takes a whole number of at least 1, not "${value}"`);
  return Number(value);
}

function parseDoctorTimeout(value: string): number {
  const max = DOCTOR_MAX_TIMEOUT_MS / 1000;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new UsageError(`--doctor-timeout takes whole seconds from 1 to ${max}, not "${value}"`);
  return Number(value) * 1000;
}

/** --with-doctor breaks the read-only promise: its help says so. */
function addDoctorOptions(command: Command): Command {
  return command
    .option(
      '--with-doctor',
      "also run the installed `resonix doctor --lint --json` as the gateway user (never as root) and merge its findings; NOT read-only: doctor's lint may write into the state dir",
    )
    .option('--doctor-timeout <seconds>', `stop doctor after this long (default ${DOCTOR_TIMEOUT_MS / 1000})`, parseDoctorTimeout);
}

function addSharedOptions(command: Command): Command {
  return command
    .option('--home <dir>', 'the home dir to inspect (default: as Resonix resolves it)')
    .option('--state-dir <dir>', 'the state dir to inspect, as RESONIX_STATE_DIR would')
    .option('--profile <name>', 'the Resonix profile (~/.resonix-<name>)')
    .option('--dev', 'the dev profile (~/.resonix-dev)')
    .option('--user <name>', 'the user who runs the gateway (default: the service User=, else the home owner)')
    .option('--config <file>', "this tool's config file")
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('pretty'))
    .option('--output <[format=]file>', 'write the report to a file instead of stdout; FORMAT=FILE adds another format (repeatable)', collect, [])
    .option('--rule <id=severity>', 'set a rule to off|info|warning|error (repeatable)', collect, [])
    .option('--only <id>', 'run only this rule (repeatable)', collect, [])
    .option('--skip <id>', 'do not run this rule (repeatable)', collect, [])
    .addOption(new Option('--fail-on <severity>', 'fail on findings at or above this severity (default: error; warning with --format doctor-lint, as doctor)').choices(['error', 'warning', 'info']))
    .addOption(new Option('--severity-min <severity>', "doctor's name for --fail-on (the two may not disagree)").choices(['error', 'warning', 'info']))
    .option('--max-warnings <n>', 'fail when there are more warnings than this', parseCount)
    .option('--max-entries <n>', 'list at most this many files and dirs in all (default 2000000): bounds memory, ~0.4 KB each', parseEntryLimit)
    .option('--baseline <file>', 'known findings (from --write-baseline) stop failing the run')
    .option('--write-baseline <file>', 'write the current findings as a baseline')
    .option('--category <id>', 'SARIF automationDetails.id (default resonix-migrate/<phase>)')
    .option('--quiet', 'report errors only (and no progress line)')
    .option('--no-color', 'no colours (also NO_COLOR, or when not a terminal)')
    .option('--verbose', 'also list skipped rules and unreadable paths')
    .option('--fix', 'apply the safe fixes (chmod, chown) the findings carry, then scan again')
    .option('--fix-dry-run', 'print exactly what --fix would do, and change nothing')
    .option('--resonix-version <version>', 'the Resonix version that will run here, when it cannot be learned from PATH or the service');
}

function parseRuleFlags(flags: string[], known: ReadonlySet<string>): Record<string, SeveritySetting> {
  const result: Record<string, SeveritySetting> = {};
  for (const flag of flags) {
    const match = /^([^=]+)=(off|info|warning|error)$/.exec(flag);
    if (!match) throw new UsageError(`--rule takes ID=off|info|warning|error, not "${flag}"`);
    if (!known.has(match[1]!)) throw new UsageError(`unknown rule "${match[1]}" (resonix-migrate rules lists them)`);
    result[match[1]!] = match[2] as SeveritySetting;
  }
  return result;
}

function profileOf(options: SharedOptions): string | undefined {
  const profile = options.dev ? 'dev' : options.profile;
  if (profile !== undefined && !PROFILE_NAME.test(profile)) throw new UsageError(`--profile "${profile}" is not a valid profile name (a-z, 0-9, _ and -)`);
  return profile;
}

function useColor(options: SharedOptions, io: CliIo): boolean {
  if (!options.color) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false') return false;
  return io.stdoutIsTTY;
}

interface Destination {
  format: Format;
  /** undefined: stdout */
  file?: string;
}

/** `--output FILE` redirects the --format report; `--output sarif=FILE` adds another format. */
export function destinations(options: Pick<SharedOptions, 'format' | 'output'>): Destination[] {
  const list: Destination[] = [];
  let mainToFile = false;
  for (const value of options.output) {
    // FORMAT=FILE only when FORMAT is one of ours; anything else (report=final.json) is a file name
    const match = /^([A-Za-z]+)=(.+)$/.exec(value);
    const format = match?.[1]!.toLowerCase();
    if (match && format && (FORMATS as readonly string[]).includes(format)) list.push({ format: format as Format, file: match[2]! });
    else {
      list.push({ format: options.format as Format, file: value });
      mainToFile = true;
    }
  }
  if (!mainToFile) list.unshift({ format: options.format as Format });
  return list;
}

function render(format: Format, report: Report, rules: readonly Rule[], options: SharedOptions, io: CliIo, toTerminal: boolean, failed: boolean): string {
  switch (format) {
    case 'doctor-lint':
      return formatDoctorLint(report, rules, { ok: !failed });
    case 'json':
      return formatJson(report);
    case 'sarif':
      return formatSarif(report, rules, options.category ? { category: options.category } : {});
    case 'junit':
      return formatJunit(report, rules);
    case 'markdown':
      return formatMarkdown(report);
    case 'github': {
      const github = formatGithub(report);
      const summaryFile = io.env.GITHUB_STEP_SUMMARY;
      if (summaryFile) writePrivate(summaryFile, github.summary, true);
      return github.stdout;
    }
    default:
      return formatPretty(report, { color: toTerminal && useColor(options, io), ...(options.quiet ? { quiet: true } : {}), ...(options.verbose ? { verbose: true } : {}) });
  }
}

function writeReports(report: Report, rules: readonly Rule[], options: SharedOptions, io: CliIo, failed: boolean): void {
  for (const destination of destinations(options)) {
    const text = render(destination.format, report, rules, options, io, destination.file === undefined, failed);
    if (destination.file) writePrivate(path.resolve(io.cwd, destination.file), text);
    else io.stdout(text);
  }
}

/** Writes a 0600 file (an existing one is tightened too); a failure is a one-line usage error, exit 2. */
function writePrivate(file: string, text: string, append = false): void {
  try {
    if (append) fs.appendFileSync(file, text);
    else {
      fs.writeFileSync(file, text, { mode: 0o600 });
      fs.chmodSync(file, 0o600);
    }
  } catch (error) {
    throw new UsageError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function knownIds(ids: string[], known: ReadonlySet<string>, flag: string): string[] {
  for (const id of ids) if (!known.has(id)) throw new UsageError(`${flag} ${id}: unknown rule (resonix-migrate rules lists them)`);
  return ids;
}

function gateReport(report: Report, options: SharedOptions, toolConfig: ToolConfig, io: CliIo): Report {
  let gated = applySuppressions(report, toolConfig.suppressions, new Date().toISOString().slice(0, 10));
  if (options.baseline) {
    const file = path.resolve(io.cwd, options.baseline);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read baseline ${options.baseline}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    try {
      gated = applyBaseline(gated, parseBaseline(text, options.baseline), options.baseline);
    } catch (error) {
      if (error instanceof BaselineError) throw new UsageError(error.message);
      throw error;
    }
  }
  return gated;
}

function emptyReport(phase: Phase): Report {
  return { tool: { name: '', version: '' }, phase, installs: [], findings: [], summary: { error: 0, warning: 0, info: 0 }, rules: { run: [], skipped: [] }, problems: [] };
}

/** This tool's config, and the built-in rules plus those of its plugins (ids checked against both). */
async function loadConfigAndRules(configFlag: string | undefined, io: CliIo): Promise<{ toolConfig: ToolConfig; rules: readonly Rule[] }> {
  const builtinIds = new Set(builtinRules.map((rule) => rule.meta.id));
  const toolConfig = await loadToolConfig({ ...(configFlag ? { explicitPath: path.resolve(io.cwd, configFlag) } : {}), cwd: io.cwd, knownRuleIds: builtinIds });
  const pluginRules = toolConfig.plugins.length > 0 ? await loadPlugins(toolConfig.plugins, { ...(toolConfig.filepath ? { configFile: toolConfig.filepath } : {}), cwd: io.cwd, builtin: builtinRules }) : [];
  const rules = [...builtinRules, ...pluginRules];
  // a plugin's causedBy is data like any other: checked once here, a bad one is a one-line error
  try {
    validateCauses(rules);
  } catch (error) {
    if (error instanceof CauseDeclarationError) throw new UsageError(`${toolConfig.filepath ?? 'config'}: plugin rule ${error.message}`);
    throw error;
  }
  const known = new Set(rules.map((rule) => rule.meta.id));
  for (const id of [...Object.keys(toolConfig.rules), ...toolConfig.suppressions.map((item) => item.rule).filter((id) => id !== '*')]) {
    if (!known.has(id)) throw new UsageError(`${toolConfig.filepath ?? 'config'}: unknown rule "${id}" (resonix-migrate rules lists them)`);
  }
  return { toolConfig, rules };
}

// archive and manifest code (tar-stream, yauzl) loads only for the commands that use it
async function openArchive(file: string): Promise<InspectedArchive> {
  const { inspectArchive } = await import('./inspect/archive-machine.js');
  const inspected = await inspectArchive(file);
  if (!inspected.opened) throw new UsageError(inspected.problems[0]?.message ?? `cannot open ${file}`);
  // a file that is no archive (say /etc/hostname) is a wrong input, not a backup to judge
  if (inspected.archive.format === 'unknown' && !inspected.archive.encrypted) {
    throw new UsageError(`${printable(file)} is not an archive inspect can read (tar, tar.gz, zip; age, OpenPGP or openssl enc encrypted files): nothing to inspect`);
  }
  return inspected;
}

function archiveStatus(archive: InspectedArchive['archive']): NonNullable<Report['archive']> {
  return { path: archive.path, format: archive.format, encrypted: archive.encrypted, ...(archive.partlyEncrypted ? { partlyEncrypted: true } : {}) };
}

/** A manifest (JSON from `snapshot`) or a backup archive, as a baseline. */
async function baselineFrom(file: string, io: CliIo): Promise<LoadedBaseline> {
  const { loadBaseline } = await import('./manifest/baseline.js');
  try {
    return await loadBaseline(path.resolve(io.cwd, file));
  } catch (error) {
    if (error instanceof ManifestError) throw new UsageError(error.message);
    throw error;
  }
}

/** The shared flags each command cannot use: given anyway, they are a usage error (exit 2), never silently ignored. */
const NOT_FOR: Record<'inspect' | 'snapshot', { flags: [keyof SharedOptions, string][]; why: string }> = {
  inspect: {
    flags: [['home', '--home'], ['stateDir', '--state-dir'], ['profile', '--profile'], ['dev', '--dev'], ['user', '--user'], ['maxEntries', '--max-entries'], ['resonixVersion', '--resonix-version'], ['fix', '--fix'], ['fixDryRun', '--fix-dry-run']],
    why: 'inspect reads an archive, not this machine, and changes nothing',
  },
  snapshot: {
    flags: [
      ['config', '--config'], ['output', '--output'], ['rule', '--rule'], ['only', '--only'], ['skip', '--skip'], ['failOn', '--fail-on'], ['severityMin', '--severity-min'], ['category', '--category'],
      ['baseline', '--baseline'], ['writeBaseline', '--write-baseline'], ['maxWarnings', '--max-warnings'], ['fix', '--fix'], ['fixDryRun', '--fix-dry-run'],
      ['resonixVersion', '--resonix-version'],
    ],
    why: 'snapshot writes a manifest of what is here; nothing is judged or reported',
  },
};

function refuseFlagsOf(command: keyof typeof NOT_FOR, options: SharedOptions): void {
  // flags with a default count as given only when set to something else
  const defaults: Partial<Record<keyof SharedOptions, unknown>> = {};
  const given = NOT_FOR[command].flags.filter(([key]) => {
    const value = options[key];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false && value !== defaults[key];
  });
  if (command === 'snapshot' && options.format !== 'pretty') given.push(['format', '--format']);
  if (given.length > 0) throw new UsageError(`${command} does not take ${given.map(([, flag]) => flag).join(', ')}: ${NOT_FOR[command].why}`);
}

/**
 * The progress line of a long command, and an `io` that erases it before any other output. Off unless stderr
 * is a terminal, and with CI, --quiet, or a machine-readable report on stdout.
 */
function progressFor(options: SharedOptions, io: CliIo): { line: ProgressLine; io: CliIo } {
  const isTTY = io.stderrIsTTY === true;
  const machineReadableStdout = destinations(options).some((item) => item.file === undefined && item.format !== 'pretty');
  const enabled = progressWanted({ stream: { isTTY }, env: io.env, ...(options.quiet ? { quiet: true } : {}), machineReadableStdout });
  const line = startProgressLine({ write: io.stderr, isTTY, ...(io.stderrColumns ? { columns: io.stderrColumns } : {}) }, enabled, { delayMs: progressDelayMs(io.env) });
  if (!enabled) return { line, io };
  const erasing = (write: (text: string) => void) => (text: string) => {
    line.clear();
    write(text);
  };
  return { line, io: { ...io, stdout: erasing(io.stdout), stderr: erasing(io.stderr) } };
}

async function runScanCommand(phase: Phase, options: SharedOptions, io: CliIo, rootfs?: string, archive?: string): Promise<number> {
  if (archive !== undefined) refuseFlagsOf('inspect', options);
  const progress = progressFor(options, io);
  try {
    return await scanAndReport(phase, options, progress.io, progress.line, rootfs, archive);
  } finally {
    progress.line.stop();
  }
}

async function scanAndReport(phase: Phase, options: SharedOptions, io: CliIo, line: ProgressLine, rootfs?: string, archive?: string): Promise<number> {
  const { toolConfig, rules } = await loadConfigAndRules(options.config, io);
  if (archive !== undefined && !fs.existsSync(path.resolve(io.cwd, archive))) throw new UsageError(`${archive}: no such file`);
  const known = new Set(rules.map((rule) => rule.meta.id));
  const severities = { ...toolConfig.rules, ...parseRuleFlags(options.rule, known) };
  const profile = profileOf(options);
  let root = '/';
  if (options.doctorTimeout !== undefined && !options.withDoctor) throw new UsageError('--doctor-timeout needs --with-doctor');
  if (rootfs !== undefined && options.withDoctor) throw new UsageError('image does not take --with-doctor: it runs nothing from the image, and doctor would run the image\'s resonix (run verify --with-doctor on the machine itself)');
  if (rootfs !== undefined) {
    root = path.resolve(io.cwd, rootfs);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UsageError(`ROOTFS ${rootfs} is not a directory`);
  }
  const absolute = (value: string | undefined): string | undefined => (value === undefined ? undefined : rootfs !== undefined ? path.posix.resolve('/', value) : path.resolve(io.cwd, value));
  const home = absolute(options.home);
  const stateDir = absolute(options.stateDir);
  const scanOptions = {
    mode: rootfs !== undefined ? ('image' as const) : ('live' as const),
    root,
    env: rootfs !== undefined ? {} : io.env,
    cwd: io.cwd,
    ...(home ? { home } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(profile ? { profile } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.resonixVersion ? { resonixVersion: options.resonixVersion } : {}),
    ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
    archivePatterns: toolConfig.archives,
    progress: line.counter,
  };
  // every flag is checked before anything is scanned or written
  knownIds(options.only, known, '--only');
  knownIds(options.skip, known, '--skip');
  destinations(options);
  failThreshold(options);
  if (options.baseline) gateReport(emptyReport(phase), options, toolConfig, io);
  const loaded = options.against ? await baselineFrom(options.against, io) : undefined;
  const baseline = loaded?.machine;
  const check = async (): Promise<{ report: Report; machine: Awaited<ReturnType<typeof scanMachine>>['machine']; secrets: Set<string> }> => {
    const scanned = archive !== undefined ? await openArchive(archive) : await scanMachine(scanOptions);
    const secrets = loaded?.kind === 'archive' ? new Set([...scanned.secrets, ...loaded.secrets]) : scanned.secrets;
    // the live files a baseline comparison needs are hashed only against a manifest that has hashes
    const hashed = loaded?.kind === 'manifest' && loaded.manifest.hashing.enabled && archive === undefined;
    const current = hashed ? await (await import('./manifest/snapshot.js')).hashForBaseline(scanned.machine, loaded.machine) : scanned.machine;
    if (options.snapshot) {
      const out = path.resolve(io.cwd, options.snapshot);
      const { createManifest, writeManifest } = await import('./manifest/snapshot.js');
      await writeManifest(out, await createManifest(scanned, { hash: true }));
      io.stderr(`Snapshot manifest written to ${printable(out)}\n`);
    }
    // --with-doctor: doctor's lint, as the gateway user; its failure is one line of the report, never our exit code
    let doctor: Parameters<typeof runRules>[0]['doctor'];
    if (options.withDoctor && archive === undefined) {
      const outcome = runDoctorLint(scanned.machine, { env: io.env, ...(options.doctorTimeout !== undefined ? { timeoutMs: options.doctorTimeout } : {}) });
      if (outcome.ok) {
        const run = { command: outcome.command, uid: outcome.uid, checksRun: outcome.lint.checksRun, checksSkipped: outcome.lint.checksSkipped };
        doctor = { run, findings: doctorFindings(outcome.lint, outcome.install.stateDir) };
      } else current.problems.push(doctorProblem(outcome));
    }
    const ran = runRules({ ...(baseline ? { baseline } : {}), phase, machine: current, rules, severities, secrets, only: options.only, skip: options.skip, ...(doctor ? { doctor } : {}) });
    const report = archive !== undefined ? { ...ran, archive: archiveStatus((scanned as InspectedArchive).archive) } : ran;
    // fixes act on the scanned machine (hashes are only for the comparison)
    return { report: gateReport(report, options, toolConfig, io), machine: scanned.machine, secrets };
  };
  let { report, machine, secrets } = await check();
  // fix logs go where they cannot corrupt a machine-readable report
  const log = options.format === 'pretty' && destinations(options).some((item) => item.file === undefined && item.format === 'pretty') ? io.stdout : io.stderr;
  if (options.fixDryRun || options.fix) {
    // the same split for both: a dry run shows what --fix refuses and what it applies
    const { apply, refused } = confinePlan(machine, planFixes(report));
    // a refusal's reason and a failure's message name real paths: masked like the findings
    if (refused.length > 0) log(formatRefused(refused, secrets));
    if (apply.length === 0) log('Nothing to fix automatically.\n\n');
    else if (options.fixDryRun) log(formatPlan('--fix would apply', apply));
    else {
      let applied: AppliedFix[];
      try {
        applied = applyFixes(machine, apply);
      } catch (error) {
        throw error instanceof FixError ? new FixError(maskSecrets(error.message, secrets)) : error;
      }
      log(formatPlan('Applied', applied) + formatLinked(applied));
      ({ report, machine, secrets } = await check());
    }
  }
  // --quiet: warnings are neither shown nor counted
  const maxWarnings = options.quiet ? undefined : options.maxWarnings;
  const failOn = options.quiet ? 'error' : failThreshold(options);
  const failed = failsGate(report, { failOn, ...(maxWarnings !== undefined ? { maxWarnings } : {}) });
  line.stop();
  writeReports(report, rules, options, io, failed);
  if (options.writeBaseline) {
    writePrivate(path.resolve(io.cwd, options.writeBaseline), `${JSON.stringify(makeBaseline(report, new Date()), null, 2)}\n`);
  }
  return failed ? EXIT.findings : EXIT.ok;
}

/**
 * --fail-on and doctor's --severity-min name one threshold: either may be given, both only if they agree. Given
 * neither, it is `error`, except that `--format doctor-lint` takes doctor's default (`warning`), so a script
 * written for `resonix doctor --lint --json` gets the exit code it expects.
 */
export function failThreshold(options: Pick<SharedOptions, 'failOn' | 'severityMin' | 'format'>): Severity {
  if (options.failOn !== undefined && options.severityMin !== undefined && options.failOn !== options.severityMin) {
    throw new UsageError(`--fail-on ${options.failOn} and --severity-min ${options.severityMin} disagree: they are one threshold, give one of them`);
  }
  return options.severityMin ?? options.failOn ?? (options.format === 'doctor-lint' ? 'warning' : 'error');
}

async function runSnapshot(options: SharedOptions, io: CliIo): Promise<number> {
  refuseFlagsOf('snapshot', options);
  const progress = progressFor(options, io);
  try {
    return await snapshot(options, progress.io, progress.line);
  } finally {
    progress.line.stop();
  }
}

async function snapshot(options: SharedOptions, io: CliIo, line: ProgressLine): Promise<number> {
  const profile = profileOf(options);
  const scanned = await scanMachine({
    mode: 'live',
    root: '/',
    env: io.env,
    cwd: io.cwd,
    ...(options.home ? { home: path.resolve(io.cwd, options.home) } : {}),
    ...(options.stateDir ? { stateDir: path.resolve(io.cwd, options.stateDir) } : {}),
    ...(profile ? { profile } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
    progress: line.counter,
  });
  const { createManifest, writeManifest } = await import('./manifest/snapshot.js');
  const manifest = await createManifest(scanned, { hash: options.hash !== false });
  const out = path.resolve(io.cwd, options.out!);
  await writeManifest(out, manifest);
  const installs = manifest.machine.homes.flatMap((home) => home.installs).filter((install) => install.inventory.exists);
  const files = installs.reduce((sum, install) => sum + install.inventory.entries.length, 0);
  line.stop();
  const { sparse, 'too-big': tooBig } = manifest.hashing.skipped;
  const bySize = sparse + tooBig > 0 ? `, ${sparse} sparse and ${tooBig} too big to hash: recorded by size` : '';
  if (!options.quiet) io.stderr(`Snapshot of ${installs.length} state dir${installs.length === 1 ? '' : 's'} (${files} entries, ${manifest.hashing.files} hashed${bySize}) written to ${printable(out)}\n`);
  return EXIT.ok;
}

function formatPlan(title: string, plan: PlannedFix[]): string {
  const width = Math.max(...plan.map((item) => item.command.length));
  const lines = plan.map((item) => `  ${printable(item.command).padEnd(width)}  # ${item.ruleId}`);
  return `${title} ${plan.length} fix${plan.length === 1 ? '' : 'es'}:\n${lines.join('\n')}\n\n`;
}

function formatRefused(refused: RefusedFix[], secrets: Iterable<string>): string {
  const lines = refused.map((item) => `  ${printable(item.command)}  # ${item.ruleId}: ${printable(maskSecrets(item.reason, secrets))}`);
  return `--fix will not apply ${refused.length} fix${refused.length === 1 ? '' : 'es'} (check the path, then run the command yourself if it is right):\n${lines.join('\n')}\n\n`;
}

function formatLinked(applied: AppliedFix[]): string {
  const linked = applied.filter((item) => (item.linked ?? 0) > 0);
  if (linked.length === 0) return '';
  return `${linked.map((item) => `Left alone ${item.linked} hard-linked file${item.linked === 1 ? '' : 's'} under \`${printable(item.command)}\` (a second name may lie outside what --fix may change).`).join('\n')}\n\n`;
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('resonix-migrate')
    .description('Finds what goes wrong when a Resonix install moves between machines, and says how to fix it.')
    .version(TOOL.version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  program.addHelpText(
    'after',
    '\nExit codes:\n  0  no finding at error level (and warnings within --max-warnings)\n  1  findings that fail the run\n  2  the tool could not do its job (bad flags, unreadable tool config, internal error)',
  );
  addDoctorOptions(addSharedOptions(program.command('audit').description('before the move, on the old machine: is it safe to copy now, what must be copied, what leaks?')))
    .option('--snapshot <file>', 'also write a snapshot manifest of this machine (no secret values) to carry across')
    .action(async (options: SharedOptions) => setExit(await runScanCommand('audit', options, io)));
  addDoctorOptions(addSharedOptions(program.command('verify').description('after the move, on the new machine: did everything arrive, and will the gateway find it, read it and start?')))
    .option('--against <file>', 'compare with the old machine: a manifest from `snapshot`, or a backup archive')
    .action(async (options: SharedOptions) => setExit(await runScanCommand('verify', options, io)));
  addSharedOptions(program.command('inspect').argument('<archive>', 'a backup archive (tar, tar.gz, zip, age, gpg, …)').description('is this backup complete, encrypted, safe to keep?'))
    .option('--against <file>', 'a manifest from `snapshot` to check the archive against')
    .action(async (archive: string, options: SharedOptions) => setExit(await runScanCommand('inspect', options, io, undefined, path.resolve(io.cwd, archive))));
  addSharedOptions(program.command('snapshot').description('before the move: write a manifest of what is here (no secret values) for verify --against'))
    .requiredOption('--out <file>', 'where to write the manifest (mode 0600)')
    .option('--no-hash', 'skip sha256 of file contents (sizes, modes and owners only)')
    .action(async (options: SharedOptions) => setExit(await runSnapshot(options, io)));
  addSharedOptions(program.command('image').argument('<rootfs>', 'root filesystem dir of the image').description('in CI: does this provisioning image carry a correct, safe Resonix setup?'))
    // accepted only to be refused with the reason (an image runs nothing)
    .addOption(new Option('--with-doctor').hideHelp())
    .action(
    async (rootfs: string, options: SharedOptions) => setExit(await runScanCommand('image', options, io, rootfs)),
  );
  program
    .command('rules')
    .description('list every rule with its severity and phases')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .option('--config <file>', "this tool's config (its plugins' rules are listed too)")
    .action(async (options: { format: string; config?: string }) => {
      const { rules } = await loadConfigAndRules(options.config, io);
      io.stdout(formatRuleList(rules, options.format === 'json' ? 'json' : 'pretty'));
      setExit(EXIT.ok);
    });
  program
    .command('explain')
    .argument('<rule>', 'a rule id, e.g. copy/config-only')
    .description('what a rule checks, why it matters, how to fix it')
    .option('--config <file>', "this tool's config (to explain its plugins' rules)")
    .action(async (id: string, options: { config?: string }) => {
      const { rules } = await loadConfigAndRules(options.config, io);
      const text = explainRule(id, rules);
      if (text === undefined) throw new UsageError(`unknown rule "${id}" (resonix-migrate rules lists them)`);
      io.stdout(text);
      setExit(EXIT.ok);
    });
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices([...SHELLS]))
    .description('print a shell completion script (commands, flags, formats, rule ids)')
    .option('--config <file>', "this tool's config (to complete its plugins' rule ids too)")
    .action(async (shell: Shell, options: { config?: string }) => {
      const rules = options.config ? (await loadConfigAndRules(options.config, io)).rules : builtinRules;
      io.stdout(completionScript(shell, describeProgram(program, rules)));
      setExit(EXIT.ok);
    });
  return program;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (value) => {
    code = value;
  });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.ok;
    }
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return error.exitCode === 0 ? EXIT.ok : EXIT.failure;
    }
    if (error instanceof UsageError || error instanceof FixError || error instanceof UnknownUserError) {
      io.stderr(`resonix-migrate: ${printable(maskSecrets(error.message))}\n`);
      return EXIT.failure;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`resonix-migrate: internal error: ${printable(maskSecrets(message.split('\n')[0] ?? ''))}\n`);
    if (io.env.RESONIX_MIGRATE_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    return EXIT.failure;
  }
}
