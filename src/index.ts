// The library API: scan a machine, run the rules, format a report.
export * from './model.js';
export { scanMachine, type ScanOptions, type ScanResult } from './scan/index.js';
export { runRules, failsRun, type EngineOptions } from './engine.js';
export { builtinRules, findRule } from './rules/index.js';
export { formatJson } from './reporters/json.js';
export { formatPretty } from './reporters/pretty.js';
export { main } from './cli.js';
