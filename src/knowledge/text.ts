// Words and escapes for messages: file modes, counts, and untrusted text made safe to show. Pure.

/** Permission bits as four octal digits, the form chmod takes: 0755, 4755 (set-user-ID). */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** `count` and the word in the right number: 1 rule, 2 rules, 3 entries (with `many`). */
export function plural(count: number, word: string, many = `${word}s`): string {
  return `${count} ${count === 1 ? word : many}`;
}

// Untrusted text (file names, config values, archive member names) must not drive the terminal or hide
// from the reader. What is escaped is decided by Unicode class, not by a list of known-bad characters:
// C0/C1 controls (Cc), format characters (Cf: bidi marks and overrides, U+061C, U+FEFF, soft hyphen, tags),
// line and paragraph separators (Zl, Zp), every default-ignorable code point (U+3164 HANGUL FILLER,
// variation selectors, …) and lone surrogates (Cs) all become visible escapes, never raw.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/gu;

function escapeOf(char: string): string {
  if (char === '\n') return '\\n';
  if (char === '\r') return '\\r';
  if (char === '\t') return '\\t';
  if (char === '\u001b') return '\\e';
  const code = char.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/** `text` with every invisible or terminal-driving character as a visible escape. */
export function printable(text: string): string {
  return text.replace(INVISIBLE, escapeOf);
}

/** `printable`, cut to `max` characters (…) for a one-line message; the cut never splits a character. */
export function printableShort(text: string, max = 200): string {
  const chars = Array.from(printable(text));
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}
