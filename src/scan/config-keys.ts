// Where the config keys the scan reports on sit in the JSON5 text. json5 parses to plain values and
// has no position API, so this is a small tokenizer over the same text: it walks the structure with
// an explicit stack (a 100k-deep config cannot overflow it), builds each member's dotted key the way
// config-summary's walker does (`a.b`, `list[0]`), and records the line and column of the wanted
// keys only. Pure; it runs after JSON5.parse accepted the text, so it may be lenient about syntax.
import type { KeyPosition } from '../model.js';

/** Deeper than config-summary's walker looks: it never reports such keys, so they are not located. */
const MAX_KEY_DEPTH = 64;
/** A hostile config may hold a million path values; past this many, keys are left unlocated. */
export const MAX_KEY_POSITIONS = 10_000;

interface Frame {
  kind: 'object' | 'array';
  /**
   * the container's dotted key; undefined when it has none (a value after a member key that was not read).
   * Never a sentinel string: any string, "\u0000" too, is a key a config may hold.
   */
  path: string | undefined;
  depth: number;
  index: number;
  /** object: the member key just read, waiting for ':' and its value */
  pendingKey?: string;
}

const WIDE_SPACE = /[\u00a0\ufeff\u1680\u2000-\u200a\u202f\u205f\u3000\u2028\u2029]/;

const isLineEnd = (code: number): boolean => code === 10 || code === 13 || code === 0x2028 || code === 0x2029;

/** JSON5 WhiteSpace and LineTerminator */
function isSpace(text: string, offset: number): boolean {
  const code = text.charCodeAt(offset);
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code >= 0xa0 && WIDE_SPACE.test(text[offset]!);
}
const PUNCTUATION = new Set(['{', '}', '[', ']', ':', ',']);

function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Decodes a JSON5 string body or identifier (escapes, line continuations). */
function decode(raw: string): string {
  return raw.replace(/\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(\r\n|[\r\n\u2028\u2029])|(.))/gs, (_match, u?: string, x?: string, continuation?: string, other?: string) => {
    if (u) return String.fromCharCode(parseInt(u, 16));
    if (x) return String.fromCharCode(parseInt(x, 16));
    if (continuation) return '';
    switch (other) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return '\0';
      default:
        return other ?? '';
    }
  });
}

/**
 * Line and column (1-based; columns in UTF-16 code units, SARIF's default `columnKind`; CR, LF and
 * CRLF end a line) of each wanted key: the key token of an object member, the value of an array
 * element (`list[0]`). A key written twice is located where JSON5 takes its value from: the last one.
 */
export function locateConfigKeys(text: string, wanted: ReadonlySet<string>): Map<string, KeyPosition> {
  const found = new Map<string, KeyPosition>();
  if (wanted.size === 0) return found;
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const stack: Frame[] = [];
  let rootSeen = false;

  const positionAt = (offset: number): { line: number; column: number } => ({ line, column: offset - lineStart + 1 });
  /** advances over text[from, to), counting line breaks */
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) {
      const char = text.charCodeAt(k);
      if (char === 10 || (char === 13 && text.charCodeAt(k + 1) !== 10)) {
        line += 1;
        lineStart = k + 1;
      }
    }
    i = to;
  };
  const record = (key: string, start: number, end: number): void => {
    if (!wanted.has(key) || (found.size >= MAX_KEY_POSITIONS && !found.has(key))) return;
    const from = positionAt(start);
    const saveLine = line;
    const saveStart = lineStart;
    const saveI = i;
    i = start;
    advance(end);
    const to = positionAt(end);
    line = saveLine;
    lineStart = saveStart;
    i = saveI;
    found.set(key, { line: from.line, column: from.column, endLine: to.line, endColumn: to.column });
  };

  /** a value starts at `start` (a token's first char): the path it has, and whether it is recorded */
  const valueStarts = (start: number, end: number): string | undefined => {
    const top = stack[stack.length - 1];
    if (!top) {
      rootSeen = true;
      return '';
    }
    if (top.kind === 'array') {
      if (top.path === undefined) return undefined;
      const path = `${top.path}[${top.index}]`;
      if (top.depth < MAX_KEY_DEPTH) record(path, start, end);
      return path;
    }
    const key = top.pendingKey;
    top.pendingKey = undefined;
    return key === undefined || top.path === undefined ? undefined : childPath(top.path, key);
  };

  while (i < text.length) {
    const char = text[i]!;
    if (isSpace(text, i)) {
      advance(i + 1);
      continue;
    }
    if (char === '/' && text[i + 1] === '/') {
      let end = i + 2;
      while (end < text.length && !isLineEnd(text.charCodeAt(end))) end++;
      advance(end);
      continue;
    }
    if (char === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      advance(close < 0 ? text.length : close + 2);
      continue;
    }
    const top = stack[stack.length - 1];
    if (char === '{' || char === '[') {
      const path = valueStarts(i, i + 1);
      const depth = top ? top.depth + 1 : 0;
      stack.push({ kind: char === '{' ? 'object' : 'array', path, depth, index: 0 });
      advance(i + 1);
      continue;
    }
    if (char === '}' || char === ']') {
      stack.pop();
      advance(i + 1);
      continue;
    }
    if (char === ',') {
      if (top?.kind === 'array') top.index += 1;
      advance(i + 1);
      continue;
    }
    if (char === ':') {
      advance(i + 1);
      continue;
    }
    // a token: a string, or a bare word (identifier key, number, true/false/null, Infinity, NaN)
    let end: number;
    let rawStart = i;
    let rawEnd: number;
    if (char === '"' || char === "'") {
      const quote = text.charCodeAt(i);
      end = i + 1;
      for (let code = text.charCodeAt(end); end < text.length && code !== quote; code = text.charCodeAt(end)) end += code === 92 ? 2 : 1;
      end = Math.min(end + 1, text.length);
      rawStart = i + 1;
      rawEnd = end - 1;
    } else {
      end = i + 1;
      while (end < text.length && !isSpace(text, end) && !PUNCTUATION.has(text[end]!) && !(text[end] === '/' && /[/*]/.test(text[end + 1] ?? ''))) {
        end += text[end] === '\\' ? 2 : 1;
      }
      rawEnd = end;
    }
    if (top?.kind === 'object' && top.pendingKey === undefined) {
      // a member key
      const raw = text.slice(rawStart, rawEnd);
      const key = raw.includes('\\') ? decode(raw) : raw;
      top.pendingKey = key;
      if (top.depth < MAX_KEY_DEPTH && top.path !== undefined) record(childPath(top.path, key), i, end);
    } else if (top || !rootSeen) {
      valueStarts(i, end);
    }
    advance(end);
  }
  return found;
}
