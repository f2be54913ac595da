import { describe, expect, it } from 'vitest';
import { ENTRY_LIMIT_CODE, type Finding } from '../../src/model.js';
import { formatMarkdown } from '../../src/reporters/markdown.js';
import { printable } from '../../src/knowledge/text.js';
import { formatPretty } from '../../src/reporters/pretty.js';
import { CHMOD, HOSTILE, STATEDIR, report } from './fixture.js';

const cut = report([CHMOD], {
  problems: [
    { path: STATEDIR, code: ENTRY_LIMIT_CODE, message: `stopped listing ${STATEDIR} after 1000 entries: the scan's entry limit was reached (--max-entries)` },
    { path: `/srv/${HOSTILE}`, code: ENTRY_LIMIT_CODE, message: 'stopped listing' },
    { path: `${STATEDIR}/private`, code: 'EACCES', message: 'cannot list: EACCES' },
  ],
});

describe('a scan cut short at its entry limit', () => {
  it('pretty says so without --verbose, names the trees (escaped), and keeps unreadable paths apart', () => {
    const text = formatPretty(cut, { color: false });
    expect(text).toContain('! the scan stopped at its entry limit (--max-entries) in 2 trees: what it did not list was not checked');
    expect(text).toContain(`      ${STATEDIR}\n`);
    expect(text).not.toContain('\u001b[2J');
    expect(text).toContain('? 1 path could not be read (--verbose lists them)');
    const verbose = formatPretty(cut, { color: false, verbose: true });
    expect(verbose).toContain('? cannot list: EACCES');
    expect(verbose).not.toContain('? stopped listing');
  });

  it('markdown puts a warning above the unreadable paths', () => {
    const text = formatMarkdown(cut);
    expect(text).toMatch(/> \[!WARNING\]\n> The scan stopped at its entry limit \(`--max-entries`\) in `\/home\/alice\/\.resonix`, /);
    expect(text).toContain('1 path</summary>'.replace('</summary>', ' could not be read</summary>'));
    expect(text).not.toContain('\u001b');
  });
});

describe('printable: escapes by Unicode class, not by a list', () => {
  it('leaves no Cc, Cf, Zl, Zp, Cs or default-ignorable code point raw, anywhere in Unicode, and keeps the rest', () => {
    const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;
    let escaped = 0;
    for (let code = 0; code <= 0x10ffff; code += 1) {
      const char = String.fromCodePoint(code);
      const out = printable(`a${char}b`);
      if (invisible.test(char)) {
        escaped += 1;
        expect(out, `U+${code.toString(16)}`).not.toMatch(invisible);
        expect(out, `U+${code.toString(16)}`).toMatch(/^a\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]+\}|[nrte])b$/);
      } else if (out !== `a${char}b`) {
        throw new Error(`U+${code.toString(16)} changed: ${out}`);
      }
    }
    expect(escaped).toBeGreaterThan(4000); // the classes are large (tags, variation selectors, unassigned ignorables)
    expect(printable('\u200e\u200f\u061c\ufeff\u3164\u2028\u0085\u009b\u001b]8;;x\u0007')).toBe('\\u200e\\u200f\\u061c\\ufeff\\u3164\\u2028\\x85\\x9b\\e]8;;x\\x07');
  });
});

describe('the diagnosis in pretty', () => {
  const root: Finding = { ...CHMOD, ruleId: 'perms/wrong-owner', message: 'root owns it', fingerprint: 'r'.repeat(32), fix: { summary: 'Give it back', commands: ['sudo chown -R alice:alice ~/.resonix'] } };
  const consequence: Finding = { ...CHMOD, ruleId: 'perms/unreadable', message: 'alice cannot read it', fingerprint: 'c'.repeat(32), causedBy: 'r'.repeat(32), fix: { summary: 'Never shown', commands: ['chmod 700 /never-shown'] } };
  const input = report([root, consequence], {
    summary: { error: 1, warning: 0, info: 0 },
    verdicts: { migration: { error: 1, warning: 0, info: 0 }, hygiene: { error: 0, warning: 1, info: 0 } },
    checked: [
      { area: 'state', status: 'error', text: 'state dir found: perms/wrong-owner' },
      { area: 'agents', status: 'ok', text: 'agents and workspaces present' },
    ],
    plan: [
      { step: 'Copy or restore what is missing', why: 'Copy it', commands: ['rsync -a a b'], findings: [], alternatives: [['tar -C ~ -czf x .resonix']] },
      { step: 'Give the files to the gateway user', why: 'Give it back', commands: ['sudo chown -R alice:alice ~/.resonix'], findings: ['r'.repeat(32)] },
    ],
  });

  it('the root with its consequences under it, their fixes hidden; checked lines; one numbered plan; two verdicts', () => {
    const text = formatPretty(input, { color: false });
    expect(text).toContain('  ✗ perms/wrong-owner  root owns it\n');
    expect(text).toContain('    because of this:\n      - perms/unreadable  alice cannot read it\n');
    expect(text).not.toContain('/never-shown');
    expect(text).not.toMatch(/^ {2}✗ perms\/unreadable/m);
    expect(text).toContain('What was checked\n  ✗ state dir found: perms/wrong-owner\n  ✓ agents and workspaces present\n');
    expect(text).toContain('Plan (in this order)\n  1. Copy or restore what is missing: Copy it\n       $ rsync -a a b\n     or instead:\n       $ tar -C ~ -czf x .resonix\n  2. Give the files');
    expect(text).not.toContain('Next: check it yourself');
    expect(text.trim().split('\n').slice(-2)).toEqual(['migration: ✗ 1 error, 0 warnings, 0 info: not ready', 'hygiene:   ! 0 errors, 1 warning, 0 info: clean, with warnings to review']);
  });
});

describe('a state dir that is not on this machine', () => {
  const moved = report([], {
    installs: [
      { stateDir: STATEDIR, active: true, generation: 'file', files: 12, servedBy: [] },
      { stateDir: '/srv/alice/.resonix', active: false, generation: 'empty', files: 0, servedBy: ['/home/alice/.config/systemd/user/resonix-gateway.service'], missing: true },
    ],
  });

  it('pretty says what names it instead of "no problems found"', () => {
    const text = formatPretty(moved, { color: false });
    expect(text).toContain('/srv/alice/.resonix (used by a service, not on this machine)\n  - nothing here to check: only resonix-gateway.service names it\n');
    expect(text.match(/no problems found/g)).toHaveLength(1);
  });

  it('markdown says it is not on this machine', () => {
    expect(formatMarkdown(moved)).toContain('| not on this machine | — |');
  });
});
