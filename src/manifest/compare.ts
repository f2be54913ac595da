// Pure helpers the baseline rules share: which inventories of a baseline install correspond to which
// inventories here, and whether a file that differs was damaged on the way or simply written since.
import type { FileEntry, FileInventory, Machine } from '../model.js';
import { matchWorkspaces, workspaceInsideState, type InstallMatch } from './match.js';
import { maskSecrets } from '../scan/secrets.js';

/** Dirs Resonix rebuilds, and logs/media: never part of "did the copy arrive". */
export const NOT_COPIED = /^(cache|plugin-skills|npm|tmp|tools|logs|media)(\/|$)|^extensions\/[^/]+\/node_modules(\/|$)/;

/** Files that come and go while a gateway runs: SQLite sidecars and journals, locks, re-index temp DBs. */
export const TRANSIENT = /(-wal|-shm|-journal|\.lock|\.lock\.sqlite)$|\.memory-reindex-|\.reindex-lock\./;

/** Files only ever appended to: one shorter than in the baseline lost data, whenever it was written. */
export const APPEND_ONLY = /\.jsonl$/;

export interface InventoryPair {
  kind: 'state' | 'workspace';
  baseline: FileInventory;
  /** the inventory here; undefined (or exists: false) when it did not arrive */
  current?: FileInventory;
  /** the agent id of a workspace */
  agentId?: string;
}

/** The state dir's inventory and those of the workspaces outside it (workspaces inside it are in the state inventory). */
export function inventoryPairs(match: InstallMatch): InventoryPair[] {
  const pairs: InventoryPair[] = [{ kind: 'state', baseline: match.baseline.inventory, ...(match.current ? { current: match.current.inventory } : {}) }];
  for (const pair of matchWorkspaces(match.baseline, match.current, match.homeMap)) {
    if (workspaceInsideState(match.baseline, pair.baseline)) continue;
    pairs.push({
      kind: 'workspace',
      baseline: pair.baseline.inventory,
      agentId: pair.baseline.agentId,
      ...(pair.current && !(match.current && workspaceInsideState(match.current, pair.current)) ? { current: pair.current.inventory } : {}),
    });
  }
  return pairs;
}

/**
 * A manifest writes names through the masker (a file named `ghp_….json` is `ghp_…[masked].json` there), so
 * a name with `[masked]` in it is also looked up among the masked names of the entries here: the same file
 * matches its baseline entry, and a name here finds a manifest's masked entry. The masked index is built only
 * when such a name is asked for.
 */
class EntryMap extends Map<string, FileEntry> {
  private masked: Map<string, FileEntry> | undefined;

  override get(name: string): FileEntry | undefined {
    const found = super.get(name);
    if (found !== undefined) return found;
    if (name.includes('[masked]')) return this.maskedNames().get(name);
    // the other way round: a name here looked up in a manifest's entries (a miss only, so rare)
    const masked = maskSecrets(name);
    return masked !== name ? super.get(masked) : undefined;
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  private maskedNames(): Map<string, FileEntry> {
    if (!this.masked) {
      this.masked = new Map();
      for (const [name, entry] of super.entries()) {
        const masked = maskSecrets(name);
        if (masked !== name && !this.masked.has(masked)) this.masked.set(masked, entry);
      }
    }
    return this.masked;
  }
}

const filesCache = new WeakMap<FileInventory, ReadonlyMap<string, FileEntry>>();
const entriesCache = new WeakMap<FileInventory, ReadonlyMap<string, FileEntry>>();
const EMPTY: ReadonlyMap<string, FileEntry> = new Map();

/**
 * The regular files of an inventory by relative path. Built once per inventory object and shared by every
 * rule of a run (a Machine is not changed while rules run): with a baseline, several rules need the same maps.
 */
export function filesOf(inventory: FileInventory | undefined): ReadonlyMap<string, FileEntry> {
  if (!inventory?.exists) return EMPTY;
  let map = filesCache.get(inventory);
  if (!map) {
    const built = new EntryMap();
    for (const entry of inventory.entries) if (entry.type === 'file') built.set(entry.path, entry);
    filesCache.set(inventory, built);
    map = built;
  }
  return map;
}

/** Every entry of an inventory by relative path, built once per inventory object. */
export function entriesOf(inventory: FileInventory): ReadonlyMap<string, FileEntry> {
  let map = entriesCache.get(inventory);
  if (!map) {
    const built = new EntryMap();
    for (const entry of inventory.entries) built.set(entry.path, entry);
    map = built;
    entriesCache.set(inventory, map);
  }
  return map;
}

/** When the baseline was taken (ms), or undefined when it does not say. */
export function snapshotTime(baseline: Machine): number | undefined {
  const time = Date.parse(baseline.scannedAt);
  return Number.isNaN(time) ? undefined : time;
}

/** mtimes closer than this are the same (tar keeps seconds). */
export const MTIME_SLACK_MS = 1000;

/**
 * A file that differs from the baseline but was written here after the snapshot (a running gateway, an
 * edit, a config rewrite) is not a copy problem — unless it is append-only and shorter.
 */
export function writtenSince(old: FileEntry, here: FileEntry, takenAt: number | undefined): boolean {
  if (takenAt === undefined) return false;
  if (here.mtimeMs <= takenAt + MTIME_SLACK_MS) return false;
  if (Math.abs(here.mtimeMs - old.mtimeMs) < MTIME_SLACK_MS) return false;
  return !(APPEND_ONLY.test(here.path) && here.size < old.size);
}
