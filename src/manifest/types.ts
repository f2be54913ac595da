// The snapshot manifest: a Machine written to disk (masked) with the sha256 of every secret-free regular file of each
// install's and workspace's inventory, and no secret value. The schema is documented in README.md here.
import type { FileEntry, Machine, MoveItem } from '../model.js';

/** The manifest format this build writes and the newest it reads. */
export const MANIFEST_VERSION = 1;

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

export interface ManifestHashing {
  algorithm: 'sha256';
  /** false when written with `hash: false`, or when the scanned root is no directory (an archive) */
  enabled: boolean;
  /** regular files hashed, and their bytes */
  files: number;
  bytes: number;
  /** regular files left without a hash, by reason */
  skipped: Record<HashSkipReason, number>;
}

export interface Manifest {
  /** the format version: 1 */
  manifest: 1;
  tool: { name: string; version: string };
  /** ISO time the manifest was written (the scan's own time is machine.scannedAt) */
  createdAt: string;
  /** the scanned Machine; file entries of install and workspace inventories carry sha256 / hashSkipped */
  machine: Machine;
  /** names of every uid and gid found on the inventories (and of the gateway users), by numeric id */
  owners: { users: Record<string, string>; groups: Record<string, string> };
  hashing: ManifestHashing;
  /** what the move must carry (the audit plan's list): every state dir with data, workspaces outside it, units, env files */
  move?: MoveItem[];
}

/** A manifest could not be read: the message is one line, fit for the user. */
export class ManifestError extends Error {
  constructor(message: string) {
    super(message.split('\n')[0]);
    this.name = 'ManifestError';
  }
}

/** The sha256 a manifest (or hashForBaseline) recorded for this entry, if any. */
export function sha256Of(entry: FileEntry): string | undefined {
  const value = (entry as HashedFileEntry).sha256;
  return typeof value === 'string' ? value : undefined;
}

export function hashSkippedOf(entry: FileEntry): HashSkipReason | undefined {
  return (entry as HashedFileEntry).hashSkipped;
}
