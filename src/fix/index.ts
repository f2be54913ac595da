// The only code that writes to the scanned machine. It applies the typed actions findings carry
// (chmod, chown, mkdir) and nothing else: it never deletes, never opens a file's contents, never
// follows a symlink, never acts outside a state dir, workspace or backup the scan found, and checks
// every action before applying any, so a missing permission stops it before it half-applies.
import fs from 'node:fs';
import path from 'node:path';
import { RAW_ACTIONS, type WithRawActions } from '../engine.js';
import type { FixAction, Machine, Report } from '../model.js';

export class FixError extends Error {}

export interface PlannedFix {
  action: FixAction;
  /** the shell command that does the same */
  command: string;
  ruleId: string;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function quote(word: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandOf(action: FixAction): string {
  switch (action.kind) {
    case 'chmod':
      return `chmod ${octal(action.mode ?? 0)} ${quote(action.path)}`;
    case 'chown':
      return `chown -h${action.recursive ? 'R' : ''} ${action.uid}:${action.gid} ${quote(action.path)}`;
    case 'mkdir':
      return `mkdir -m ${octal(action.mode ?? 0o700)} ${quote(action.path)}`;
  }
}

/** Every action of the report's findings, in report order, each once. `--fix-dry-run` prints exactly this. */
export function planFixes(report: Report): PlannedFix[] {
  const seen = new Set<string>();
  const plan: PlannedFix[] = [];
  for (const finding of report.findings) {
    const shown = finding.fix?.actions ?? [];
    // the real paths, for applying; the shown (masked) ones, for printing
    const raw = (finding as WithRawActions)[RAW_ACTIONS] ?? shown;
    raw.forEach((action, index) => {
      const key = JSON.stringify(action);
      if (seen.has(key)) return;
      seen.add(key);
      plan.push({ action, command: commandOf(shown[index] ?? action), ruleId: finding.ruleId });
    });
  }
  return plan;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.posix.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.posix.isAbsolute(relative));
}

/** The places a fix may touch: the state dirs, workspaces and backups the scan found. */
export function allowedRoots(machine: Machine): string[] {
  const roots: string[] = [];
  for (const home of machine.homes) {
    for (const install of home.installs) {
      if (install.inventory.exists) roots.push(install.stateDir);
      for (const workspace of install.workspaces) if (workspace.inventory.exists) roots.push(workspace.path);
    }
  }
  for (const archive of machine.archives) roots.push(archive.path);
  return roots;
}

function hostOf(machine: Machine, machinePath: string): string {
  return machine.root === '/' ? machinePath : path.join(machine.root, machinePath);
}

/** Refuses a path outside the allowed roots, or one reached through a symlink below its root. */
function checkPath(machine: Machine, roots: string[], target: string): void {
  const root = roots.filter((candidate) => isInside(target, candidate)).sort((a, b) => b.length - a.length)[0];
  if (!root) throw new FixError(`refusing to touch ${target}: it is not inside a state dir, workspace or backup that was scanned`);
  let current = root;
  for (const part of path.posix.relative(root, target).split('/').filter(Boolean)) {
    current = path.posix.join(current, part);
    if (fs.lstatSync(hostOf(machine, current)).isSymbolicLink()) throw new FixError(`refusing to touch ${target}: ${current} is a symlink`);
  }
}

function checkPermission(action: FixAction, stat: fs.Stats, uid: number): void {
  if (uid === 0) return;
  if (action.kind === 'chown' && (action.uid !== uid || stat.uid !== uid || action.recursive)) {
    throw new FixError(`cannot change the owner of ${action.path} as uid ${uid}: run the fix as root (sudo), or run the command shown`);
  }
  if (action.kind === 'chmod' && stat.uid !== uid) {
    throw new FixError(`cannot chmod ${action.path}: it belongs to uid ${stat.uid}, not to you (uid ${uid}); run the fix as root`);
  }
}

/** Checks every action first; throws FixError before anything is changed. */
export function preflight(machine: Machine, plan: PlannedFix[], uid: number): void {
  const roots = allowedRoots(machine);
  for (const { action } of plan) {
    if (action.kind === 'mkdir') {
      checkPath(machine, roots, path.posix.dirname(action.path));
      continue;
    }
    checkPath(machine, roots, action.path);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(hostOf(machine, action.path));
    } catch {
      throw new FixError(`cannot fix ${action.path}: it no longer exists`);
    }
    if (stat.isSymbolicLink()) throw new FixError(`refusing to touch ${action.path}: it is a symlink`);
    checkPermission(action, stat, uid);
  }
}

/** chmod through a descriptor opened with O_NOFOLLOW: a path swapped for a symlink is never followed. */
function chmodNoFollow(hostPath: string, mode: number): boolean {
  const fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    const before = fs.fstatSync(fd).mode & 0o7777;
    if (before === mode) return false;
    fs.fchmodSync(fd, mode);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

function chownTree(hostPath: string, uid: number, gid: number, recursive: boolean): number {
  let changed = 0;
  const visit = (current: string): void => {
    const stat = fs.lstatSync(current);
    if (stat.uid !== uid || stat.gid !== gid) {
      fs.lchownSync(current, uid, gid);
      changed += 1;
    }
    if (recursive && stat.isDirectory()) for (const name of fs.readdirSync(current)) visit(path.join(current, name));
  };
  visit(hostPath);
  return changed;
}

export interface AppliedFix extends PlannedFix {
  changed: number;
}

/** Applies the plan (after preflight). Running it twice changes nothing the second time. */
export function applyFixes(machine: Machine, plan: PlannedFix[], uid = process.getuid?.() ?? 0): AppliedFix[] {
  preflight(machine, plan, uid);
  const applied: AppliedFix[] = [];
  for (const item of plan) {
    const { action } = item;
    const hostPath = hostOf(machine, action.path);
    let changed = 0;
    if (action.kind === 'chmod') changed = chmodNoFollow(hostPath, action.mode ?? 0o600) ? 1 : 0;
    else if (action.kind === 'chown') changed = chownTree(hostPath, action.uid ?? uid, action.gid ?? uid, action.recursive === true);
    else if (!fs.existsSync(hostPath)) {
      fs.mkdirSync(hostPath, { mode: action.mode ?? 0o700 });
      changed = 1;
    }
    applied.push({ ...item, changed });
  }
  return applied;
}
