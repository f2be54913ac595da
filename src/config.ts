// This tool's own config, found by cosmiconfig: resonix-migrate.config.{js,mjs,json}, .resonix-migraterc*,
// or the `resonix-migrate` key of package.json. Validated here so a typo is a clear error (exit 2).
import { cosmiconfig } from 'cosmiconfig';
import type { SeveritySetting } from './model.js';

export interface ToolConfig {
  /** rule id → severity or 'off' */
  rules: Record<string, SeveritySetting>;
  /** extra globs where backup archives may be */
  archives: string[];
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
const KNOWN_KEYS = new Set(['rules', 'archives']);

export function validateConfig(raw: unknown, source: string, knownRuleIds: ReadonlySet<string>): ToolConfig {
  if (raw === null || raw === undefined) return { rules: {}, archives: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${source}: the config must be an object`);
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) if (!KNOWN_KEYS.has(key)) throw new UsageError(`${source}: unknown key "${key}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  const rules: Record<string, SeveritySetting> = {};
  if (record.rules !== undefined) {
    if (typeof record.rules !== 'object' || record.rules === null || Array.isArray(record.rules)) throw new UsageError(`${source}: "rules" must map rule ids to severities`);
    for (const [id, value] of Object.entries(record.rules as Record<string, unknown>)) {
      if (!knownRuleIds.has(id)) throw new UsageError(`${source}: unknown rule "${id}" (resonix-migrate rules lists them)`);
      if (typeof value !== 'string' || !SEVERITIES.has(value)) throw new UsageError(`${source}: rule "${id}" must be off, info, warning or error`);
      rules[id] = value as SeveritySetting;
    }
  }
  const archives = record.archives ?? [];
  if (!Array.isArray(archives) || archives.some((item) => typeof item !== 'string')) throw new UsageError(`${source}: "archives" must be a list of globs`);
  return { rules, archives: archives as string[] };
}

export async function loadToolConfig(options: { explicitPath?: string; cwd: string; knownRuleIds: ReadonlySet<string> }): Promise<ToolConfig> {
  const explorer = cosmiconfig('resonix-migrate', { searchPlaces: SEARCH_PLACES, stopDir: options.cwd });
  let result;
  try {
    result = options.explicitPath ? await explorer.load(options.explicitPath) : await explorer.search(options.cwd);
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`cannot read this tool's config${options.explicitPath ? ` ${options.explicitPath}` : ''}: ${message}`);
  }
  if (!result) return { rules: {}, archives: [] };
  return { ...validateConfig(result.config, result.filepath, options.knownRuleIds), filepath: result.filepath };
}
