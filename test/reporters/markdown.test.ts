// Markdown output: the structure a reader expects, and untrusted text that can neither add markup
// nor inject HTML.
import { describe, expect, it } from 'vitest';
import type { Finding, Report } from '../../src/model.js';
import { formatMarkdown, mdCode, mdCodeBlock, mdText } from '../../src/reporters/markdown.js';
import { STATEDIR, HOSTILE, RULES, report, CHMOD, fullReport, hostileReport, cleanReport } from './fixture.js';

// ---- end of fixture ----

void RULES;

/** The document without fenced code blocks and code spans: what Markdown would parse as markup. */
function outsideCode(markdown: string): string {
  const kept: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const match = /^(`{3,})/.exec(line);
    if (fence === undefined && match) {
      fence = match[1]!;
      continue;
    }
    if (fence !== undefined) {
      if (line.trim() === fence) fence = undefined;
      continue;
    }
    kept.push(line);
  }
  expect(fence, 'an unclosed code fence').toBeUndefined();
  // code spans: a backtick run opens, the next run of the same length closes; escaped backticks are text
  return kept
    .map((line) => {
      let out = '';
      let index = 0;
      while (index < line.length) {
        if (line[index] === '\\') {
          out += line.slice(index, index + 2);
          index += 2;
          continue;
        }
        if (line[index] !== '`') {
          out += line[index];
          index += 1;
          continue;
        }
        const run = /^`+/.exec(line.slice(index))![0];
        const close = line.slice(index + run.length).search(new RegExp(`(?<!\`)${run}(?!\`)`));
        expect(close, `an unclosed code span in: ${line}`).toBeGreaterThanOrEqual(0);
        out += '<code>';
        index += run.length + close + run.length;
      }
      return out;
    })
    .join('\n');
}

/** GFM cell separators: a '|' not preceded by a backslash (even inside code spans). */
function cells(row: string): number {
  return row.split('').filter((char, index) => char === '|' && row[index - 1] !== '\\').length - 1;
}

const OUR_TAGS = /<\/?(details|summary|code)>/g;

describe('formatMarkdown', () => {
  it('a clean report: heading with phase and verdict, summary table, no findings', () => {
    const markdown = formatMarkdown(cleanReport());
    expect(markdown.split('\n')[0]).toBe('## resonix-migrate verify: ✅ ready');
    expect(markdown).toContain('| ❌ error | 0 |');
    expect(markdown).toContain('No problems found.');
    expect(markdown).not.toContain('```sh');
    expect(markdown.endsWith('\n')).toBe(true);
  });

  it('groups findings by severity, paths in backticks, fixes in a sh block', () => {
    const markdown = formatMarkdown(fullReport());
    expect(markdown.split('\n')[0]).toBe('## resonix-migrate verify: ❌ not ready');
    const order = ['### ❌ Errors (1)', '### ⚠️ Warnings (2)', '### ℹ️ Info (2)', '### Suppressed (2)'].map((heading) => markdown.indexOf(heading));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(markdown).toContain('| ❌ error | 1 |\n| ⚠️ warning | 2 |\n| ℹ️ info | 2 |\n| suppressed | 2 |');
    expect(markdown).toContain('- **Path:** `/home/alice/.resonix/credentials/creds.json`');
    expect(markdown).toContain('```sh\nchmod 600 /home/alice/.resonix/credentials/creds.json\n```');
    expect(markdown).toContain('- **Suppressed** (config): shared lab box, accepted until 2099-01-01');
    expect(markdown).toContain('- `copy/sqlite-torn`: needs a baseline (--against a manifest or archive)');
    expect(markdown).toContain('1 path could not be read');
    expect(markdown).toContain('`11111111111111111111111111111111`');
    // the suppressed error does not count: the verdict is carried by the live one
    expect(formatMarkdown(report([fullReport().findings[5]!]))).toMatch(/^## resonix-migrate verify: ✅ ready/);
    expect(formatMarkdown(report([fullReport().findings[1]!]))).toMatch(/^## resonix-migrate verify: ⚠️ ready, with warnings to review/);
  });

  it('hostile strings add no line, no table cell, no HTML, no control character', () => {
    const hostile = formatMarkdown(hostileReport());
    const benign = formatMarkdown(JSON.parse(JSON.stringify(hostileReport()).replaceAll(JSON.stringify(HOSTILE).slice(1, -1), 'benign')) as Report);
    // the same shape: untrusted text never starts a line, nor ends one early
    expect(hostile.split('\n').map((line) => line.slice(0, 2))).toEqual(benign.split('\n').map((line) => line.slice(0, 2)));
    expect(hostile.split('\n').some((line) => line.startsWith('::'))).toBe(false);
    // eslint-disable-next-line no-control-regex
    expect(hostile).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(hostile).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    const markup = outsideCode(hostile);
    expect(markup.replace(OUR_TAGS, '')).not.toMatch(/[<>]/);
    expect(markup).toContain('&lt;script&gt;');
    expect(markup).not.toMatch(/(?<!\\)[[\]]/); // no link syntax
    for (const row of hostile.split('\n').filter((line) => line.startsWith('|'))) expect([2, 6]).toContain(cells(row));
  });

  it('a state dir with a pipe stays in its table cell', () => {
    const input = { ...cleanReport(), installs: [{ stateDir: '/home/a|b/`x`/<i>', active: true, generation: 'file' as const, files: 1, servedBy: [], profile: 'p|q' }] };
    const row = formatMarkdown(input).split('\n').find((line) => line.startsWith('| ``'))!;
    expect(row).toBe('| ``/home/a\\|b/`x`/<i>`` | p\\|q | CLI | file | 1 | — |');
    expect(cells(row)).toBe(6);
  });

  it('stops listing findings at maxBytes and says how many were left out', () => {
    const many = report(Array.from({ length: 400 }, (_, index): Finding => ({ ...CHMOD, path: `${STATEDIR}/f${index}`, message: `finding number ${index}` })));
    const full = formatMarkdown(many);
    const cut = formatMarkdown(many, { maxBytes: 20_000 });
    expect(Buffer.byteLength(full)).toBeGreaterThan(20_000);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(20_000);
    const shown = cut.match(/^#### /gm)!.length;
    expect(cut).toContain(`_${400 - shown} more findings not shown here (size limit)`);
    expect(outsideCode(cut)).toBeDefined(); // still balanced
  });
});

describe('Markdown escapes', () => {
  it('mdText escapes inline syntax and HTML', () => {
    expect(mdText('a|b `c` *d* _e_ [f](g) <h> & i\\ ~j~ #1 @k $x$')).toBe('a\\|b \\`c\\` \\*d\\* \\_e\\_ \\[f\\](g) &lt;h&gt; &amp; i\\\\ \\~j\\~ \\#1 \\@k \\$x\\$');
    expect(mdText('line\nbreak\u001b[2J')).toBe('line\\\\nbreak\\\\e\\[2J');
  });

  it('mdCode picks a fence longer than any backtick run', () => {
    expect(mdCode('plain')).toBe('`plain`');
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('```x``')).toBe('```` ```x`` ````');
    expect(mdCode(' padded ')).toBe('`  padded  `');
    expect(mdCode('a|b', true)).toBe('`a\\|b`');
    expect(mdCode('')).toBe('` `');
  });

  it('mdCodeBlock fences longer than any backtick run in its lines', () => {
    expect(mdCodeBlock(['echo ok'], 'sh')).toBe('```sh\necho ok\n```');
    expect(mdCodeBlock(['```', 'a````b'], 'sh')).toBe('`````sh\n```\na````b\n`````');
    expect(mdCodeBlock(['x\ny'], 'sh')).toBe('```sh\nx\\ny\n```');
  });
});
