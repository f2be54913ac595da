// /etc/passwd and /etc/group as plain text: lines that do not parse are skipped, never fatal.
import type { GroupEntry, PasswdEntry } from '../model.js';

const ID = /^\d{1,10}$/;

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    // '+'/'-' lines are NIS compat entries, not accounts
    .filter((line) => line.trim() !== '' && !/^\s*[#+-]/.test(line))
    .map((line) => line.split(':'));
}

function id(field: string | undefined): number | undefined {
  if (field === undefined || !ID.test(field)) return undefined;
  const value = Number(field);
  return value <= 0xffffffff ? value : undefined;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const fields of lines(text)) {
    const [name, , uidField, gidField, , home] = fields;
    const uid = id(uidField);
    const gid = id(gidField);
    if (!name || uid === undefined || gid === undefined || home === undefined || fields.length < 6) continue;
    entries.push({ name, uid, gid, home });
  }
  return entries;
}

export function parseGroup(text: string): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const fields of lines(text)) {
    const [name, , gidField, memberField] = fields;
    const gid = id(gidField);
    if (!name || gid === undefined) continue;
    const members = (memberField ?? '')
      .split(',')
      .map((member) => member.trim())
      .filter((member) => member !== '');
    entries.push({ name, gid, members });
  }
  return entries;
}

/** gids of the groups that list `user` as a member, without the primary `gid`, sorted. */
export function supplementaryGroups(user: string, gid: number, groups: GroupEntry[]): number[] {
  const gids = new Set<number>();
  for (const group of groups) {
    if (group.gid !== gid && group.members.includes(user)) gids.add(group.gid);
  }
  return [...gids].sort((a, b) => a - b);
}
