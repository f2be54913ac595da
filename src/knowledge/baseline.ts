// Pure helpers the baseline rules share: the hashes a baseline's entries carry, which inventories of a baseline
// install correspond to which inventories here, and whether a file that differs was damaged on the way or
// simply written since. A baseline is a Machine read from a snapshot manifest (manifest/) or a backup archive.
import type { FileEntry, FileInventory, Machine } from '../model.js';
import { matchWorkspaces, workspaceInsideState, type InstallMatch } from './baseline-match.js';
import { APPEND_ONLY } from './layout.js';
import { maskSecrets } from './mask.js';

/** Why a regular file of an inventory carries no sha256. */
export type HashSkipReason =
  /** the file holds a secret (config and its includes, .env, credentials, auth profiles, identity, devices): a hash could confirm a guess offline */
  | 'secret'
  /** its size or type changed between the scan and the hashing (the gateway was writing it) */
  | 'changed'
  /** it could not be opened or read (permissions, vanished) */
  | 'unreadable'
  /** at hashing time it was no regular file any more (swapped for a FIFO, device or symlink) */
  | 'not-regular'
  /** mostly holes (allocated blocks far below its size): hashing it would read zeros for hours; compared by size */
  | 'sparse'
  /** bigger than the per-file hashing cap (MAX_HASHED_BYTES): compared by size */
  | 'too-big';

export const HASH_SKIP_REASONS: readonly HashSkipReason[] = ['secret', 'changed', 'unreadable', 'not-regular', 'sparse', 'too-big'];

/**
 * A FileEntry as a manifest carries it. Until the model grows these two optional fields, a Machine read
 * from a manifest holds them on its entries without the type saying so: read them with sha256Of/hashSkippedOf.
 */
export interface HashedFileEntry extends FileEntry {
  /** lower-case hex sha256 of the file's bytes */
  sha256?: string;
  hashSkipped?: HashSkipReason;
}

/** The sha256 a manifest (or hashForBaseline) recorded for this entry, if any. */
export function sha256Of(entry: FileEntry): string | undefined {
  const value = (entry as HashedFileEntry).sha256;
  return typeof value === 'string' ? value : undefined;
}

export function hashSkippedOf(entry: FileEntry): HashSkipReason | undefined {
  return (entry as HashedFileEntry).hashSkipped;
}

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

/** a dir with more names than this is not searched for the shape of a masked name (bounded work) */
const MAX_SHAPE_CANDIDATES = 2000;
const MASK = /(?:[A-Za-z0-9_.-]{0,12}…)?\[masked\]/;

function dirOf(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash < 0 ? '' : name.slice(0, slash);
}

/** `notes-[masked].txt` → /^notes-[^/]+\.txt$/: a masked base name as a pattern of the names it may stand for */
function shapeOf(name: string): RegExp {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const literal = base.split(new RegExp(MASK.source)).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${literal.join('[^/]+')}$`);
}

/**
 * A manifest writes names through the masker (`ghp_….json` is `ghp_…[masked].json` there, a name holding a
 * known secret of the old scan `notes-[masked].txt`), so the maps of the comparison also match masked names:
 * a masked name finds the entry here whose masked name is the same, else the one entry of its dir with that
 * shape; a name here finds the masked baseline entry of its shape. All of it is built only on a miss that
 * needs it, per dir and bounded.
 */
class EntryMap extends Map<string, FileEntry> {
  private masked: Map<string, FileEntry> | undefined;
  private dirs: Map<string, string[]> | undefined;
  private anyMasked: boolean | undefined;

  override get(name: string): FileEntry | undefined {
    const found = super.get(name);
    if (found !== undefined) return found;
    return name.includes('[masked]') ? this.byMaskedName(name) : this.byShape(name);
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  private byMaskedName(name: string): FileEntry | undefined {
    if (!this.masked) {
      this.masked = new Map();
      for (const [key, entry] of super.entries()) {
        const masked = maskSecrets(key, [], { randomLooking: false });
        if (masked !== key && !this.masked.has(masked)) this.masked.set(masked, entry);
      }
    }
    const exact = this.masked.get(name);
    if (exact !== undefined || dirOf(name).includes('[masked]')) return exact;
    const shape = shapeOf(name);
    const matches = this.namesIn(dirOf(name)).filter((candidate) => !candidate.includes('[masked]') && shape.test(candidate.slice(candidate.lastIndexOf('/') + 1)));
    return matches.length === 1 ? super.get(matches[0]!) : undefined;
  }

  /** a plain name here, looked up among a manifest's entries (a map without masked names: a plain miss) */
  private byShape(name: string): FileEntry | undefined {
    this.anyMasked ??= [...super.keys()].some((key) => key.includes('[masked]'));
    if (!this.anyMasked) return undefined;
    const masked = maskSecrets(name, [], { randomLooking: false });
    if (masked !== name && super.has(masked)) return super.get(masked);
    const base = name.slice(name.lastIndexOf('/') + 1);
    const matches = this.namesIn(dirOf(name)).filter((candidate) => candidate.includes('[masked]') && shapeOf(candidate).test(base));
    return matches.length === 1 ? super.get(matches[0]!) : undefined;
  }

  private namesIn(dir: string): string[] {
    if (!this.dirs) {
      this.dirs = new Map();
      for (const key of super.keys()) {
        const list = this.dirs.get(dirOf(key));
        if (list) list.push(key);
        else this.dirs.set(dirOf(key), [key]);
      }
    }
    const names = this.dirs.get(dir) ?? [];
    return names.length > MAX_SHAPE_CANDIDATES ? [] : names;
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
