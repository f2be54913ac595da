// This tool's own config, found by cosmiconfig: resonix-migrate.config.{js,mjs,json}, .resonix-migraterc*,
// or the `resonix-migrate` key of package.json. Validated here so a typo is a clear error (exit 2).
// cosmiconfig (and its loaders) is imported only when a file it would read exists: most runs have no
// config, and loading it costs more than the existence checks (see bench/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchemaOfIds, schemaError, type SchemaError } from './config-schema.js';
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

/** The one message for a rule id nobody defines; `where` names the file and key, or the flag. */
export function unknownRule(id: string, where?: string): UsageError {
  return new UsageError(`${where ? `${where}: ` : ''}unknown rule "${id}" (resonix-migrate rules lists them)`);
}

/** The one check of rule ids against the rules there are: config keys, suppressions, --rule, --only, --skip. */
export function checkRuleIds(ids: Iterable<string>, known: ReadonlySet<string>, where?: string): void {
  for (const id of ids) if (!known.has(id)) throw unknownRule(id, where);
}

/**
 * Checks a config against its JSON schema (config-schema.ts, the one the package publishes) and says the first
 * problem in one line naming the file and key. Plugin rule ids (outside the built-in families) pass here and
 * are checked once the plugins are loaded (run.ts).
 */
export function validateConfig(raw: unknown, source: string, knownRuleIds: ReadonlySet<string>): ToolConfig {
  if (raw === null || raw === undefined) return emptyToolConfig();
  const schema = configSchemaOfIds(knownRuleIds);
  const error = schemaError(schema, raw);
  if (error) throw new UsageError(configMessage(error, raw, source, Object.keys(schema.properties!)));
  const record = raw as { rules?: Record<string, SeveritySetting>; archives?: string[]; suppressions?: Suppression[]; plugins?: string[] };
  const suppressions = (record.suppressions ?? []).map(({ rule, path: glob, reason, expires }) => ({ rule, path: glob, reason, ...(expires ? { expires } : {}) }));
  return { rules: { ...record.rules }, archives: record.archives ?? [], suppressions, plugins: record.plugins ?? [] };
}

/** What a schema error means, in the words the config's keys are written in. */
function configMessage(error: SchemaError, raw: unknown, source: string, keys: string[]): string {
  const [top, index, field] = error.at;
  if (top === undefined) return error.keyword === 'type' ? `${source}: the config must be an object` : `${source}: unknown key "${error.key}" (known: ${keys.join(', ')})`;
  if (top === '$schema') return `${source}: "$schema" must be a string (where an editor finds the schema)`;
  if (top === 'rules') {
    if (index === undefined && error.keyword === 'additionalProperties') return unknownRule(error.key!, source).message;
    return index === undefined ? `${source}: "rules" must map rule ids to severities` : `${source}: rule "${index}" must be off, info, warning or error`;
  }
  if (top === 'archives') return `${source}: "archives" must be a list of globs`;
  if (top === 'plugins') return `${source}: "plugins" must be a list of package names or paths`;
  if (index === undefined) return `${source}: "suppressions" must be a list of { rule, path, reason, expires? }`;
  const where = `${source}: suppressions[${index}]`;
  const key = field ?? error.key;
  if (key === undefined) return `${where} must be an object`;
  if (error.keyword === 'additionalProperties') return `${where}: unknown key "${key}"`;
  if (key === 'rule') {
    const rule = ((raw as { suppressions: Record<string, unknown>[] }).suppressions[index as number] ?? {}).rule;
    return typeof rule === 'string' && rule.includes('/') ? unknownRule(rule, where).message : `${where}: "rule" must be a rule id`;
  }
  if (key === 'path') return `${where}: "path" must be a glob`;
  if (key === 'reason') return `${where}: a "reason" is required`;
  return `${where}: "expires" must be a date YYYY-MM-DD`;
}

export function emptyToolConfig(): ToolConfig {
  return { rules: {}, archives: [], suppressions: [], plugins: [] };
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
