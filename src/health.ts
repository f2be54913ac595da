// resonix-migrate's rules as Resonix doctor health checks (the plugin SDK's contract, reference §13):
// one check per rule, `resonix-migrate/<rule id>`, kind 'plugin'. The state dir is the one Resonix
// itself resolves from the context (ctx.env, else process.env; ctx.configPath; ctx.cwd), and all checks
// of one run share one scan: the first check of a run scans, the others read its report.
//
// The SDK is not a dependency: the types below are the contract's shape, so a host passes its own
// registerHealthCheck and ctx.
import { createHash } from 'node:crypto';
import { CHECK_ID_PREFIX, doctorFindingOf } from './doctor-lint-shape.js';
import { runRules } from './engine.js';
import type { Finding, Report, Rule, Severity } from './model.js';
import { builtinRules } from './rules/index.js';
import { scanMachine, type ScanOptions, type ScanResult } from './scan/index.js';

/** What Resonix passes to detect() (the fields this module reads). */
export interface HealthCheckContext {
  mode?: 'doctor' | 'lint' | 'fix';
  cfg?: unknown;
  configPath?: string;
  cwd?: string;
  /** may be undefined: then process.env is what Resonix runs with */
  env?: Record<string, string | undefined>;
}

export interface HealthFinding {
  checkId: string;
  severity: Severity;
  message: string;
  source?: string;
  /** the file or dir the finding is about, else its state dir: a machine path (Resonix's own checks put config keys here) */
  path?: string;
  line?: number;
  column?: number;
  fixHint?: string;
}

export interface HealthCheck {
  id: string;
  kind: 'core' | 'plugin';
  description: string;
  source?: string;
  detect(ctx: HealthCheckContext, scope?: unknown): Promise<HealthFinding[]>;
}

export type RegisterHealthCheck = (check: HealthCheck) => unknown;

export const CHECK_PREFIX = CHECK_ID_PREFIX;
const SOURCE = 'resonix-migrate';
/** A run whose checks did not all ask (an `--only` selection) is not reused after this long. */
const RUN_TTL_MS = 60_000;

export interface HealthChecksOptions {
  /** the scanner (tests count its calls); default scanMachine */
  scan?: (options: ScanOptions) => Promise<ScanResult>;
  rules?: readonly Rule[];
  now?: () => number;
}

/** The environment a Resonix process has, with the context's config path where the env names none. */
export function resonixEnv(ctx: HealthCheckContext): Record<string, string | undefined> {
  const env = { ...(ctx.env ?? process.env) };
  if (ctx.configPath && !env.RESONIX_CONFIG_PATH?.trim()) env.RESONIX_CONFIG_PATH = ctx.configPath;
  return env;
}

/** What decides what a scan sees: the same key, the same scan. */
export function runKey(ctx: HealthCheckContext): string {
  const env = resonixEnv(ctx);
  const entries = Object.keys(env)
    .filter((key) => env[key] !== undefined)
    .sort()
    .map((key) => [key, env[key]]);
  return createHash('sha256').update(JSON.stringify([ctx.cwd ?? '', entries])).digest('hex');
}

/** A finding as `--format doctor-lint` prints it (doctorFindingOf), with this package as its source. */
export function toHealthFinding(finding: Finding, rule?: Rule): HealthFinding {
  const { checkId, severity, message, ...rest } = doctorFindingOf(finding, rule);
  return { checkId, severity, message, source: SOURCE, ...rest };
}

/** Rules that can speak on the machine doctor runs on: verify rules that need no baseline. */
function doctorRules(rules: readonly Rule[]): Rule[] {
  return rules.filter((rule) => rule.meta.phases.includes('verify') && !rule.meta.needsBaseline);
}

export function createHealthChecks(options: HealthChecksOptions = {}): HealthCheck[] {
  const scan = options.scan ?? scanMachine;
  const now = options.now ?? Date.now;
  const rules = doctorRules(options.rules ?? builtinRules);
  // run key → the report of that run, and which checks have read it: a check that asks again starts a new run
  const runs = new Map<string, { report: Promise<Report>; readBy: Set<string>; startedAt: number }>();

  const reportFor = (ctx: HealthCheckContext, checkId: string): Promise<Report> => {
    const key = runKey(ctx);
    let run = runs.get(key);
    if (!run || run.readBy.has(checkId) || now() - run.startedAt > RUN_TTL_MS) {
      const env = resonixEnv(ctx);
      const report = scan({ mode: 'live', root: '/', env, ...(ctx.cwd ? { cwd: ctx.cwd } : {}) }).then(({ machine, secrets }) =>
        runRules({ phase: 'verify', machine, rules, secrets }),
      );
      run = { report, readBy: new Set(), startedAt: now() };
      runs.set(key, run);
    }
    run.readBy.add(checkId);
    const report = run.report;
    if (run.readBy.size === rules.length) runs.delete(key);
    // a failed scan is not kept for the next run
    report.catch(() => runs.get(key)?.report === report && runs.delete(key));
    return report;
  };

  return rules.map((rule): HealthCheck => {
    const id = `${CHECK_PREFIX}${rule.meta.id}`;
    return {
      id,
      kind: 'plugin',
      description: rule.meta.title,
      source: SOURCE,
      async detect(ctx: HealthCheckContext = {}): Promise<HealthFinding[]> {
        const report = await reportFor(ctx, id);
        return report.findings.filter((finding) => finding.ruleId === rule.meta.id).map((finding) => toHealthFinding(finding, rule));
      },
    };
  });
}

/** One check per rule, sharing one scan per run. */
export const healthChecks: HealthCheck[] = createHealthChecks();

/** For a host that hands over its registerHealthCheck (the SDK's, or a plugin's `api.registerHealthCheck`). */
export function registerHealthChecks(register: RegisterHealthCheck, checks: readonly HealthCheck[] = healthChecks): void {
  for (const check of checks) register(check);
}
