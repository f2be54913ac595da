// Whether one path lies in another, by whole segments after normalising: /a/..x is in /a (a name that starts
// with two dots), /a/../b and /ab are not. Pure: string work only, and never the process's cwd.
import path from 'node:path';

/**
 * `child` as a path relative to `parent` ('' when they are the same), or undefined when it lies outside.
 * Both are absolute machine paths, or both keys relative to one tree (an archive's, '' its top); one of each
 * is never inside the other, so the answer cannot depend on the directory this process runs in.
 */
function relativeWithin(child: string, parent: string): string | undefined {
  const absolute = path.posix.isAbsolute(child);
  if (absolute !== path.posix.isAbsolute(parent)) return undefined;
  const relative = absolute ? path.posix.relative(parent, child) : path.posix.relative(`/${parent}`, `/${child}`);
  if (relative === '..' || relative.startsWith('../') || path.posix.isAbsolute(relative)) return undefined;
  return relative;
}

/** `child` is `parent` itself or a path below it. */
export function isInside(child: string, parent: string): boolean {
  return relativeWithin(child, parent) !== undefined;
}

/** `child` is a path below `parent`, not `parent` itself. */
export function isStrictlyInside(child: string, parent: string): boolean {
  const relative = relativeWithin(child, parent);
  return relative !== undefined && relative !== '';
}
