// Rules from outside. A plugin is an ES module (a package name or a path, relative to the config file)
// that exports `name` and `rules`: rules with exactly the built-in shape ({ meta, check }), whose ids are
// namespaced `<name>/<rule>`. They run through the same engine, masking and reporters as built-in rules.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PLUGIN_SCHEMA, pluginRuleMetaSchema, schemaError } from './config-schema.js';
import { UsageError } from './config.js';
import type { Rule } from './model.js';
import { PHASES } from './model.js';

/** A rule of the plugin `name`, checked against its metadata schema (config-schema.ts): one-line messages. */
function validRule(rule: unknown, plugin: string, name: string, builtinFamilies: Set<string>): Rule {
  const candidate = rule as Rule;
  const where = `plugin ${plugin}`;
  if (!candidate?.meta || typeof candidate.check !== 'function') throw new UsageError(`${where}: every rule needs { meta, check }`);
  const { meta } = candidate;
  const error = schemaError(pluginRuleMetaSchema(name), meta);
  // the key at fault; none when meta itself is no object (then it has no id either)
  const key = error ? (error.at[0] ?? error.key ?? 'id') : undefined;
  if (key === 'id') throw new UsageError(`${where}: rule id "${String(meta.id)}" must be namespaced "${name}/<rule>"`);
  if (builtinFamilies.has(name)) throw new UsageError(`${where}: "${name}" is a built-in rule family`);
  if (key === 'severity') throw new UsageError(`${where}: ${meta.id} has severity "${String(meta.severity)}"`);
  if (key === 'phases') throw new UsageError(`${where}: ${meta.id} needs phases from ${PHASES.join(', ')}`);
  if (key !== undefined) throw new UsageError(`${where}: ${meta.id} needs meta.${key}`);
  return candidate;
}

export async function loadPlugins(specifiers: string[], options: { configFile?: string; cwd: string; builtin: readonly Rule[] }): Promise<Rule[]> {
  const base = options.configFile ? path.dirname(options.configFile) : options.cwd;
  const require = createRequire(path.join(base, 'noop.js'));
  const builtinFamilies = new Set(options.builtin.map((rule) => rule.meta.id.split('/')[0]!));
  const loaded: Rule[] = [];
  for (const specifier of specifiers) {
    const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
    let url: string;
    try {
      url = pathToFileURL(isPath ? path.resolve(base, specifier) : require.resolve(specifier)).href;
    } catch {
      throw new UsageError(`cannot find plugin "${specifier}" (from ${base})`);
    }
    let module: { name?: unknown; rules?: unknown; default?: { name?: unknown; rules?: unknown } };
    try {
      module = (await import(url)) as typeof module;
    } catch (error) {
      throw new UsageError(`cannot load plugin "${specifier}": ${(error as Error).message.split('\n')[0]}`);
    }
    const exported = module.rules ? module : (module.default ?? {});
    const error = schemaError(PLUGIN_SCHEMA, { name: exported.name, rules: exported.rules });
    if (error?.at[0] === 'name' || error?.key === 'name') throw new UsageError(`plugin ${specifier} must export a lower-case "name"`);
    if (error) throw new UsageError(`plugin ${specifier} must export "rules", an array`);
    for (const rule of exported.rules as unknown[]) {
      const valid = validRule(rule, specifier, exported.name as string, builtinFamilies);
      if ([...options.builtin, ...loaded].some((other) => other.meta.id === valid.meta.id)) throw new UsageError(`plugin ${specifier}: rule id ${valid.meta.id} is taken`);
      loaded.push(valid);
    }
  }
  return loaded;
}
