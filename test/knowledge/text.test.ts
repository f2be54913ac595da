import { describe, expect, it } from 'vitest';
import { octal, plural, printable, printableShort } from '../../src/knowledge/text.js';

describe('octal', () => {
  it('writes permission bits as four digits, the special bits first', () => {
    expect(octal(0o755)).toBe('0755');
    expect(octal(0o600)).toBe('0600');
    expect(octal(0o7)).toBe('0007');
    expect(octal(0o4755)).toBe('4755');
    expect(octal(0o1777)).toBe('1777');
  });

  it('leaves out the file type bits of a raw st_mode', () => {
    expect(octal(0o100644)).toBe('0644');
    expect(octal(0o040700)).toBe('0700');
  });
});

describe('plural', () => {
  it('says the count and the word in the right number', () => {
    expect(plural(0, 'rule')).toBe('0 rules');
    expect(plural(1, 'rule')).toBe('1 rule');
    expect(plural(2, 'entry', 'entries')).toBe('2 entries');
    expect(plural(1, 'entry', 'entries')).toBe('1 entry');
  });
});

describe('printableShort', () => {
  it('escapes as printable does', () => {
    expect(printableShort('../evil\nline\u001b[2J\u202e.txt')).toBe(printable('../evil\nline\u001b[2J\u202e.txt'));
    expect(printableShort('../evil\nline.txt')).toBe('../evil\\nline.txt');
  });

  it('cuts after `max` characters of the escaped text, never inside a character', () => {
    expect(printableShort('x'.repeat(201))).toBe(`${'x'.repeat(200)}…`);
    expect(printableShort('x'.repeat(200))).toBe('x'.repeat(200));
    expect(printableShort('ab😀😀', 3)).toBe('ab😀…');
  });
});
