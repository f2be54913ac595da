// The lookups session-refs.ts makes in a state dir's inventory, without a Set of every path (#13: on a
// 100,000-entry tree that Set, and a lookup string `<sessionsDir>/<sessionId>.jsonl` built and hashed for
// each of 100,000 sessions, cost ~150 ms). One pass over the paths sorts out the few that matter: the
// sessions.json files, and per sessions dir the stems of its `.jsonl` names, which a sessionId (a string
// of the sessions.json text) is looked up in as it is. Any other path (a sessionFile that names something
// else) is looked up in a Set of every path, built the first time one is asked for.
import type { FileEntry } from '../model.js';

const SESSIONS_JSON_NAME = 'sessions.json';

/** Where `<name>` starts in `agents/<id>/sessions/<name>` (neither with a '/'; name not empty), else -1. */
export function sessionsNameAt(path: string): number {
  if (!path.startsWith('agents/')) return -1;
  const slash = path.indexOf('/', 7);
  if (slash <= 7 || !path.startsWith('sessions/', slash + 1)) return -1;
  const at = slash + 10;
  return at < path.length && path.indexOf('/', at) === -1 ? at : -1;
}

interface Sorted {
  sessionsFiles: string[];
  /** sessions dir → the stems of its `<stem>.jsonl` names */
  stems: Map<string, Set<string>>;
}

export class InventoryPaths {
  private all: ReadonlySet<string> | undefined;
  private index: Sorted | undefined;

  private constructor(
    private readonly eachPath: (visit: (path: string) => void) => void,
    all?: ReadonlySet<string>,
  ) {
    this.all = all;
  }

  static ofEntries(entries: readonly FileEntry[]): InventoryPaths {
    return new InventoryPaths((visit) => {
      for (let i = 0; i < entries.length; i++) visit(entries[i]!.path);
    });
  }

  static ofSet(paths: ReadonlySet<string>): InventoryPaths {
    return new InventoryPaths((visit) => paths.forEach((path) => visit(path)), paths);
  }

  private sorted(): Sorted {
    if (this.index) return this.index;
    const found: string[] = [];
    const stems: Sorted['stems'] = new Map();
    // the walk lists a dir's names one after another: the last dir is usually the one
    let dir = '';
    let names: Set<string> | undefined;
    this.eachPath((path) => {
      const at = sessionsNameAt(path);
      if (at < 0) return;
      if (path.endsWith('.jsonl')) {
        if (names === undefined || at - 1 !== dir.length || !path.startsWith(dir)) {
          dir = path.slice(0, at - 1);
          names = stems.get(dir);
          if (names === undefined) stems.set(dir, (names = new Set()));
        }
        names.add(path.slice(at, path.length - 6));
      } else if (path.length - at === SESSIONS_JSON_NAME.length && path.endsWith(SESSIONS_JSON_NAME)) found.push(path);
    });
    found.sort();
    // an inventory lists a path once; a list that does not is read once per path all the same
    const sessionsFiles = found.filter((file, index) => index === 0 || file !== found[index - 1]);
    this.index = { sessionsFiles, stems };
    return this.index;
  }

  /** The `agents/<id>/sessions/sessions.json` paths, sorted. */
  sessionsFiles(): string[] {
    return this.sorted().sessionsFiles;
  }

  /** The names `<stem>.jsonl` in the sessions dir `agents/<id>/sessions`, as their stems. */
  transcriptStems(sessionsDir: string): ReadonlySet<string> | undefined {
    return this.sorted().stems.get(sessionsDir);
  }

  has(path: string): boolean {
    if (this.all) return this.all.has(path);
    const at = sessionsNameAt(path);
    if (at >= 0 && path.endsWith('.jsonl')) return this.transcriptStems(path.slice(0, at - 1))?.has(path.slice(at, path.length - 6)) === true;
    const all = new Set<string>();
    this.eachPath((each) => all.add(each));
    this.all = all;
    return all.has(path);
  }
}
