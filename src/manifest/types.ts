// The snapshot manifest: a Machine written to disk (masked) with the sha256 of every secret-free regular file of each
// install's and workspace's inventory, and no secret value. The schema is documented in README.md here.
import type { HashSkipReason } from '../knowledge/baseline.js';
import type { Machine, MoveItem } from '../model.js';

/** The manifest format this build writes and the newest it reads. */
export const MANIFEST_VERSION = 1;

export interface ManifestHashing {
  algorithm: 'sha256';
  /** false when written with `hash: false`, or when the scanned root is no directory (an archive) */
  enabled: boolean;
  /** regular files hashed, and their bytes */
  files: number;
  bytes: number;
  /** regular files left without a hash, by reason */
  skipped: Record<HashSkipReason, number>;
  /**
   * the bytes hashing may read in all (maxBytes), and the regular files left without a hash past it (each
   * inode once, with their bytes): they carry neither sha256 nor hashSkipped. Absent in manifests written before it.
   */
  budget?: { maxBytes: number; cutFiles: number; cutBytes: number };
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
