// argv → command → exit code. No business logic: parse the flags, refuse the ones a command cannot take, call the
// pipeline (run.ts), render its report and say how it went.
import path from 'node:path';
import { Argument, Command, CommanderError, Option } from 'commander';
import { SHELLS, completionScript, describeProgram, type Shell } from './completion.js';
import { UsageError, unknownRule } from './config.js';
import { FixError } from './fix/index.js';
import { makeBaseline } from './gate.js';
import type { Phase, Severity, SeveritySetting } from './model.js';
import { progressFor, type ProgressLine } from './progress-line.js';
import { printable } from './knowledge/text.js';
import { formatFixPlan, formatLinkedFiles, formatRefusedFixes } from './reporters/fix-plan.js';
import { FORMATS } from './reporters/index.js';
import { explainRule, formatRuleList } from './reporters/rules.js';
import { builtinRules } from './rules/index.js';
import { DOCTOR_MAX_TIMEOUT_MS, DOCTOR_TIMEOUT_MS, UnknownUserError, loadConfigAndRules, prepareRun, snapshot, type MachineOptions } from './run.js';
import { PROFILE_NAME } from './knowledge/layout.js';
import { colorWanted, destinations, writePrivate, writeReports } from './write-reports.js';
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

/** The flags of audit, verify, inspect, image and snapshot, as commander parses them. */
interface SharedOptions {
  home?: string; stateDir?: string; profile?: string; dev?: boolean; user?: string; maxEntries?: number; resonixVersion?: string;
  config?: string; rule: string[]; only: string[]; skip: string[];
  format: string; output: string[]; category?: string; quiet?: boolean; color: boolean; verbose?: boolean;
  /** --severity-min is doctor's name for the same threshold as --fail-on */
  failOn?: Severity; severityMin?: Severity; maxWarnings?: number; baseline?: string; writeBaseline?: string;
  fix?: boolean; fixDryRun?: boolean;
  /** audit --snapshot FILE; snapshot --out FILE [--no-hash]; verify/inspect --against manifest.json|backup.tgz */
  snapshot?: string; out?: string; hash?: boolean; against?: string;
  /** audit/verify --with-doctor, and --doctor-timeout in ms */
  withDoctor?: boolean; doctorTimeout?: number;
}

export { FORMATS };

const collect = (value: string, previous: string[]): string[] => [...previous, value];

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
    .option('--with-doctor', "also run the installed `resonix doctor --lint --json` as the gateway user (never as root) and merge its findings; NOT read-only: doctor's lint may write into the state dir")
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

/** --rule ID=SEVERITY (the ids are checked with the rest, in prepareRun) */
function parseRuleFlags(flags: string[]): Record<string, SeveritySetting> {
  const result: Record<string, SeveritySetting> = {};
  for (const flag of flags) {
    const match = /^([^=]+)=(off|info|warning|error)$/.exec(flag);
    if (!match) throw new UsageError(`--rule takes ID=off|info|warning|error, not "${flag}"`);
    result[match[1]!] = match[2] as SeveritySetting;
  }
  return result;
}

function profileOf(options: SharedOptions): string | undefined {
  const profile = options.dev ? 'dev' : options.profile;
  if (profile !== undefined && !PROFILE_NAME.test(profile)) throw new UsageError(`--profile "${profile}" is not a valid profile name (a-z, 0-9, _ and -)`);
  return profile;
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
  const given = NOT_FOR[command].flags.filter(([key]) => {
    const value = options[key];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
  });
  if (command === 'snapshot' && options.format !== 'pretty') given.push(['format', '--format']);
  if (given.length > 0) throw new UsageError(`${command} does not take ${given.map(([, flag]) => flag).join(', ')}: ${NOT_FOR[command].why}`);
}

/** The progress line, off when stdout carries a machine-readable report. */
function progressOf(options: SharedOptions, io: CliIo): { line: ProgressLine; io: CliIo } {
  return progressFor(io, { quiet: options.quiet, machineReadableStdout: destinations(options).some((item) => item.file === undefined && item.format !== 'pretty') });
}

/** The options that say where the machine is, as run.ts takes them. */
function machineOptions(options: SharedOptions, io: CliIo, line: ProgressLine): MachineOptions {
  const { home, stateDir, user, maxEntries } = options;
  return { cwd: io.cwd, env: io.env, home, stateDir, profile: profileOf(options), user, maxEntries, progress: line.counter };
}

async function runScanCommand(phase: Phase, options: SharedOptions, cliIo: CliIo, target?: string): Promise<number> {
  if (phase === 'inspect') refuseFlagsOf('inspect', options);
  const { line, io } = progressOf(options, cliIo);
  try {
    const setup = await loadConfigAndRules(options.config, io.cwd);
    const severities = parseRuleFlags(options.rule);
    const where = machineOptions(options, io, line);
    if (options.doctorTimeout !== undefined && !options.withDoctor) throw new UsageError('--doctor-timeout needs --with-doctor');
    if (phase === 'image' && options.withDoctor) throw new UsageError('image does not take --with-doctor: it runs nothing from the image, and doctor would run the image\'s resonix (run verify --with-doctor on the machine itself)');
    // every flag is checked before anything is scanned or written (prepareRun checks the rest)
    destinations(options);
    const threshold = failThreshold(options);
    const prepared = await prepareRun({
      ...where, phase, target, setup, severities, only: options.only, skip: options.skip, resonixVersion: options.resonixVersion, against: options.against,
      baseline: options.baseline, snapshot: options.snapshot, withDoctor: options.withDoctor, doctorTimeoutMs: options.doctorTimeout,
      // --quiet: warnings are neither shown nor counted
      failOn: options.quiet ? 'error' : threshold, maxWarnings: options.quiet ? undefined : options.maxWarnings,
      fix: options.fix || options.fixDryRun ? 'plan' : undefined, notify: io.stderr,
    });
    let result = await prepared.check();
    // fix logs go where they cannot corrupt a machine-readable report
    const log = options.format === 'pretty' && destinations(options).some((item) => item.file === undefined && item.format === 'pretty') ? io.stdout : io.stderr;
    if (result.plan) {
      // the same split for both: a dry run shows what --fix refuses and what it applies
      const { planned, refused } = result.plan;
      if (refused.length > 0) log(formatRefusedFixes(refused));
      if (planned.length === 0) log('Nothing to fix automatically.\n\n');
      else if (options.fixDryRun) log(formatFixPlan('--fix would apply', planned));
      else {
        const applied = prepared.apply(result);
        log(formatFixPlan('Applied', applied) + formatLinkedFiles(applied));
        result = await prepared.check(false);
      }
    }
    line.stop();
    const { category, quiet, verbose } = options;
    writeReports(result.report, destinations(options), { rules: setup.rules, failed: result.failed, category, quiet, verbose, color: colorWanted(options.color, io.env, io.stdoutIsTTY) }, io);
    if (options.writeBaseline) writePrivate(path.resolve(io.cwd, options.writeBaseline), `${JSON.stringify(makeBaseline(result.report, new Date()), null, 2)}\n`);
    return result.failed ? EXIT.findings : EXIT.ok;
  } finally {
    line.stop();
  }
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
  const progress = progressOf(options, io);
  try {
    const { hashing, file, stateDirs, entries } = await snapshot({ ...machineOptions(options, progress.io, progress.line), out: options.out!, hash: options.hash !== false });
    progress.line.stop();
    const { sparse, 'too-big': tooBig } = hashing.skipped;
    const bySize = sparse + tooBig > 0 ? `, ${sparse} sparse and ${tooBig} too big to hash: recorded by size` : '';
    if (!options.quiet) progress.io.stderr(`Snapshot of ${stateDirs} state dir${stateDirs === 1 ? '' : 's'} (${entries} entries, ${hashing.files} hashed${bySize}) written to ${printable(file)}\n`);
    return EXIT.ok;
  } finally {
    progress.line.stop();
  }
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('resonix-migrate')
    .description('Finds what goes wrong when a Resonix install moves between machines, and says how to fix it.')
    .version(TOOL.version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  program.addHelpText('after', '\nExit codes:\n  0  no finding at error level (and warnings within --max-warnings)\n  1  findings that fail the run\n  2  the tool could not do its job (bad flags, unreadable tool config, internal error)');
  addDoctorOptions(addSharedOptions(program.command('audit').description('before the move, on the old machine: is it safe to copy now, what must be copied, what leaks?')))
    .option('--snapshot <file>', 'also write a snapshot manifest of this machine (no secret values) to carry across')
    .action(async (options: SharedOptions) => setExit(await runScanCommand('audit', options, io)));
  addDoctorOptions(addSharedOptions(program.command('verify').description('after the move, on the new machine: did everything arrive, and will the gateway find it, read it and start?')))
    .option('--against <file>', 'compare with the old machine: a manifest from `snapshot`, or a backup archive')
    .action(async (options: SharedOptions) => setExit(await runScanCommand('verify', options, io)));
  addSharedOptions(program.command('inspect').argument('<archive>', 'a backup archive (tar, tar.gz, zip, age, gpg, …)').description('is this backup complete, encrypted, safe to keep?'))
    .option('--against <file>', 'a manifest from `snapshot` to check the archive against')
    .action(async (archive: string, options: SharedOptions) => setExit(await runScanCommand('inspect', options, io, path.resolve(io.cwd, archive))));
  addSharedOptions(program.command('snapshot').description('before the move: write a manifest of what is here (no secret values) for verify --against'))
    .requiredOption('--out <file>', 'where to write the manifest (mode 0600)')
    .option('--no-hash', 'skip sha256 of file contents (sizes, modes and owners only)')
    .action(async (options: SharedOptions) => setExit(await runSnapshot(options, io)));
  addSharedOptions(program.command('image').argument('<rootfs>', 'root filesystem dir of the image').description('in CI: does this provisioning image carry a correct, safe Resonix setup?'))
    // accepted only to be refused with the reason (an image runs nothing)
    .addOption(new Option('--with-doctor').hideHelp())
    .action(async (rootfs: string, options: SharedOptions) => setExit(await runScanCommand('image', options, io, rootfs)));
  program
    .command('rules')
    .description('list every rule with its severity and phases')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .option('--config <file>', "this tool's config (its plugins' rules are listed too)")
    .action(async (options: { format: string; config?: string }) => {
      const { rules } = await loadConfigAndRules(options.config, io.cwd);
      io.stdout(formatRuleList(rules, options.format === 'json' ? 'json' : 'pretty'));
      setExit(EXIT.ok);
    });
  program
    .command('explain')
    .argument('<rule>', 'a rule id, e.g. copy/config-only')
    .description('what a rule checks, why it matters, how to fix it')
    .option('--config <file>', "this tool's config (to explain its plugins' rules)")
    .action(async (id: string, options: { config?: string }) => {
      const { rules } = await loadConfigAndRules(options.config, io.cwd);
      const text = explainRule(id, rules);
      if (text === undefined) throw unknownRule(id);
      io.stdout(text);
      setExit(EXIT.ok);
    });
  program
    .command('completion')
    .addArgument(new Argument('<shell>', 'the shell').choices([...SHELLS]))
    .description('print a shell completion script (commands, flags, formats, rule ids)')
    .option('--config <file>', "this tool's config (to complete its plugins' rule ids too)")
    .action(async (shell: Shell, options: { config?: string }) => {
      const rules = options.config ? (await loadConfigAndRules(options.config, io.cwd)).rules : builtinRules;
      io.stdout(completionScript(shell, describeProgram(program, rules)));
      setExit(EXIT.ok);
    });
  return program;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (value) => (code = value));
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
    // the stack holds the message and paths the scanned machine named: masked and escaped line by line, like every string that leaves
    if (io.env.RESONIX_MIGRATE_DEBUG && error instanceof Error) io.stderr(`${(error.stack ?? '').split('\n').map((line) => printable(maskSecrets(line))).join('\n')}\n`);
    return EXIT.failure;
  }
}
