// What a parsed resonix.json says that matters for a move, without keeping any secret value.
import path from 'node:path';
import type { AgentConfig, ConfigPath, ConfigSummary } from '../model.js';
import { credentialSpans } from '../knowledge/mask.js';
import { secretArgValues } from './secrets.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SECRET_KEY = /(token|secret|password|passwd|apikey|api_key|privatekey|private_key|credential)$/i;
const ENV_REFERENCE = /(?<!\$)\$\{([A-Z_][A-Z0-9_]*)\}/g;
const PATH_LIKE = /^(~\/|~$|\/|[A-Za-z]:[\\/])/;

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function get(value: Json | undefined, ...keys: string[]): Json | undefined {
  let current = value;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function isSecretRef(value: Json): boolean {
  return isObject(value) && typeof value.source === 'string' && ['env', 'file', 'exec'].includes(value.source);
}

interface Walked {
  paths: ConfigPath[];
  envRefs: Set<string>;
  /** variable name → the first key whose value uses it */
  envRefKeys: Map<string, string>;
  inlineSecretKeys: string[];
  secretValues: string[];
  includes: string[];
}

function isEnvVarsKey(keyPath: string): boolean {
  return /^env\.(vars\.)?[A-Za-z_][A-Za-z0-9_]*$/.test(keyPath);
}

/** Real configs are a few levels deep; a hostile one 10k deep must not overflow the stack. */
const MAX_CONFIG_DEPTH = 64;

function walkStrings(value: Json, keyPath: string, out: Walked, depth = 0): void {
  if (depth > MAX_CONFIG_DEPTH) return;
  if (typeof value === 'string') {
    for (const match of value.matchAll(ENV_REFERENCE)) {
      out.envRefs.add(match[1]!);
      if (!out.envRefKeys.has(match[1]!)) out.envRefKeys.set(match[1]!, keyPath);
    }
    const lastKey = keyPath.split('.').pop() ?? '';
    const wholeReference = /^\$\{[A-Z_][A-Z0-9_]*\}$/.test(value);
    if ((SECRET_KEY.test(lastKey) || isEnvVarsKey(keyPath)) && !wholeReference && value !== '') {
      out.inlineSecretKeys.push(keyPath);
      out.secretValues.push(value);
      return;
    }
    // a command with arguments (`/usr/bin/mcp --pass X`), a URL with credentials: those parts are secrets too
    if (/\s/.test(value)) out.secretValues.push(...secretArgValues(value.split(/\s+/)));
    for (const span of credentialSpans(value)) {
      // known values are masked everywhere: a plain word from a query (`?mode=remote`) must not become one
      const part = value.slice(span.start, span.end);
      if (part.length >= 8 && /[^A-Za-z-]/.test(part)) out.secretValues.push(part);
    }
    if (PATH_LIKE.test(value)) out.paths.push({ key: keyPath, value });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => walkStrings(item, `${keyPath}[${index}]`, out, depth + 1));
    return;
  }
  if (!isObject(value)) return;
  if (isSecretRef(value)) {
    if (value.source === 'env' && typeof value.id === 'string') {
      out.envRefs.add(value.id);
      if (!out.envRefKeys.has(value.id)) out.envRefKeys.set(value.id, `${keyPath}.id`);
    }
    if (value.source === 'file' && typeof value.path === 'string') out.paths.push({ key: `${keyPath}.path`, value: value.path });
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = keyPath === '' ? key : `${keyPath}.${key}`;
    if (key === '$include') {
      const list = Array.isArray(child) ? child : [child];
      for (const item of list) if (typeof item === 'string') out.includes.push(item);
      continue;
    }
    walkStrings(child, childPath, out, depth + 1);
  }
}

/**
 * Agents looked at per config: each costs a workspace walk and findings of its own, and a config is written by
 * whoever owns the home. Past this many the rest are counted, not kept (`agentsOmitted`), and the scan says so.
 */
export const MAX_AGENTS = 1000;

/**
 * What an agent looked at costs in memory, counted in listed entries (~0.4 KB each, `--max-entries`): its
 * config, its workspace's facts and the findings about it came to 8–12 KB an agent, measured on `verify` of
 * 10,000 and 40,000 agents without the limit.
 */
export const ENTRIES_PER_AGENT = 30;

/**
 * The fewest agents any scan looks at: ~1 MB, well below what the process itself takes, as the first entry
 * of each tree is listed past the entry limit. Below it the cut would save nothing worth its cost: an agent
 * not looked at has its workspace unseen (a baseline's copy of it cannot be compared).
 */
export const MIN_AGENTS = 100;

/**
 * The agent limit of a scan whose entry limit is `maxEntries`: one agent per ENTRIES_PER_AGENT entries,
 * between MIN_AGENTS and MAX_AGENTS (the default 2,000,000 entries allows the full 1,000), so that
 * `--max-entries` bounds the memory a long `agents.list` takes as it bounds the trees'.
 */
export function agentLimit(maxEntries: number): number {
  return Math.max(MIN_AGENTS, Math.min(MAX_AGENTS, Math.floor(maxEntries / ENTRIES_PER_AGENT)));
}

function agentOf(id: string, item: Json | undefined): AgentConfig {
  return {
    id,
    ...(str(get(item, 'workspace')) ? { workspace: str(get(item, 'workspace'))! } : {}),
    ...(str(get(item, 'agentDir')) ? { agentDir: str(get(item, 'agentDir'))! } : {}),
    ...(get(item, 'default') === true ? { isDefault: true } : {}),
  };
}

function agentsOf(config: JsonObject, limit: number): { agents: AgentConfig[]; omitted: number } {
  const agents = get(config, 'agents');
  const list = get(agents, 'list');
  const result: AgentConfig[] = [];
  const ids = new Set<string>();
  let omitted = 0;
  const add = (id: string, item: Json | undefined): void => {
    if (ids.has(id)) return;
    ids.add(id);
    if (result.length < limit) result.push(agentOf(id, item));
    else omitted += 1;
  };
  if (Array.isArray(list)) {
    for (const item of list) {
      const id = str(get(item, 'id'));
      // a list keeps a repeated id as Resonix reads it; only `entries` dedupe against the list
      if (!id) continue;
      if (result.length < limit) {
        ids.add(id);
        result.push(agentOf(id, item));
      } else {
        omitted += 1;
      }
    }
  }
  const entries = get(agents, 'entries');
  if (isObject(entries)) for (const [id, item] of Object.entries(entries)) add(id, item);
  if (result.length > 0 && !result.some((agent) => agent.isDefault)) {
    const main = result.find((agent) => agent.id === 'main') ?? result[0]!;
    main.isDefault = true;
  }
  return { agents: result, omitted };
}

function channelsOf(config: JsonObject): string[] {
  const channels = get(config, 'channels');
  if (!isObject(channels)) return [];
  return Object.entries(channels)
    .filter(([, value]) => isObject(value) && value.enabled !== false)
    .map(([name]) => name)
    .sort();
}

function whatsappAccountsOf(config: JsonObject): ConfigSummary['whatsappAccounts'] {
  const whatsapp = get(config, 'channels', 'whatsapp');
  if (!isObject(whatsapp) || whatsapp.enabled === false) return [];
  const accounts = get(whatsapp, 'accounts');
  if (!isObject(accounts)) return [{ id: 'default' }];
  return Object.entries(accounts).map(([id, account]) => {
    const authDir = str(get(account, 'authDir'));
    return authDir ? { id, authDir } : { id };
  });
}

/** Removes user:password from a URL so it can be shown. */
export function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = url.search ? '?…' : '';
    return url.toString();
  } catch {
    return raw.replace(/\/\/[^/@]*@/, '//');
  }
}

export interface SummariseResult {
  summary: Omit<ConfigSummary, 'path' | 'exists' | 'size'>;
  secretValues: string[];
}

/** `maxAgents`: the scan's agent limit (agentLimit of its `--max-entries`) */
export function summariseConfig(parsed: unknown, maxAgents = MAX_AGENTS): SummariseResult {
  const config: JsonObject = isObject(parsed as Json) ? (parsed as JsonObject) : {};
  const walked: Walked = { paths: [], envRefs: new Set(), envRefKeys: new Map(), inlineSecretKeys: [], secretValues: [], includes: [] };
  walkStrings(config, '', walked);
  const remoteUrl = str(get(config, 'gateway', 'remote', 'url'));
  const port = get(config, 'gateway', 'port');
  const agents = agentsOf(config, maxAgents);
  const summary: SummariseResult['summary'] = {
    ...(str(get(config, 'gateway', 'mode')) !== undefined ? { gatewayMode: str(get(config, 'gateway', 'mode'))! } : {}),
    ...(remoteUrl ? { remoteUrl: safeUrl(remoteUrl) } : {}),
    ...(typeof port === 'number' ? { port } : {}),
    ...(str(get(config, 'meta', 'lastTouchedVersion')) ? { lastTouchedVersion: str(get(config, 'meta', 'lastTouchedVersion'))! } : {}),
    ...(str(get(config, 'wizard', 'lastRunVersion')) ? { wizardLastRunVersion: str(get(config, 'wizard', 'lastRunVersion'))! } : {}),
    ...(str(get(config, 'agents', 'defaults', 'workspace'))
      ? { agentsDefaultWorkspace: str(get(config, 'agents', 'defaults', 'workspace'))! }
      : {}),
    agents: agents.agents,
    ...(agents.omitted > 0 ? { agentsOmitted: agents.omitted } : {}),
    channels: channelsOf(config),
    whatsappAccounts: whatsappAccountsOf(config),
    includes: walked.includes,
    envRefs: [...walked.envRefs].sort(),
    ...(walked.envRefKeys.size > 0 ? { envRefKeys: Object.fromEntries(walked.envRefKeys) } : {}),
    paths: walked.paths,
    inlineSecretKeys: walked.inlineSecretKeys,
  };
  return { summary, secretValues: walked.secretValues };
}

/** Keys whose place in the file a finding may name (see scan/config-keys.ts). */
export const LOCATED_KEYS: readonly string[] = [
  'gateway.mode',
  'gateway.port',
  'gateway.remote.url',
  'meta.lastTouchedVersion',
  'wizard.lastRunVersion',
  'agents.defaults.workspace',
  '$include',
];

/** Every key of a summary that a rule may report on. */
export function reportedKeys(summary: Pick<ConfigSummary, 'paths' | 'inlineSecretKeys' | 'envRefKeys'>): Set<string> {
  return new Set([...LOCATED_KEYS, ...summary.paths.map((item) => item.key), ...summary.inlineSecretKeys, ...Object.values(summary.envRefKeys ?? {})]);
}

export function emptyConfigSummary(configPath: string, exists: boolean): ConfigSummary {
  return { path: configPath, exists, agents: [], channels: [], whatsappAccounts: [], includes: [], envRefs: [], paths: [], inlineSecretKeys: [] };
}

export interface WorkspacePlan {
  agentId: string;
  path: string;
  source: 'config' | 'default';
}

/** Each agent's workspace as Resonix resolves it (reference §4). */
export function planWorkspaces(
  summary: Pick<ConfigSummary, 'agents' | 'agentsDefaultWorkspace' | 'gatewayMode'>,
  context: { home: string; stateDir: string; profile?: string; cwd?: string },
): WorkspacePlan[] {
  const expand = (value: string): string => {
    const withHome = value === '~' ? context.home : value.startsWith('~/') ? path.posix.join(context.home, value.slice(2)) : value;
    return path.posix.resolve(context.cwd ?? context.home, withHome);
  };
  const agents = summary.agents.length > 0 ? summary.agents : summary.gatewayMode === 'remote' ? [] : [{ id: 'main', isDefault: true }];
  return agents.map((agent: AgentConfig) => {
    if (agent.workspace) return { agentId: agent.id, path: expand(agent.workspace), source: 'config' as const };
    if (agent.isDefault) {
      if (summary.agentsDefaultWorkspace) return { agentId: agent.id, path: expand(summary.agentsDefaultWorkspace), source: 'config' as const };
      const name = context.profile ? `workspace-${context.profile}` : 'workspace';
      return { agentId: agent.id, path: path.posix.join(context.home, '.resonix', name), source: 'default' as const };
    }
    if (summary.agentsDefaultWorkspace) {
      return { agentId: agent.id, path: path.posix.join(expand(summary.agentsDefaultWorkspace), agent.id), source: 'config' as const };
    }
    return { agentId: agent.id, path: path.posix.join(context.stateDir, `workspace-${agent.id}`), source: 'default' as const };
  });
}
