// This tool's own config, found by cosmiconfig: resonix-migrate.config.{js,mjs,json}, .resonix-migraterc*,
// or the `resonix-migrate` key of package.json. Validated here so a typo is a clear error (exit 2).
// cosmiconfig (and its loaders) is imported only when a file it would read exists: most runs have no
// config, and loading it costs more than the existence checks (see bench/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Suppression } from './gate.js';
import type { SeveritySetting } from './model.js';

export interface ToolConfig {
  /** rule id → severity or 'off' */
  rules: Record<string, SeveritySetting>;
  /** extra globs where backup archives may be */
  archives: string[];
  /** findings to stop failing on, each with a reason (and maybe an expiry date) */
  suppressions: Suppression[];
  /** rule modules from outside: package names or paths (relative to the config file) */
  plugins: string[];
  /** the file the config came from */
  filepath?: string;
}

export class UsageError extends Error {}

const SEARCH_PLACES = [
  'package.json',
  '.resonix-migraterc',
  '.resonix-migraterc.json',
  '.resonix-migraterc.yaml',
  '.resonix-migraterc.yml',
  '.resonix-migraterc.js',
  '.resonix-migraterc.mjs',
  'resonix-migrate.config.json',
  'resonix-migrate.config.js',
  'resonix-migrate.config.mjs',
];

const SEVERITIES = new Set(['off', 'info', 'warning', 'error']);
// $schema: an editor's pointer to resonix-migrate.schema.json, ignored here
const KNOWN_KEYS = new Set(['$schema', 'rules', 'archives', 'suppressions', 'plugins']);

export function validateConfig(raw: unknown, source: string, knownRuleIds: ReadonlySet<string>): ToolConfig {
  if (raw === null || raw === undefined) return emptyToolConfig();
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${source}: the config must be an object`);
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!KNOWN_KEYS.has(key)) throw new UsageError(`${source}: unknown key "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  const rules: Record<string, SeveritySetting> = {};
  if (record.rules !== undefined) {
    if (typeof record.rules !== 'object' || record.rules === null || Array.isArray(record.rules)) throw new UsageError(`${source}: "rules" must map rule ids to severities`);
    for (const [id, value] of Object.entries(record.rules as Record<string, unknown>)) {
      // plugin rules are checked once the plugins are loaded (see plugins.ts)
      if (!knownRuleIds.has(id) && !isPluginRuleId(id, knownRuleIds)) throw new UsageError(`${source}: unknown rule "${id}" (resonix-migrate rules lists them)`);
      if (typeof value !== 'string' || !SEVERITIES.has(value)) throw new UsageError(`${source}: rule "${id}" must be off, info, warning or error`);
      rules[id] = value as SeveritySetting;
    }
  }
  const archives = record.archives ?? [];
  if (!Array.isArray(archives) || archives.some((item) => typeof item !== 'string')) throw new UsageError(`${source}: "archives" must be a list of globs`);
  const plugins = record.plugins ?? [];
  if (!Array.isArray(plugins) || plugins.some((item) => typeof item !== 'string')) throw new UsageError(`${source}: "plugins" must be a list of package names or paths`);
  return { rules, archives: archives as string[], suppressions: validateSuppressions(record.suppressions, source, knownRuleIds), plugins: plugins as string[] };
}

export function emptyToolConfig(): ToolConfig {
  return { rules: {}, archives: [], suppressions: [], plugins: [] };
}

function validateSuppressions(raw: unknown, source: string, knownRuleIds: ReadonlySet<string>): Suppression[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new UsageError(`${source}: "suppressions" must be a list of { rule, path, reason, expires? }`);
  return raw.map((item: unknown, index) => {
    const where = `${source}: suppressions[${index}]`;
    if (typeof item !== 'object' || item === null) throw new UsageError(`${where} must be an object`);
    const { rule, path: glob, reason, expires, ...rest } = item as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new UsageError(`${where}: unknown key "${Object.keys(rest)[0]}"`);
    if (typeof rule !== 'string' || (rule !== '*' && !knownRuleIds.has(rule) && !rule.includes('/'))) throw new UsageError(`${where}: "rule" must be a rule id`);
    if (typeof rule === 'string' && rule !== '*' && !knownRuleIds.has(rule) && !isPluginRuleId(rule, knownRuleIds)) throw new UsageError(`${where}: unknown rule "${rule}"`);
    if (typeof glob !== 'string' || glob === '') throw new UsageError(`${where}: "path" must be a glob`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new UsageError(`${where}: a "reason" is required`);
    if (expires !== undefined && (typeof expires !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(expires))) throw new UsageError(`${where}: "expires" must be a date YYYY-MM-DD`);
    return { rule, path: glob, reason, ...(expires ? { expires: expires as string } : {}) };
  });
}

/** An id outside the built-in families may belong to a plugin: checked when plugins load. */
export function isPluginRuleId(id: string, builtinIds: ReadonlySet<string>): boolean {
  const family = id.slice(0, id.lastIndexOf('/'));
  return family !== '' && ![...builtinIds].some((builtin) => builtin.startsWith(`${family}/`));
}

/** cosmiconfig's own meta-config places, looked up in process.cwd() whenever an explorer is made */
const META_SEARCH_PLACES = ['package.json', 'package.yaml', '.config'];

/** A package.json that cosmiconfig would skip: valid JSON, an object, without any of `keys`. */
function packageJsonWithout(file: string, keys: string[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && keys.every((key) => !Object.hasOwn(parsed as object, key));
}

/** Where cosmiconfig's 'global' search strategy looks last (env-paths' config dir, suffix ''). */
function globalConfigDir(): string {
  const name = 'resonix-migrate';
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Preferences', name);
  if (process.platform === 'win32') return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), name, 'Config');
  return path.join(process.env.XDG_CONFIG_HOME || path.join(home, '.config'), name);
}

/**
 * True when a search could not find anything: none of the files cosmiconfig would read exists (a
 * package.json counts only when it carries our key, or cosmiconfig's own). Errs towards "might": any
 * doubt hands the search to cosmiconfig, which then decides exactly as before.
 */
function nothingToFind(cwd: string): boolean {
  const present = (dir: string, places: string[], packageKeys: string[]): boolean =>
    places.some((place) => {
      const file = path.join(dir, place);
      if (!fs.existsSync(file)) return false;
      return place !== 'package.json' || !packageJsonWithout(file, packageKeys);
    });
  if (present(cwd, SEARCH_PLACES, ['resonix-migrate'])) return false;
  if (present(process.cwd(), META_SEARCH_PLACES, ['cosmiconfig'])) return false;
  return !fs.existsSync(globalConfigDir());
}

export async function loadToolConfig(options: { explicitPath?: string; cwd: string; knownRuleIds: ReadonlySet<string> }): Promise<ToolConfig> {
  if (!options.explicitPath && nothingToFind(options.cwd)) return emptyToolConfig();
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('resonix-migrate', { searchPlaces: SEARCH_PLACES, stopDir: options.cwd });
  let result;
  try {
    result = options.explicitPath ? await explorer.load(options.explicitPath) : await explorer.search(options.cwd);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`cannot read this tool's config${options.explicitPath ? ` ${options.explicitPath}` : ''}: ${message}`);
  }
  if (!result) return emptyToolConfig();
  return { ...validateConfig(result.config, result.filepath, options.knownRuleIds), filepath: result.filepath };
}
