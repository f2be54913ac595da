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

// How it is fast (4 × 3.4 MB in the #13 bench): a string's end is found by indexOf (escapes, rare, are
// walked char by char); its body needs no look for raw control characters when one regex test of the whole
// text found none but newlines (then only the next newline's place is compared); a top-level key is told
// from the others by a hash of at most 16 of its chars in a table of typed arrays, and compared char by char
// with the keys of the same hash; no object per entry: the fields go into arrays, one slot per top-level value.

/** What session-refs reads of one top-level value: its three fields, or `object: false` when it is not an object. */
export interface SessionEntryFields {
  object: boolean;
  sessionFile?: unknown;
  sessionId?: unknown;
  skillsSnapshot?: unknown;
}

/**
 * The top-level values of a sessions.json, one slot per value in Object.values order. `sessionFile` and
 * `sessionId` hold a string, null (present, not a string) or undefined (absent, or the value is no object).
 */
export interface ScannedSessions {
  count: number;
  sessionFile: (string | null | undefined)[];
  sessionId: (string | null | undefined)[];
  /** the slots whose value is not an object, ascending */
  notObjects: number[];
  /** [slot, JSON.parse of its skillsSnapshot] for each entry that has one, ascending */
  skillsSnapshots: [number, unknown][];
}

class Bail extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NONE = Number.POSITIVE_INFINITY;

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

/**
 * The top-level keys seen so far, to refuse a repeated one: open addressing over two Int32Arrays (hash,
 * key start + 1; 0 is empty), linear probing, doubled at half full.
 */
class KeyTable {
  private hashes = new Int32Array(1024);
  private starts = new Int32Array(1024);
  private size = 0;

  constructor(private readonly scanner: Scanner) {}

  /** Adds the key text[start, end) (escape-free, followed by its quote); a repeat throws Bail. */
  add(start: number, end: number): void {
    const hash = this.scanner.hash(start, end);
    const length = end - start;
    const mask = this.hashes.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const other = this.starts[i]! - 1;
      if (other < 0) break;
      // an earlier key ends at its quote: equal when the chars match and its quote is where this one's is
      if (this.hashes[i] === hash && this.scanner.quoteAt(other + length) && this.scanner.sameText(other, start, length)) throw new Bail();
    }
    if (++this.size * 2 > this.hashes.length) this.grow();
    this.put(hash, start);
  }

  private put(hash: number, start: number): void {
    const mask = this.hashes.length - 1;
    let i = hash & mask;
    while (this.starts[i] !== 0) i = (i + 1) & mask;
    this.hashes[i] = hash;
    this.starts[i] = start + 1;
  }

  private grow(): void {
    const { hashes, starts } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.starts = new Int32Array(starts.length * 2);
    for (let i = 0; i < hashes.length; i++) if (starts[i] !== 0) this.put(hashes[i]!, starts[i]! - 1);
  }
}

class Scanner {
  p = 0;
  /** set by string(): whether the last string had an escape */
  escaped = false;
  /** where the next backslash at or after some earlier position is (NONE: none left) */
  private backslash = -1;
  /**
   * whether the text's only raw control characters (if any) are newlines: then `newline` tracks the next one
   * as `backslash` does; else every string body is checked char by char
   */
  private readonly newlinesOnly: boolean;
  private newline = -1;
  readonly out: ScannedSessions = { count: 0, sessionFile: [], sessionId: [], notObjects: [], skillsSnapshots: [] };

  constructor(private readonly text: string) {
    this.newlinesOnly = !/[\x00-\x09\x0b-\x1f]/.test(text);
  }

  skipWhitespace(): void {
    const text = this.text;
    let p = this.p;
    for (;;) {
      const code = text.charCodeAt(p);
      if (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) p++;
      else break;
    }
    this.p = p;
  }

  expect(code: number): void {
    if (this.text.charCodeAt(this.p) !== code) throw new Bail();
    this.p++;
  }

  /** A string starting at p (the quote): moves past it; returns where its content starts. */
  string(): number {
    const text = this.text;
    const start = this.p + 1;
    if (text.charCodeAt(this.p) !== QUOTE) throw new Bail();
    const end = text.indexOf('"', start);
    if (end < 0) throw new Bail();
    if (this.backslash < start) {
      const next = text.indexOf('\\', start);
      this.backslash = next < 0 ? NONE : next;
    }
    if (this.backslash < end) {
      this.escapedString(start);
      return start;
    }
    // no escape: the body is text[start, end), which must hold no raw control character
    if (this.newlinesOnly) {
      if (this.newline < start) {
        const next = text.indexOf('\n', start);
        this.newline = next < 0 ? NONE : next;
      }
      if (this.newline < end) throw new Bail();
    } else {
      for (let i = start; i < end; i++) if (text.charCodeAt(i) < 0x20) throw new Bail();
    }
    this.p = end + 1;
    this.escaped = false;
    return start;
  }

  /** A string with an escape, char by char from its content start. */
  private escapedString(start: number): void {
    const text = this.text;
    const length = text.length;
    let p = start;
    for (;;) {
      if (p >= length) throw new Bail();
      const code = text.charCodeAt(p++);
      if (code === QUOTE) break;
      if (code < 0x20) throw new Bail();
      if (code === BACKSLASH) {
        const next = text.charCodeAt(p++);
        if (next === 0x75) {
          for (let i = 0; i < 4; i++) if (!isHex(text.charCodeAt(p++))) throw new Bail();
        } else if (!(next === QUOTE || next === BACKSLASH || next === 0x2f || next === 0x62 || next === 0x66 || next === 0x6e || next === 0x72 || next === 0x74)) {
          throw new Bail();
        }
      }
    }
    this.p = p;
    this.escaped = true;
  }

  /** The value of the string that ended at p, starting (content) at `start`. */
  stringValue(start: number): string {
    return this.escaped ? (JSON.parse(this.text.slice(start - 1, this.p)) as string) : this.text.slice(start, this.p - 1);
  }

  number(): void {
    const text = this.text;
    let p = this.p;
    if (text.charCodeAt(p) === 0x2d) p++;
    const first = text.charCodeAt(p);
    if (first === 0x30) p++;
    else if (first >= 0x31 && first <= 0x39) while (isDigit(text.charCodeAt(p))) p++;
    else throw new Bail();
    if (text.charCodeAt(p) === 0x2e) {
      p++;
      if (!isDigit(text.charCodeAt(p))) throw new Bail();
      while (isDigit(text.charCodeAt(p))) p++;
    }
    const e = text.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      p++;
      const sign = text.charCodeAt(p);
      if (sign === 0x2b || sign === 0x2d) p++;
      if (!isDigit(text.charCodeAt(p))) throw new Bail();
      while (isDigit(text.charCodeAt(p))) p++;
    }
    this.p = p;
  }

  literal(word: string): void {
    if (!this.text.startsWith(word, this.p)) throw new Bail();
    this.p += word.length;
  }

  /** Skips one value (validating it); p at its first character, after it at the end. */
  value(): void {
    const code = this.text.charCodeAt(this.p);
    if (code === QUOTE) this.string();
    else if (code === 0x7b) this.object(-1);
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

  /** Skips an object; with a `slot` (≥ 0), records its sessionFile, sessionId and skillsSnapshot there. */
  object(slot: number): void {
    const text = this.text;
    this.expect(0x7b);
    this.skipWhitespace();
    if (text.charCodeAt(this.p) === 0x7d) {
      this.p++;
      return;
    }
    const out = this.out;
    let skills: unknown;
    let hasSkills = false;
    for (;;) {
      this.skipWhitespace();
      const keyStart = this.string();
      const keyLength = this.p - 1 - keyStart;
      // 0: another key, 1: sessionFile, 2: sessionId, 3: skillsSnapshot
      let field = 0;
      if (slot >= 0) {
        if (this.escaped) {
          const key = this.stringValue(keyStart);
          field = key === 'sessionFile' ? 1 : key === 'sessionId' ? 2 : key === 'skillsSnapshot' ? 3 : 0;
        } else if (keyLength === 11 && text.startsWith('sessionFile', keyStart)) field = 1;
        else if (keyLength === 9 && text.startsWith('sessionId', keyStart)) field = 2;
        else if (keyLength === 14 && text.startsWith('skillsSnapshot', keyStart)) field = 3;
      }
      this.skipWhitespace();
      this.expect(0x3a);
      this.skipWhitespace();
      const valueStart = this.p;
      if (field === 1 || field === 2) {
        let value: string | null;
        if (text.charCodeAt(this.p) === QUOTE) {
          const start = this.string();
          value = this.stringValue(start);
        } else {
          this.value();
          // not a string: only its type matters to the caller
          value = null;
        }
        if (field === 1) out.sessionFile[slot] = value;
        else out.sessionId[slot] = value;
      } else if (field === 3) {
        this.value();
        skills = JSON.parse(text.slice(valueStart, this.p)) as unknown;
        hasSkills = true;
      } else {
        this.value();
      }
      this.skipWhitespace();
      const code = text.charCodeAt(this.p++);
      if (code === 0x7d) break;
      if (code !== 0x2c) throw new Bail();
    }
    if (hasSkills) out.skillsSnapshots.push([slot, skills]);
  }

  /**
   * A 30-bit FNV-1a hash of the length of text[start, end) and of at most 16 of its chars, the first 4 and
   * the last 12 (where keys like agent:main:whatsapp:dm:+15550000001 differ). Keys that share one are
   * compared in full (sameText).
   */
  hash(start: number, end: number): number {
    const text = this.text;
    let h = Math.imul(0x811c9dc5 ^ (end - start), 0x01000193);
    const head = Math.min(end, start + 4);
    for (let i = start; i < head; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    for (let i = Math.max(head, end - 12); i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h & 0x3fffffff;
  }

  quoteAt(p: number): boolean {
    return this.text.charCodeAt(p) === QUOTE;
  }

  /** text[a, a + length) and text[b, b + length) hold the same chars. */
  sameText(a: number, b: number, length: number): boolean {
    const text = this.text;
    for (let i = 0; i < length; i++) if (text.charCodeAt(a + i) !== text.charCodeAt(b + i)) return false;
    return true;
  }

  /** The top-level object: its values' fields in Object.values order. */
  entries(): ScannedSessions {
    const text = this.text;
    const out = this.out;
    const keys = new KeyTable(this);
    this.skipWhitespace();
    this.expect(0x7b);
    this.skipWhitespace();
    if (text.charCodeAt(this.p) === 0x7d) this.p++;
    else {
      for (let slot = 0; ; slot++) {
        this.skipWhitespace();
        const keyStart = this.string();
        const keyEnd = this.p - 1;
        // an escaped key could equal an unescaped one: rare enough to leave to JSON.parse
        if (this.escaped) throw new Bail();
        const first = text.charCodeAt(keyStart);
        if (first >= 0x30 && first <= 0x39 && isArrayIndex(text.slice(keyStart, keyEnd))) throw new Bail();
        keys.add(keyStart, keyEnd);
        // every slot gets its two fields (undefined when absent): the arrays stay packed
        out.sessionFile.push(undefined);
        out.sessionId.push(undefined);
        this.skipWhitespace();
        this.expect(0x3a);
        this.skipWhitespace();
        if (text.charCodeAt(this.p) === 0x7b) this.object(slot);
        else {
          this.value();
          out.notObjects.push(slot);
        }
        this.skipWhitespace();
        const code = text.charCodeAt(this.p++);
        if (code === 0x7d) break;
        if (code !== 0x2c) throw new Bail();
      }
    }
    this.skipWhitespace();
    if (this.p !== text.length) throw new Bail();
    out.count = out.sessionFile.length;
    return out;
  }
}

/**
 * The top-level values of a sessions.json text as JSON.parse(text) then Object.values would give them,
 * reduced to the fields session-refs reads; undefined when the text is not a JSON object this scanner is
 * sure about.
 */
export function scanSessions(text: string): ScannedSessions | undefined {
  try {
    return new Scanner(text).entries();
  } catch {
    return undefined;
  }
}

/** scanSessions, one object per top-level value (what the tests compare with JSON.parse). */
export function scanSessionEntries(text: string): SessionEntryFields[] | undefined {
  const scanned = scanSessions(text);
  if (scanned === undefined) return undefined;
  const notObjects = new Set(scanned.notObjects);
  const skills = new Map(scanned.skillsSnapshots);
  return Array.from({ length: scanned.count }, (_, slot) => {
    if (notObjects.has(slot)) return { object: false };
    const fields: SessionEntryFields = { object: true };
    const sessionFile = scanned.sessionFile[slot];
    const sessionId = scanned.sessionId[slot];
    if (sessionFile !== undefined) fields.sessionFile = sessionFile;
    if (sessionId !== undefined) fields.sessionId = sessionId;
    if (skills.has(slot)) fields.skillsSnapshot = skills.get(slot);
    return fields;
  });
}
