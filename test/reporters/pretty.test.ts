import { describe, expect, it } from 'vitest';
import { ENTRY_LIMIT_CODE } from '../../src/model.js';
import { formatMarkdown } from '../../src/reporters/markdown.js';
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
