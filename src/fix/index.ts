// The only code that writes to the scanned machine. It applies the typed actions findings carry
// (chmod, chown, mkdir) and nothing else: it never deletes, never opens a file's contents, never
// follows a symlink, never acts outside a state dir, workspace or backup the scan found, and checks
// every action before applying any, so a missing permission stops it before it half-applies.
import fs from 'node:fs';
import path from 'node:path';
import { RAW_ACTIONS, type WithRawActions } from '../engine.js';
import type { FixAction, Machine, Report } from '../model.js';
import { hostPathInRoot } from '../scan/links.js';

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

/** Two rules may ask for different modes on one path: the owner keeps what either grants, others get what both allow. */
function mergeModes(a: number, b: number): number {
  return ((a | b) & 0o7700) | (a & b & 0o077);
}

/**
 * Every action of the report's unsuppressed root findings (the safe part of the plan: a folded finding is
 * fixed through its cause), in report order, each path once (chmods on one path
 * merged). `--fix-dry-run` prints exactly this.
 */
export function planFixes(report: Report): PlannedFix[] {
  const plan: PlannedFix[] = [];
  const byKey = new Map<string, PlannedFix>();
  for (const finding of report.findings) {
    if (finding.suppressed || finding.causedBy) continue;
    const shown = finding.fix?.actions ?? [];
    // the real paths, for applying; the shown (masked) ones, for printing
    const raw = (finding as WithRawActions)[RAW_ACTIONS] ?? shown;
    raw.forEach((action, index) => {
      const display = shown[index] ?? action;
      const key = `${action.kind}\0${action.path}`;
      const earlier = byKey.get(key);
      if (earlier && action.kind === 'chmod' && earlier.action.mode !== action.mode) {
        const mode = mergeModes(earlier.action.mode ?? 0, action.mode ?? 0);
        earlier.action = { ...earlier.action, mode };
        earlier.command = commandOf({ ...display, mode });
        return;
      }
      if (earlier) return;
      const item = { action, command: commandOf(display), ruleId: finding.ruleId };
      byKey.set(key, item);
      plan.push(item);
    });
  }
  return plan;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.posix.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith('../') && !path.posix.isAbsolute(relative));
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
  return hostPathInRoot(machine.root, machinePath);
}

/**
 * Refuses a path outside the allowed roots, or one reached through a symlink below its root; in an image,
 * also one whose host path is not under ROOTFS.
 */
function checkPath(machine: Machine, roots: string[], target: string, shown: string): void {
  const root = roots.filter((candidate) => isInside(target, candidate)).sort((a, b) => b.length - a.length)[0];
  if (!root) throw new FixError(`refusing \`${shown}\`: the path is not inside a state dir, workspace or backup that was scanned`);
  if (machine.root !== '/' && !isInside(fs.realpathSync(path.dirname(hostOf(machine, target))), fs.realpathSync(machine.root))) {
    throw new FixError(`refusing \`${shown}\`: the path leads out of the image`);
  }
  let current = root;
  for (const part of path.posix.relative(root, target).split('/').filter(Boolean)) {
    current = path.posix.join(current, part);
    if (fs.lstatSync(hostOf(machine, current)).isSymbolicLink()) throw new FixError(`refusing \`${shown}\`: a component of the path is a symlink`);
  }
}

function checkPermission(action: FixAction, stat: fs.Stats, uid: number, shown: string): void {
  if (uid === 0) return;
  if (action.kind === 'chown' && (action.uid !== uid || stat.uid !== uid || action.recursive)) {
    throw new FixError(`cannot \`${shown}\` as uid ${uid}: run the fix as root (sudo), or run the command shown`);
  }
  if (action.kind === 'chmod' && stat.uid !== uid) {
    throw new FixError(`cannot \`${shown}\`: the path belongs to uid ${stat.uid}, not to you (uid ${uid}); run the fix as root`);
  }
}

/** Checks every action first; throws FixError before anything is changed. */
export function preflight(machine: Machine, plan: PlannedFix[], uid: number): void {
  const roots = allowedRoots(machine);
  for (const { action, command } of plan) {
    if (action.kind === 'mkdir') {
      checkPath(machine, roots, path.posix.dirname(action.path), command);
      continue;
    }
    checkPath(machine, roots, action.path, command);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(hostOf(machine, action.path));
    } catch {
      throw new FixError(`cannot \`${command}\`: the path no longer exists`);
    }
    if (stat.isSymbolicLink()) throw new FixError(`refusing \`${command}\`: the path is a symlink`);
    checkPermission(action, stat, uid, command);
  }
}

/**
 * chmod without opening the file (a file its owner cannot read must still be fixable): lstat says it is no
 * symlink, and a second lstat afterwards must see the same inode, or it is reported as swapped.
 */
function chmodNoFollow(hostPath: string, mode: number): boolean {
  const before = fs.lstatSync(hostPath);
  if (before.isSymbolicLink()) throw new FixError('the path became a symlink during the fix');
  if ((before.mode & 0o7777) === mode) return false;
  fs.chmodSync(hostPath, mode);
  const after = fs.lstatSync(hostPath);
  if (after.ino !== before.ino || after.dev !== before.dev) throw new FixError('the path was swapped during the fix');
  return true;
}

function chownTree(hostPath: string, uid: number, gid: number, recursive: boolean): number {
  let changed = 0;
  const device = fs.lstatSync(hostPath).dev;
  const visit = (current: string): void => {
    const stat = fs.lstatSync(current);
    // never into another file system mounted below, never an inode hard-linked from elsewhere
    if (stat.dev !== device || (stat.isFile() && stat.nlink > 1)) return;
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
    try {
      if (action.kind === 'chmod') changed = chmodNoFollow(hostPath, action.mode ?? 0o600) ? 1 : 0;
      else if (action.kind === 'chown') changed = chownTree(hostPath, action.uid ?? uid, action.gid ?? uid, action.recursive === true);
      else if (!fs.existsSync(hostPath)) {
        fs.mkdirSync(hostPath, { mode: action.mode ?? 0o700 });
        changed = 1;
      }
    } catch (error) {
      const reason = error instanceof FixError ? error.message : ((error as NodeJS.ErrnoException).code ?? 'failed');
      const done = applied.filter((fix) => fix.changed > 0).map((fix) => fix.command);
      throw new FixError(`\`${item.command}\` failed (${reason}) after ${done.length} applied fix${done.length === 1 ? '' : 'es'}${done.length > 0 ? `: ${done.join('; ')}` : ''}`);
    }
    applied.push({ ...item, changed });
  }
  return applied;
}
