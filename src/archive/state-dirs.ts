// Where the Resonix state dirs are inside an archive, and which absolute path each stood at on the machine
// it came from. Pure: works on normalised member paths ("keys") and what the configs say.
//
// A "frame" maps archive keys to machine paths: the key `prefix` (and everything below it) stands for
// the machine path `machineRoot`. `tar czf x.tgz /home/alice/.resonix` stores `home/alice/.resonix/…`:
// prefix '' is '/'. `tar -C ~ czf x.tgz .resonix` stores `.resonix/…`: the home is not recorded, so prefix ''
// is '/' again (the state dir shows as /.resonix) unless the config names the original paths, as
// 2026.9 configs do (`agents.entries.<id>.agentDir: "/home/alice/.resonix/agents/main/agent"`).
import path from 'node:path';
import { isStrictlyInside } from '../knowledge/paths.js';
import type { ConfigSummary } from '../model.js';

const STATE_SEGMENT = /^\.resonix(-[a-z0-9][a-z0-9_-]{0,63})?$/;

export interface Frame {
  prefix: string;
  machineRoot: string;
  /** the archive holds the state dir's contents only: nothing outside the state dir is covered */
  stateOnly?: boolean;
}

export interface StateRoot {
  /** archive key of the state dir ('' = the archive root is the state dir) */
  dir: string;
  kind: 'segment' | 'sibling' | 'backup';
  frame: Frame;
}

/** Maps an archive key to its machine path, or undefined when the frame does not cover it. */
export function toMachine(frame: Frame, key: string): string | undefined {
  if (frame.prefix === '') return key === '' ? frame.machineRoot : path.posix.join(frame.machineRoot, key);
  if (key === frame.prefix) return frame.machineRoot;
  if (!key.startsWith(`${frame.prefix}/`)) return undefined;
  return path.posix.join(frame.machineRoot, key.slice(frame.prefix.length + 1));
}

/** Maps a machine path to its archive key, or undefined when the archive does not cover that path. */
export function toArchive(frame: Frame, machinePath: string): string | undefined {
  const relative = path.posix.relative(frame.machineRoot, path.posix.normalize(machinePath));
  if (relative.startsWith('..') || path.posix.isAbsolute(relative)) return undefined;
  if (relative === '') return frame.prefix;
  return frame.prefix === '' ? relative : `${frame.prefix}/${relative}`;
}

const ROOT_FRAME: Frame = { prefix: '', machineRoot: '/' };

/**
 * The state dirs among `keys` (a `.resonix[-<profile>]` segment at any depth, resonix.json next to
 * credentials/ or agents/, `resonix backup create`'s payload), outermost only: a state dir inside another
 * belongs to the outer one's inventory, as on a live machine. archiveHoldsResonixState asks the same.
 */
export function findStateRoots(keys: readonly string[], isDir: (key: string) => boolean): StateRoot[] {
  const found = new Map<string, StateRoot>();
  const add = (dir: string, kind: StateRoot['kind'], frame: Frame): void => {
    if (!found.has(dir) || kind === 'backup') found.set(dir, { dir, kind, frame });
  };
  const present = new Set(keys);
  const prefixes = new Set<string>();
  for (const key of keys) {
    for (let slash = key.indexOf('/'); slash >= 0; slash = key.indexOf('/', slash + 1)) prefixes.add(key.slice(0, slash));
  }
  const configDirs: string[] = [];
  for (const key of keys) {
    const segments = key.split('/');
    const index = segments.findIndex((segment) => STATE_SEGMENT.test(segment));
    if (index >= 0) {
      const rest = segments.slice(index + 1).join('/');
      // a workspace carries its own `.resonix/workspace-state.json` (reference §4): not a state dir
      if (rest !== '' && rest !== 'workspace-state.json') add(segments.slice(0, index + 1).join('/'), 'segment', ROOT_FRAME);
    }
    if ((key === 'resonix.json' || key.endsWith('/resonix.json')) && !isDir(key)) configDirs.push(path.posix.dirname(key) === '.' ? '' : path.posix.dirname(key));
  }
  for (const dir of configDirs) {
    const sibling = (name: string): boolean => {
      const key = dir === '' ? name : `${dir}/${name}`;
      return present.has(key) || prefixes.has(key);
    };
    if (sibling('credentials') || sibling('agents')) {
      add(dir, 'sibling', dir === '' ? { prefix: '', machineRoot: '/.resonix', stateOnly: true } : ROOT_FRAME);
    }
  }
  // `resonix backup create`: manifest.json at the top (or under one top dir), the state under payload/<abs path>
  const tops = keys.filter((key) => key === 'manifest.json' || /^[^/]+\/manifest\.json$/.test(key)).map((key) => (key === 'manifest.json' ? '' : key.slice(0, key.indexOf('/'))));
  for (const top of tops) {
    const payload = top === '' ? 'payload' : `${top}/payload`;
    for (const dir of configDirs) {
      if (top !== '' && dir !== top && !dir.startsWith(`${top}/`)) continue;
      const inPayload = dir.startsWith(`${payload}/`);
      add(dir, 'backup', inPayload ? { prefix: payload, machineRoot: '/' } : { prefix: dir, machineRoot: `/${dir}`, stateOnly: true });
    }
  }
  const roots = [...found.values()].sort((a, b) => a.dir.length - b.dir.length || a.dir.localeCompare(b.dir));
  return roots.filter((root) => !roots.some((outer) => outer !== root && isStrictlyInside(root.dir, outer.dir)));
}

/** The machine path the state dir stood at, under the root's frame. */
export function stateDirPath(root: StateRoot): string {
  return toMachine(root.frame, root.dir) ?? `/${root.dir}`;
}

/**
 * Absolute state dir paths the config itself names (agent dirs, paths through a `.resonix` dir): the place
 * the archive was made from, most named first.
 */
export function originalStateDirs(config: Pick<ConfigSummary, 'agents' | 'paths'>): string[] {
  const counts = new Map<string, number>();
  const count = (value: string): void => {
    counts.set(value, (counts.get(value) ?? 0) + 1);
  };
  for (const agent of config.agents) {
    const match = agent.agentDir ? /^(\/.*?)\/agents\/[^/]+\/agent\/?$/.exec(path.posix.normalize(agent.agentDir)) : null;
    if (match?.[1]) count(match[1]);
  }
  for (const { value } of config.paths) {
    if (!value.startsWith('/')) continue;
    const segments = path.posix.normalize(value).split('/');
    const index = segments.findIndex((segment) => STATE_SEGMENT.test(segment));
    if (index > 0) count(segments.slice(0, index + 1).join('/'));
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([dir]) => dir);
}

/**
 * Moves a root's frame to where its config says the state dir stood, when the archive did not record it:
 * the archive's path of the state dir is a tail of that original (`.resonix` or `alice/.resonix` with a
 * config naming `/home/alice/.resonix`), or the archive holds the state dir's contents only. An archive
 * path with more to it (`tmp/x/home/alice/.resonix`) is what was archived, and stays. Backup payloads
 * record the original paths themselves.
 */
export function relocate(root: StateRoot, original: string | undefined): StateRoot {
  if (original === undefined || root.kind === 'backup' || !original.startsWith('/') || original === '/') return root;
  const normalised = path.posix.normalize(original);
  if (root.dir === '') return { ...root, frame: { prefix: '', machineRoot: normalised, stateOnly: true } };
  const archiveSegments = root.dir.split('/');
  const originalSegments = normalised.split('/').slice(1);
  if (archiveSegments.length > originalSegments.length) return root;
  const tail = originalSegments.slice(originalSegments.length - archiveSegments.length);
  if (tail.join('/') !== root.dir) return root;
  const machineRoot = `/${originalSegments.slice(0, originalSegments.length - archiveSegments.length).join('/')}`;
  return { ...root, frame: { prefix: '', machineRoot } };
}
