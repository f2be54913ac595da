// One BackupArchive from a file's stat and its listing: the shape the live scan's archive finder and
// `inspect ARCHIVE` share. Pure.
import path from 'node:path';
import type { BackupArchive } from '../model.js';
import type { ArchiveInspection } from './list.js';

/** Dirs that are temporary on every machine; the scan's (or this host's) own TMPDIR is added to them. */
const TEMP_DIRS = ['/tmp', '/var/tmp', '/dev/shm'];

export function backupArchiveOf(
  machinePath: string,
  stat: { mode: number; uid: number; gid: number; size: number },
  listing: ArchiveInspection,
  facts: { holdsResonixState: boolean; secretMembers: string[]; keepMembers: boolean; tmpDir?: string },
): BackupArchive {
  const tempDirs = [...TEMP_DIRS, ...(facts.tmpDir ? [facts.tmpDir] : [])];
  return {
    path: machinePath,
    format: listing.format,
    encrypted: listing.encrypted,
    ...(listing.partlyEncrypted ? { partlyEncrypted: true } : {}),
    mode: stat.mode & 0o7777,
    uid: stat.uid,
    gid: stat.gid,
    size: stat.size,
    ...(listing.members && facts.keepMembers ? { members: listing.members } : {}),
    ...(listing.membersTruncated ? { membersTruncated: true } : {}),
    holdsResonixState: facts.holdsResonixState,
    ...(tempDirs.includes(path.posix.dirname(machinePath)) ? { inTempDir: true } : {}),
    secretMembers: facts.secretMembers,
    ...(listing.listError ? { listError: listing.listError } : {}),
  };
}
