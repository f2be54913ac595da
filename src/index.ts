// The library API. `run` is the whole pipeline in one call, as the CLI runs it; its parts are here too: scan a
// machine, run the rules, gate, plan and apply fixes, and format a report in any of the CLI's formats.
export * from './model.js';
export {
  run,
  prepareRun,
  snapshot,
  loadConfigAndRules,
  type RunOptions,
  type RunResult,
  type MachineOptions,
  type PreparedRun,
  type Setup,
  type FixPlan,
  type SnapshotResult,
} from './run.js';
export { formatters, FORMATS, type Format, type FormatOptions } from './reporters/index.js';
export { formatJson } from './reporters/json.js';
export { formatPretty } from './reporters/pretty.js';
export { failsGate, failsRun, applySuppressions, applyBaseline, makeBaseline, parseBaseline, BaselineError, type FailOn, type Suppression, type BaselineFile } from './gate.js';
export { planFixes, confinePlan, applyFixes, FixError, type PlannedFix, type RefusedFix, type AppliedFix } from './fix/index.js';
export { runRules, runRulesWithActions, type EngineOptions, type RuleRun, type RawActions, type ReportContext } from './engine.js';
export { builtinRules, findRule } from './rules/index.js';
export { scanMachine, UnknownUserError, type ScanOptions, type ScanResult } from './scan/index.js';
export { UsageError, type ToolConfig } from './config.js';
export { ManifestError, type Manifest } from './manifest/types.js';
export { main } from './cli.js';
