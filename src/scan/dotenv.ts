// dotenv files (`<state>/.env`, EnvironmentFile=) with the semantics of the `dotenv` package the gateway
// uses, written as a linear scanner instead of its backtracking regex so a hostile file cannot stall us.
import { SAFE_ENV_KEYS, isSecretEnvKey } from '../knowledge/mask.js';

const KEY = /^[\w.-]+/;
const QUOTES = ['"', "'", '`'] as const;
type Quote = (typeof QUOTES)[number];

interface Entry {
  key: string;
  value: string;
}

/**
 * The values of an env file that join the scan's known secrets (masked wherever they appear): every value of
 * 6+ characters, but for the safe names (HOME, PATH, RESONIX_STATE_DIR…) and paths under names that are not
 * secret-looking, which reports must be able to show.
 */
export function dotenvSecretValues(values: Record<string, string>): string[] {
  return Object.entries(values)
    .filter(([key, value]) => value.length >= 6 && (isSecretEnvKey(key) || (!SAFE_ENV_KEYS.has(key) && !/^(\/|~\/)/.test(value))))
    .map(([, value]) => value);
}

export function parseDotenv(text: string): Record<string, string> {
  const values = new Map<string, string>();
  for (const { key, value } of entries(text)) values.set(key, value);
  // fromEntries defines own properties, so a key such as __proto__ cannot touch the prototype
  return Object.fromEntries(values);
}

/** Variable names in file order, each once. */
export function parseDotenvKeys(text: string): string[] {
  return [...new Set(entries(text).map((entry) => entry.key))];
}

function entries(input: string): Entry[] {
  const text = input.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const closers = new Closers(text);
  const found: Entry[] = [];
  let pos = 0;
  while (pos < text.length) {
    const lineEnd = endOfLine(text, pos);
    const parsed = parseAt(text, pos, lineEnd, closers);
    if (parsed) found.push(parsed.entry);
    pos = (parsed?.end ?? lineEnd) + 1;
  }
  return found;
}

function endOfLine(text: string, pos: number): number {
  const end = text.indexOf('\n', pos);
  return end < 0 ? text.length : end;
}

function parseAt(text: string, pos: number, lineEnd: number, closers: Closers): { entry: Entry; end: number } | undefined {
  const line = text.slice(pos, lineEnd);
  const head = /^\s*(?:export\s+)?/.exec(line)![0];
  const key = KEY.exec(line.slice(head.length))?.[0];
  if (!key) return undefined;
  const afterKey = head.length + key.length;
  const separator = /^[^\S\n]*=[^\S\n]*|^:[^\S\n]+/.exec(line.slice(afterKey));
  if (!separator) return undefined;
  const valueAt = afterKey + separator[0].length;
  const quote = line[valueAt];
  if (quote === '"' || quote === "'" || quote === '`') {
    const open = pos + valueAt;
    const close = closers.find(quote, open + 1);
    if (close !== undefined) {
      const raw = text.slice(open + 1, close);
      const value = quote === '"' ? raw.replace(/\\n/g, '\n').replace(/\\r/g, '\r') : raw;
      return { entry: { key, value }, end: endOfLine(text, close) };
    }
  }
  return { entry: { key, value: unquoted(line.slice(valueAt)) }, end: lineEnd };
}

/** Unquoted values end at `#` and are trimmed; a value still wrapped in quotes loses them. */
function unquoted(rest: string): string {
  const value = rest.split('#')[0]!.trim();
  const match = /^(['"`])([\s\S]*)\1$/.exec(value);
  return match ? match[2]! : value;
}

/**
 * Where a quoted value opened before `from` closes, as dotenv's greedy `"(?:\\"|[^"])*"` decides: at the
 * first unescaped quote if only blanks or a comment follow it on its line, else at the last escaped
 * quote before it that is so followed. Positions are indexed once so each lookup is a binary search.
 */
class Closers {
  private readonly unescaped = new Map<Quote, number[]>();
  private readonly validEscaped = new Map<Quote, number[]>();
  /** for each position, the next one holding a non-blank character or a line break */
  private readonly nextNonBlank: Int32Array;

  constructor(private readonly text: string) {
    this.nextNonBlank = new Int32Array(text.length + 1);
    this.nextNonBlank[text.length] = text.length;
    for (let i = text.length - 1; i >= 0; i--) {
      this.nextNonBlank[i] = text[i] !== '\n' && /\s/.test(text[i]!) ? this.nextNonBlank[i + 1]! : i;
    }
    for (const quote of QUOTES) {
      this.unescaped.set(quote, []);
      this.validEscaped.set(quote, []);
    }
    for (let i = 0; i < text.length; i++) {
      const quote = text[i] as Quote;
      if (quote !== '"' && quote !== "'" && quote !== '`') continue;
      if (text[i - 1] !== '\\') this.unescaped.get(quote)!.push(i);
      else if (this.closes(i)) this.validEscaped.get(quote)!.push(i);
    }
  }

  find(quote: Quote, from: number): number | undefined {
    const unescaped = this.unescaped.get(quote)!;
    const first = unescaped[firstAtLeast(unescaped, from)];
    if (first !== undefined && this.closes(first)) return first;
    const escaped = this.validEscaped.get(quote)!;
    const last = escaped[firstAtLeast(escaped, first ?? this.text.length) - 1];
    return last !== undefined && last >= from ? last : undefined;
  }

  private closes(at: number): boolean {
    const next = this.nextNonBlank[at + 1]!;
    return next === this.text.length || this.text[next] === '\n' || this.text[next] === '#';
  }
}

function firstAtLeast(sorted: number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
