// argv → command → exit code. No business logic: parse, call scan/engine/reporters, write.
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { UsageError, loadToolConfig, type ToolConfig } from './config.js';
import { failsRun, runRules } from './engine.js';
import { FixError, applyFixes, planFixes, type PlannedFix } from './fix/index.js';
import type { Phase, Report, SeveritySetting } from './model.js';
import { printable } from './reporters/escape.js';
import { formatJson } from './reporters/json.js';
import { formatPretty } from './reporters/pretty.js';
import { explainRule, formatRuleList } from './reporters/rules.js';
import { builtinRules } from './rules/index.js';
import { scanMachine } from './scan/index.js';
import { PROFILE_NAME } from './scan/resolve.js';
import { TOOL } from './version.js';

export const EXIT = { ok: 0, findings: 1, failure: 2 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  stdoutIsTTY: boolean;
}

interface SharedOptions {
  home?: string;
  stateDir?: string;
  profile?: string;
  dev?: boolean;
  user?: string;
  config?: string;
  format: string;
  output?: string;
  rule: string[];
  maxWarnings?: number;
  quiet?: boolean;
  color: boolean;
  verbose?: boolean;
  resonixVersion?: string;
  fix?: boolean;
  fixDryRun?: boolean;
}

const FORMATS = ['pretty', 'json'] as const;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseCount(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--max-warnings takes a whole number, not "${value}"`);
  return Number(value);
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
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--rule <id=severity>', 'set a rule to off|info|warning|error (repeatable)', collect, [])
    .option('--max-warnings <n>', 'fail when there are more warnings than this', parseCount)
    .option('--quiet', 'report errors only')
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
  if (!options.color || options.output) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.CI !== undefined && io.env.CI !== '' && io.env.CI !== 'false') return false;
  return io.stdoutIsTTY;
}

function writeReport(text: string, options: SharedOptions, io: CliIo): void {
  if (options.output) fs.writeFileSync(path.resolve(io.cwd, options.output), text, { mode: 0o600 });
  else io.stdout(text);
}

function render(report: Report, options: SharedOptions, io: CliIo): string {
  if (options.format === 'json') return formatJson(report);
  return formatPretty(report, { color: useColor(options, io), ...(options.quiet ? { quiet: true } : {}), ...(options.verbose ? { verbose: true } : {}) });
}

async function runScanCommand(phase: Phase, options: SharedOptions, io: CliIo, rootfs?: string): Promise<number> {
  const known = new Set(builtinRules.map((rule) => rule.meta.id));
  const toolConfig: ToolConfig = await loadToolConfig({ ...(options.config ? { explicitPath: path.resolve(io.cwd, options.config) } : {}), cwd: io.cwd, knownRuleIds: known });
  const severities = { ...toolConfig.rules, ...parseRuleFlags(options.rule, known) };
  const profile = profileOf(options);
  let root = '/';
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
    archivePatterns: toolConfig.archives,
  };
  const check = async (): Promise<{ report: Report; machine: Awaited<ReturnType<typeof scanMachine>>['machine'] }> => {
    const { machine, secrets } = await scanMachine(scanOptions);
    return { report: runRules({ phase, machine, severities, secrets }), machine };
  };
  let { report, machine } = await check();
  // fix logs go where they cannot corrupt a machine-readable report
  const log = options.format === 'pretty' && !options.output ? io.stdout : io.stderr;
  if (options.fixDryRun || options.fix) {
    const plan = planFixes(report);
    if (plan.length === 0) log('Nothing to fix automatically.\n\n');
    else if (options.fixDryRun) log(formatPlan('--fix would apply', plan));
    else {
      const applied = applyFixes(machine, plan);
      log(formatPlan('Applied', applied));
      ({ report, machine } = await check());
    }
  }
  writeReport(render(report, options, io), options, io);
  const maxWarnings = options.quiet ? undefined : options.maxWarnings;
  return failsRun(report, maxWarnings !== undefined ? { maxWarnings } : {}) ? EXIT.findings : EXIT.ok;
}

function formatPlan(title: string, plan: PlannedFix[]): string {
  const width = Math.max(...plan.map((item) => item.command.length));
  const lines = plan.map((item) => `  ${printable(item.command).padEnd(width)}  # ${item.ruleId}`);
  return `${title} ${plan.length} fix${plan.length === 1 ? '' : 'es'}:\n${lines.join('\n')}\n\n`;
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
  const scanCommand = (name: string, phase: Phase, description: string): void => {
    addSharedOptions(program.command(name).description(description)).action(async (options: SharedOptions) => setExit(await runScanCommand(phase, options, io)));
  };
  scanCommand('audit', 'audit', 'before the move, on the old machine: is it safe to copy now, what must be copied, what leaks?');
  scanCommand('verify', 'verify', 'after the move, on the new machine: did everything arrive, and will the gateway find it, read it and start?');
  addSharedOptions(program.command('image').argument('<rootfs>', 'root filesystem dir of the image').description('in CI: does this provisioning image carry a correct, safe Resonix setup?')).action(
    async (rootfs: string, options: SharedOptions) => setExit(await runScanCommand('image', options, io, rootfs)),
  );
  program
    .command('rules')
    .description('list every rule with its severity and phases')
    .addOption(new Option('--format <format>', 'output format').choices(['pretty', 'json']).default('pretty'))
    .action((options: { format: string }) => {
      io.stdout(formatRuleList(builtinRules, options.format === 'json' ? 'json' : 'pretty'));
      setExit(EXIT.ok);
    });
  program
    .command('explain')
    .argument('<rule>', 'a rule id, e.g. copy/config-only')
    .description('what a rule checks, why it matters, how to fix it')
    .action((id: string) => {
      const text = explainRule(id, builtinRules);
      if (text === undefined) throw new UsageError(`unknown rule "${id}" (resonix-migrate rules lists them)`);
      io.stdout(text);
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
    if (error instanceof UsageError || error instanceof FixError) {
      io.stderr(`resonix-migrate: ${error.message}\n`);
      return EXIT.failure;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`resonix-migrate: internal error: ${message.split('\n')[0]}\n`);
    if (io.env.RESONIX_MIGRATE_DEBUG && error instanceof Error) io.stderr(`${error.stack}\n`);
    return EXIT.failure;
  }
}
