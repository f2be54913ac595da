// The one place a Machine, its homes and their gateway users are assembled from the parts collected about
// them: the scan of a live machine or image (scan/index.ts) and the archive reader (archive/inspect.ts)
// both build theirs here, so the two Machines have the same shape and the same defaults.
import type { BackupArchive, GatewayLock, GatewayUser, GroupEntry, Home, Install, Machine, PasswdEntry, Resolution, Runtime, ScanProblem, ServiceUnit, StrayWorkspace } from '../model.js';
import { parseGroup, parsePasswd, supplementaryGroups } from './passwd.js';

/** /etc/passwd and /etc/group are read up to this size, on a machine and in an archive */
export const MAX_PASSWD_BYTES = 4 * 1024 * 1024;

/** The machine's users and groups from the text of its /etc/passwd and /etc/group (none when unread). */
export function usersOf(passwd: string | undefined, group: string | undefined): { users: PasswdEntry[]; groups: GroupEntry[] } {
  return { users: passwd !== undefined ? parsePasswd(passwd) : [], groups: group !== undefined ? parseGroup(group) : [] };
}

/** Who runs the gateway: `entry` is the user's passwd line when the machine has one for `uid`. */
export function gatewayUserOf(entry: PasswdEntry | undefined, uid: number, gid: number, groups: GroupEntry[], source: GatewayUser['source']): GatewayUser {
  return {
    ...(entry ? { name: entry.name } : {}),
    uid,
    gid,
    groups: entry ? [...new Set([gid, ...supplementaryGroups(entry.name, entry.gid, groups)])] : [gid],
    source,
  };
}

export interface HomeParts {
  path: string;
  exists: boolean;
  /** the home dir's owner, when the home was seen */
  owner?: { uid: number; gid: number };
  /** the owner's user name, when the machine's passwd names it */
  user?: string;
  resolution: Resolution;
  gatewayUser: GatewayUser;
  installs: Install[];
  services?: ServiceUnit[];
  locks?: GatewayLock[];
  workspaceDirs: StrayWorkspace[];
  gatewayEnvKeys?: string[];
  sudoUser?: string;
  oldHomes?: Home['oldHomes'];
}

export function assembleHome(parts: HomeParts): Home {
  return {
    path: parts.path,
    exists: parts.exists,
    ...(parts.owner ? { ownerUid: parts.owner.uid, ownerGid: parts.owner.gid } : {}),
    ...(parts.user !== undefined ? { user: parts.user } : {}),
    resolution: parts.resolution,
    gatewayUser: parts.gatewayUser,
    installs: parts.installs,
    services: parts.services ?? [],
    locks: parts.locks ?? [],
    workspaceDirs: parts.workspaceDirs,
    ...(parts.gatewayEnvKeys ? { gatewayEnvKeys: parts.gatewayEnvKeys } : {}),
    ...(parts.sudoUser !== undefined ? { sudoUser: parts.sudoUser } : {}),
    ...(parts.oldHomes && parts.oldHomes.length > 0 ? { oldHomes: parts.oldHomes } : {}),
  };
}

export interface MachineParts {
  /** 'image' for an image and for an archive: nothing of this host is in it */
  mode: Machine['mode'];
  /** '/' live; the ROOTFS or the archive's path otherwise */
  root: string;
  users: PasswdEntry[];
  groups: GroupEntry[];
  homes: Home[];
  archives: BackupArchive[];
  /** the process environment's keys (live only) */
  processEnvKeys?: string[];
  /** what the machine will run; an archive says nothing about it */
  runtime?: Runtime;
  problems: ScanProblem[];
}

export function assembleMachine(parts: MachineParts): Machine {
  return {
    schema: 1,
    mode: parts.mode,
    root: parts.root,
    platform: parts.mode === 'live' ? process.platform : 'linux',
    scannedAt: new Date().toISOString(),
    currentUid: process.getuid?.() ?? 0,
    users: parts.users,
    groups: parts.groups,
    homes: parts.homes,
    archives: parts.archives,
    processEnvKeys: parts.processEnvKeys ?? [],
    ...(parts.runtime ? { runtime: parts.runtime } : {}),
    problems: parts.problems,
  };
}
