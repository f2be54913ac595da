// The pipeline in one place, for the CLI and for library users: this tool's config and plugins, the machine
// (scanned live, a rootfs for `image`, a backup archive for `inspect`), the old machine (`--against`), the
// rules and their diagnosis, the gate (suppressions, a baseline of known findings, --fail-on, --max-warnings)
// and, when asked, the plan of safe fixes.
//
// `run(options)` does all of it in one call. Fixes: `fix: 'plan'` adds the plan (what --fix would apply, what
// it refuses and why); `fix: 'apply'` also applies it and scans again, and returns the rescan with `applied`.
// The CLI prints between planning, applying and rescanning, so it drives the steps itself: `prepareRun`
// checks every input (nothing is scanned or written before), then `check()` scans and judges, `apply()`
// applies a plan, and `check(false)` rescans without planning again.
//
// A user's mistake (a bad baseline, an unreadable manifest, an unknown rule id, a missing archive) is a
// UsageError with a one-line message; a fix that cannot be applied is a FixError.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError, checkRuleIds, loadToolConfig, type ToolConfig } from './config.js';
import { CauseDeclarationError, validateCauses } from './diagnose.js';
import { doctorFindings } from './doctor-merge.js';
import { runRulesWithActions, type EngineOptions, type RawActions, type ReportContext } from './engine.js';
import { applyFixes, confinePlan, planFixes, type AppliedFix, type PlannedFix, type RefusedFix } from './fix/index.js';
import { BaselineError, applyBaseline, applySuppressions, failsGate, parseBaseline, type BaselineFile } from './gate.js';
import type { InspectedArchive } from './archive/inspect.js';
import type { LoadedBaseline } from './manifest/baseline.js';
import type { ManifestHashing } from './manifest/types.js';
import { ManifestError } from './manifest/types.js';
import type { Machine, Phase, Report, Rule, Severity, SeveritySetting } from './model.js';
import type { ProgressCounter } from './progress.js';
import { printable } from './knowledge/text.js';
import { loadPlugins } from './plugins.js';
import { builtinRules } from './rules/index.js';
import { doctorProblem, runDoctorLint } from './scan/doctor.js';
import { scanMachine, type ScanOptions } from './scan/index.js';
import { maskSecrets } from './knowledge/mask.js';

// what the CLI needs from below the pipeline, so that it imports nothing from scan/ itself
export { DOCTOR_MAX_TIMEOUT_MS, DOCTOR_TIMEOUT_MS } from './scan/doctor.js';
export { UnknownUserError } from './scan/index.js';

type Env = Record<string, string | undefined>;

/** Where the machine is and how to find its Resonix: the options of `audit`, `verify`, `image` and `snapshot`. */
export interface MachineOptions {
  /** relative paths are resolved from here (default process.cwd()) */
  cwd?: string;
  /** the environment Resonix would see (default process.env); an image scan uses none */
  env?: Env;
  /** --home */
  home?: string;
  /** --state-dir, as RESONIX_STATE_DIR would */
  stateDir?: string;
  /** --profile (--dev is the profile `dev`) */
  profile?: string;
  /** --user: who runs the gateway */
  user?: string;
  /** --max-entries */
  maxEntries?: number;
  /** ticked as the scan walks (the CLI draws its progress line from it) */
  progress?: ProgressCounter;
}

export interface RunOptions extends MachineOptions {
  phase: Phase;
  /** image: the root filesystem dir; inspect: the backup archive */
  target?: string;
  /** this tool's config and rules (loadConfigAndRules); by default those found from `cwd`, or in `configFile` */
  setup?: Setup;
  /** --config */
  configFile?: string;
  /** rule id → severity or 'off', over the config's (--rule) */
  severities?: Record<string, SeveritySetting>;
  /** --only, --skip */
  only?: string[];
  skip?: string[];
  /** --resonix-version */
  resonixVersion?: string;
  /** --against: a manifest from `snapshot`, or a backup archive */
  against?: string;
  /** --baseline: known findings (from --write-baseline) stop failing the run */
  baseline?: string;
  /** audit --snapshot: also write a snapshot manifest of this machine here */
  snapshot?: string;
  /** --with-doctor, and --doctor-timeout in ms */
  withDoctor?: boolean;
  doctorTimeoutMs?: number;
  /** the gate: --fail-on (default error) and --max-warnings */
  failOn?: Severity;
  maxWarnings?: number;
  /** plan the safe fixes, or also apply them and scan again */
  fix?: 'plan' | 'apply';
  /** one-line notes for the operator (the snapshot written), meant for stderr */
  notify?: (text: string) => void;
}

export interface Setup {
  toolConfig: ToolConfig;
  /** the built-in rules, then the plugins' */
  rules: readonly Rule[];
}

export interface FixPlan {
  /** what --fix applies */
  planned: PlannedFix[];
  /** what it will not apply; each reason masked like the findings */
  refused: RefusedFix[];
}

export interface RunResult {
  /** gated: suppressed and baseline findings are marked, the summary recounted */
  report: Report;
  /** the machine as scanned (fixes act on it); for `inspect`, the archive read as a machine */
  machine: Machine;
  /** the run fails the gate (exit code 1) */
  failed: boolean;
  /** the real paths of the findings' fix actions, for planFixes; never serialise them (a path may name a secret) */
  rawActions: RawActions;
  /** with `fix` */
  plan?: FixPlan;
  /** with `fix: 'apply'`: what was applied before the rescan this result is from */
  applied?: AppliedFix[];
}

/** A prepared run: every input checked, nothing scanned yet. */
export interface PreparedRun {
  setup: Setup;
  /** scans (or opens the archive), runs the rules, gates; plans fixes when the options ask and `plan` is not false */
  check(plan?: boolean): Promise<RunResult>;
  /** applies a result's plan (FixError, masked, when it cannot) */
  apply(result: RunResult): AppliedFix[];
}

/** This tool's config, and the built-in rules plus those of its plugins (ids checked against both). */
export async function loadConfigAndRules(configFile: string | undefined, cwd: string = process.cwd()): Promise<Setup> {
  const builtinIds = new Set(builtinRules.map((rule) => rule.meta.id));
  const toolConfig = await loadToolConfig({ ...(configFile ? { explicitPath: path.resolve(cwd, configFile) } : {}), cwd, knownRuleIds: builtinIds });
  const pluginRules = toolConfig.plugins.length > 0 ? await loadPlugins(toolConfig.plugins, { ...(toolConfig.filepath ? { configFile: toolConfig.filepath } : {}), cwd, builtin: builtinRules }) : [];
  const rules = [...builtinRules, ...pluginRules];
  // a plugin's causedBy is data like any other: checked once here, a bad one is a one-line error
  try {
    validateCauses(rules);
  } catch (error) {
    if (error instanceof CauseDeclarationError) throw new UsageError(`${toolConfig.filepath ?? 'config'}: plugin rule ${error.message}`);
    throw error;
  }
  // plugin rule ids in the config could only be checked now that the plugins are loaded
  const ids = [...Object.keys(toolConfig.rules), ...toolConfig.suppressions.map((item) => item.rule).filter((id) => id !== '*')];
  checkRuleIds(ids, new Set(rules.map((rule) => rule.meta.id)), toolConfig.filepath ?? 'config');
  return { toolConfig, rules };
}

// archive and manifest code (tar-stream, yauzl) loads only for the commands that use it
async function openArchive(file: string, progress?: ProgressCounter): Promise<InspectedArchive> {
  const { inspectArchive } = await import('./archive/inspect.js');
  const inspected = await inspectArchive(file, progress ? { progress } : {});
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

/** A manifest (JSON from `snapshot`) or a backup archive, as the old machine. */
async function againstFrom(file: string): Promise<LoadedBaseline> {
  const { loadBaseline } = await import('./manifest/baseline.js');
  try {
    return await loadBaseline(file);
  } catch (error) {
    if (error instanceof ManifestError) throw new UsageError(error.message);
    throw error;
  }
}

/** The baseline of known findings (--baseline), read once before anything is scanned. */
function readKnownFindings(file: string, cwd: string): BaselineFile {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return parseBaseline(text, file);
  } catch (error) {
    if (error instanceof BaselineError) throw new UsageError(error.message);
    throw error;
  }
}

/** What scanMachine is asked for a live machine or a rootfs. */
function scanOptionsOf(options: MachineOptions, cwd: string, env: Env, rootfs?: string): ScanOptions {
  const absolute = (value: string | undefined): string | undefined => (value === undefined ? undefined : rootfs !== undefined ? path.posix.resolve('/', value) : path.resolve(cwd, value));
  const home = absolute(options.home);
  const stateDir = absolute(options.stateDir);
  return {
    mode: rootfs !== undefined ? 'image' : 'live',
    root: rootfs ?? '/',
    env: rootfs !== undefined ? {} : env,
    cwd,
    ...(home ? { home } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.user ? { user: options.user } : {}),
    ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  };
}

/** Checks every input of a run (nothing is scanned or written before), and returns its steps. */
export async function prepareRun(options: RunOptions): Promise<PreparedRun> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const { phase } = options;
  const setup = options.setup ?? (await loadConfigAndRules(options.configFile, cwd));
  const { toolConfig, rules } = setup;
  const archive = phase === 'inspect' ? path.resolve(cwd, required(options.target, 'inspect needs an archive')) : undefined;
  if (archive !== undefined && !fs.existsSync(archive)) throw new UsageError(`${options.target}: no such file`);
  const known = new Set(rules.map((rule) => rule.meta.id));
  checkRuleIds(Object.keys(options.severities ?? {}), known);
  const severities = { ...toolConfig.rules, ...options.severities };
  let rootfs: string | undefined;
  if (phase === 'image') {
    const target = required(options.target, 'image needs a root filesystem dir');
    rootfs = path.resolve(cwd, target);
    if (!fs.existsSync(rootfs) || !fs.statSync(rootfs).isDirectory()) throw new UsageError(`ROOTFS ${target} is not a directory`);
  }
  const scanOptions: ScanOptions = {
    ...scanOptionsOf(options, cwd, env, rootfs),
    ...(options.resonixVersion ? { resonixVersion: options.resonixVersion } : {}),
    archivePatterns: toolConfig.archives,
  };
  const only = options.only ?? [];
  const skip = options.skip ?? [];
  checkRuleIds(only, known, '--only');
  checkRuleIds(skip, known, '--skip');
  const knownFindings = options.baseline ? readKnownFindings(options.baseline, cwd) : undefined;
  const loaded = options.against ? await againstFrom(path.resolve(cwd, options.against)) : undefined;
  const baseline = loaded?.machine;
  // the live files a baseline comparison needs are hashed only against a manifest that has hashes
  const hashesAgainst = loaded?.kind === 'manifest' && loaded.manifest.hashing.enabled && archive === undefined;
  // hashing follows the scan: the walk keeps what it saw of each file (inode, links, blocks) for it
  if (options.snapshot || hashesAgainst) scanOptions.fileIdentities = true;
  const gate = (report: Report, context: ReportContext): Report => {
    const suppressed = applySuppressions(report, toolConfig.suppressions, new Date().toISOString().slice(0, 10), context);
    return knownFindings && options.baseline ? applyBaseline(suppressed, knownFindings, options.baseline, context) : suppressed;
  };
  // the secret values of the latest check: a fix's failure names real paths, masked like the findings
  let secrets: Set<string> = new Set();

  const check = async (plan = options.fix !== undefined): Promise<RunResult> => {
    const scanned = archive !== undefined ? await openArchive(archive, options.progress) : await scanMachine(scanOptions);
    secrets = loaded?.kind === 'archive' ? new Set([...scanned.secrets, ...loaded.secrets]) : scanned.secrets;
    try {
      return await judge(scanned, plan);
    } catch (error) {
      throw maskedError(error, secrets);
    }
  };

  const judge = async (scanned: Awaited<ReturnType<typeof scanMachine>> | InspectedArchive, plan: boolean): Promise<RunResult> => {
    const current = hashesAgainst ? await (await import('./manifest/snapshot.js')).hashForBaseline(scanned.machine, loaded.machine, options.progress ? { progress: options.progress } : {}) : scanned.machine;
    if (options.snapshot) {
      const out = path.resolve(cwd, options.snapshot);
      const { writeSnapshot } = await import('./manifest/snapshot.js');
      await writeSnapshot(out, scanned, { hash: true, ...(options.progress ? { progress: options.progress } : {}) });
      options.notify?.(`Snapshot manifest written to ${printable(out)}\n`);
    }
    // --with-doctor: doctor's lint, as the gateway user; its failure is one line of the report, never our exit code
    let doctor: EngineOptions['doctor'];
    if (options.withDoctor && archive === undefined) {
      const outcome = runDoctorLint(scanned.machine, { env, ...(options.doctorTimeoutMs !== undefined ? { timeoutMs: options.doctorTimeoutMs } : {}) });
      if (outcome.ok) {
        const ran = { command: outcome.command, uid: outcome.uid, checksRun: outcome.lint.checksRun, checksSkipped: outcome.lint.checksSkipped };
        doctor = { run: ran, findings: doctorFindings(outcome.lint, outcome.install.stateDir) };
      } else current.problems.push(doctorProblem(outcome));
    }
    const ran = runRulesWithActions({ ...(baseline ? { baseline } : {}), phase, machine: current, rules, severities, secrets, only, skip, ...(doctor ? { doctor } : {}) });
    const report = gate(archive !== undefined ? { ...ran.report, archive: archiveStatus((scanned as InspectedArchive).archive) } : ran.report, ran.context);
    const failed = failsGate(report, { ...(options.failOn ? { failOn: options.failOn } : {}), ...(options.maxWarnings !== undefined ? { maxWarnings: options.maxWarnings } : {}) });
    // fixes act on the scanned machine (hashes are only for the comparison)
    const result: RunResult = { report, machine: scanned.machine, failed, rawActions: ran.rawActions };
    if (plan) {
      const { apply, refused } = confinePlan(scanned.machine, planFixes(report, ran.rawActions));
      // a refusal's reason names real paths: masked like the findings
      result.plan = { planned: apply, refused: refused.map((item) => ({ ...item, reason: maskSecrets(item.reason, secrets) })) };
    }
    return result;
  };

  const apply = (result: RunResult): AppliedFix[] => {
    try {
      return applyFixes(result.machine, result.plan?.planned ?? []);
    } catch (error) {
      throw maskedError(error, secrets);
    }
  };
  return { setup, check, apply };
}

/**
 * An error raised once the machine was read may quote what it holds (a path, a value): its message and stack
 * are masked with the values that scan saw, which the CLI's last-resort masker does not know.
 */
export function maskedError(error: unknown, secrets: ReadonlySet<string>): unknown {
  if (!(error instanceof Error) || secrets.size === 0) return error;
  error.message = maskSecrets(error.message, secrets);
  if (error.stack) error.stack = error.stack.split('\n').map((line) => maskSecrets(line, secrets)).join('\n');
  return error;
}

function required(value: string | undefined, why: string): string {
  if (value === undefined) throw new UsageError(why);
  return value;
}

/**
 * The whole pipeline in one call. With `fix: 'apply'` the plan is applied (when there is anything to apply)
 * and the machine scanned again: the result is the rescan's, with `applied` and the plan it came from.
 */
export async function run(options: RunOptions): Promise<RunResult> {
  const prepared = await prepareRun(options);
  const result = await prepared.check();
  if (options.fix !== 'apply' || !result.plan || result.plan.planned.length === 0) return result;
  const applied = prepared.apply(result);
  return { ...(await prepared.check(false)), plan: result.plan, applied };
}

export interface SnapshotResult {
  /** what the manifest says of its hashing: files hashed, skipped by reason, the budget */
  hashing: ManifestHashing;
  /** where it was written */
  file: string;
  /** the state dirs found, and the files and dirs listed in them */
  stateDirs: number;
  entries: number;
}

/** `snapshot`: scans this machine and writes its manifest (no secret values), mode 0600. */
export async function snapshot(options: MachineOptions & { out: string; hash?: boolean }): Promise<SnapshotResult> {
  const cwd = options.cwd ?? process.cwd();
  const scanned = await scanMachine({ ...scanOptionsOf(options, cwd, options.env ?? process.env), fileIdentities: options.hash !== false });
  const { writeSnapshot } = await import('./manifest/snapshot.js');
  const file = path.resolve(cwd, options.out);
  const { hashing } = await writeSnapshot(file, scanned, { hash: options.hash !== false, ...(options.progress ? { progress: options.progress } : {}) });
  const installs = scanned.machine.homes.flatMap((home) => home.installs).filter((install) => install.inventory.exists);
  return { hashing, file, stateDirs: installs.length, entries: installs.reduce((sum, install) => sum + install.inventory.entries.length, 0) };
}
