// A fast path for big sessions.json files (25,000 sessions, megabytes each): reads only the three fields
// session-refs.ts needs from each entry, instead of JSON.parse building every object and string of the file.
// It must agree with JSON.parse + Object.values exactly, so it only answers when it is sure and otherwise
// returns undefined (the caller then parses the whole file as before):
// - it validates the whole text as strict JSON, the grammar JSON.parse accepts (whitespace, literals,
//   numbers, strings with their escapes and without raw control characters);
// - the top level must be an object whose keys are all distinct, none an array index (Object.values would
//   put those first, in numeric order) and none escaped (it could equal another key): otherwise undefined;
// - the values it returns are JSON.parse's own: a string without escapes is the text between its quotes,
//   anything else (an escaped string, the skillsSnapshot value) is JSON.parse of its own slice of the text;
// - in an entry the last of repeated keys wins, as in JSON.parse.
// Any exception (a nesting too deep for the recursion) also means undefined.

/** What session-refs reads of one top-level value: its three fields, or `object: false` when it is not an object. */
export interface SessionEntryFields {
  object: boolean;
  sessionFile?: unknown;
  sessionId?: unknown;
  skillsSnapshot?: unknown;
}

class Bail extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);
}

/** An array index as a property key: a canonical decimal below 2^32 - 1. */
function isArrayIndex(key: string): boolean {
  return /^(0|[1-9][0-9]{0,9})$/.test(key) && Number(key) < 4294967295;
}

class Scanner {
  p = 0;
  /** set by string(): whether the last string had an escape */
  escaped = false;

  constructor(private readonly text: string) {}

  skipWhitespace(): void {
    const text = this.text;
    let p = this.p;
    while (p < text.length && isWhitespace(text.charCodeAt(p))) p++;
    this.p = p;
  }

  expect(code: number): void {
    if (this.text.charCodeAt(this.p) !== code) throw new Bail();
    this.p++;
  }

  /** A string starting at p (the quote): moves past it; returns where its content starts. */
  string(): number {
    const text = this.text;
    const length = text.length;
    let p = this.p;
    if (text.charCodeAt(p) !== QUOTE) throw new Bail();
    const start = ++p;
    let escaped = false;
    for (;;) {
      if (p >= length) throw new Bail();
      const code = text.charCodeAt(p++);
      if (code === QUOTE) break;
      if (code < 0x20) throw new Bail();
      if (code === BACKSLASH) {
        escaped = true;
        const next = text.charCodeAt(p++);
        if (next === 0x75) {
          for (let i = 0; i < 4; i++) if (!isHex(text.charCodeAt(p++))) throw new Bail();
        } else if (!(next === QUOTE || next === BACKSLASH || next === 0x2f || next === 0x62 || next === 0x66 || next === 0x6e || next === 0x72 || next === 0x74)) {
          throw new Bail();
        }
      }
    }
    this.p = p;
    this.escaped = escaped;
    return start;
  }

  /** The value of the string that ended at p, starting (content) at `start`. */
  stringValue(start: number): string {
    return this.escaped ? (JSON.parse(this.text.slice(start - 1, this.p)) as string) : this.text.slice(start, this.p - 1);
  }

  number(): void {
    const text = this.text;
    if (text.charCodeAt(this.p) === 0x2d) this.p++;
    const first = text.charCodeAt(this.p);
    if (first === 0x30) this.p++;
    else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(this.p))) this.p++;
    else throw new Bail();
    if (text.charCodeAt(this.p) === 0x2e) {
      this.p++;
      if (!isDigit(text.charCodeAt(this.p))) throw new Bail();
      while (isDigit(text.charCodeAt(this.p))) this.p++;
    }
    const e = text.charCodeAt(this.p);
    if (e === 0x65 || e === 0x45) {
      this.p++;
      const sign = text.charCodeAt(this.p);
      if (sign === 0x2b || sign === 0x2d) this.p++;
      if (!isDigit(text.charCodeAt(this.p))) throw new Bail();
      while (isDigit(text.charCodeAt(this.p))) this.p++;
    }
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.p)) throw new Bail();
    this.p += word.length;
  }

  /** Skips one value (validating it); p at its first character, after it at the end. */
  value(): void {
    const code = this.text.charCodeAt(this.p);
    if (code === QUOTE) this.string();
    else if (code === 0x7b) this.object(undefined);
    else if (code === 0x5b) this.array();
    else if (code === 0x74) this.literal('true');
    else if (code === 0x66) this.literal('false');
    else if (code === 0x6e) this.literal('null');
    else this.number();
  }

  array(): void {
    this.expect(0x5b);
    this.skipWhitespace();
    if (this.text.charCodeAt(this.p) === 0x5d) {
      this.p++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      this.value();
      this.skipWhitespace();
      const code = this.text.charCodeAt(this.p++);
      if (code === 0x5d) return;
      if (code !== 0x2c) throw new Bail();
    }
  }

  /** Skips an object; with `fields`, records the values of sessionFile, sessionId and skillsSnapshot. */
  object(fields: SessionEntryFields | undefined): void {
    const text = this.text;
    this.expect(0x7b);
    this.skipWhitespace();
    if (text.charCodeAt(this.p) === 0x7d) {
      this.p++;
      return;
    }
    for (;;) {
      this.skipWhitespace();
      const keyStart = this.string();
      const keyLength = this.p - 1 - keyStart;
      let key: string | undefined;
      if (fields !== undefined) {
        if (this.escaped) key = this.stringValue(keyStart);
        else if (keyLength === 11 && text.startsWith('sessionFile', keyStart)) key = 'sessionFile';
        else if (keyLength === 9 && text.startsWith('sessionId', keyStart)) key = 'sessionId';
        else if (keyLength === 14 && text.startsWith('skillsSnapshot', keyStart)) key = 'skillsSnapshot';
      }
      this.skipWhitespace();
      this.expect(0x3a);
      this.skipWhitespace();
      const valueStart = this.p;
      if (key === 'sessionFile' || key === 'sessionId') {
        if (text.charCodeAt(this.p) === QUOTE) {
          const start = this.string();
          fields![key] = this.stringValue(start);
        } else {
          this.value();
          // not a string: only its type matters to the caller
          fields![key] = null;
        }
      } else if (key === 'skillsSnapshot') {
        this.value();
        fields!.skillsSnapshot = JSON.parse(text.slice(valueStart, this.p)) as unknown;
      } else {
        this.value();
      }
      this.skipWhitespace();
      const code = text.charCodeAt(this.p++);
      if (code === 0x7d) return;
      if (code !== 0x2c) throw new Bail();
    }
  }

  /**
   * A 30-bit FNV-1a hash of text[start, end): always a small integer, which a Set keeps cheaply. Telling
   * 25,000 keys apart this way costs half of what a Set of the key strings does.
   */
  hash(start: number, end: number): number {
    const text = this.text;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h & 0x3fffffff;
  }

  /** The top-level object: its entries in Object.values order. */
  entries(): SessionEntryFields[] {
    const text = this.text;
    const out: SessionEntryFields[] = [];
    // repeated keys: told by hash; after the first equal hash, by the key strings themselves
    const hashes = new Set<number>();
    let exact: Set<string> | undefined;
    const starts: number[] = [];
    const ends: number[] = [];
    this.skipWhitespace();
    this.expect(0x7b);
    this.skipWhitespace();
    if (text.charCodeAt(this.p) === 0x7d) this.p++;
    else {
      for (;;) {
        this.skipWhitespace();
        const keyStart = this.string();
        const keyEnd = this.p - 1;
        // an escaped key could equal an unescaped one: rare enough to leave to JSON.parse
        if (this.escaped) throw new Bail();
        const first = text.charCodeAt(keyStart);
        if (first >= 0x30 && first <= 0x39 && isArrayIndex(text.slice(keyStart, keyEnd))) throw new Bail();
        if (exact === undefined) {
          const h = this.hash(keyStart, keyEnd);
          if (hashes.has(h)) {
            exact = new Set<string>();
            for (let i = 0; i < starts.length; i++) exact.add(text.slice(starts[i], ends[i]));
          } else hashes.add(h);
        }
        if (exact !== undefined) {
          const key = text.slice(keyStart, keyEnd);
          if (exact.has(key)) throw new Bail();
          exact.add(key);
        }
        starts.push(keyStart);
        ends.push(keyEnd);
        this.skipWhitespace();
        this.expect(0x3a);
        this.skipWhitespace();
        if (text.charCodeAt(this.p) === 0x7b) {
          const fields: SessionEntryFields = { object: true };
          this.object(fields);
          out.push(fields);
        } else {
          this.value();
          out.push({ object: false });
        }
        this.skipWhitespace();
        const code = text.charCodeAt(this.p++);
        if (code === 0x7d) break;
        if (code !== 0x2c) throw new Bail();
      }
    }
    this.skipWhitespace();
    if (this.p !== text.length) throw new Bail();
    return out;
  }
}

/**
 * The entries of a sessions.json text as JSON.parse(text) then Object.values would give them, reduced to the
 * fields session-refs reads; undefined when the text is not a JSON object this scanner is sure about.
 */
export function scanSessionEntries(text: string): SessionEntryFields[] | undefined {
  try {
    return new Scanner(text).entries();
  } catch {
    return undefined;
  }
}
