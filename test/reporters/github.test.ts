// GitHub workflow commands: exactly the commands we mean, within GitHub's annotation limits, and no
// untrusted text that can start a command of its own.
import { describe, expect, it } from 'vitest';
import type { Finding, Severity } from '../../src/model.js';
import { ANNOTATIONS_PER_TYPE, escapeData, escapeProperty, formatGithub } from '../../src/reporters/github.js';
import { formatMarkdown } from '../../src/reporters/markdown.js';
import { STATEDIR, RULES, report, CHMOD, fullReport, hostileReport, cleanReport } from './fixture.js';

// ---- end of fixture ----

void RULES;

/** The runner reads a command from any line; \r also ends a line for it. */
function lines(stdout: string): string[] {
  expect(stdout === '' || stdout.endsWith('\n')).toBe(true);
  return stdout.split(/\r\n|\r|\n/).filter((line) => line !== '');
}

function commands(stdout: string): { name: string; properties: Record<string, string>; message: string }[] {
  return lines(stdout).map((line) => {
    const match = /^::(error|warning|notice)(?: ([^:]*))?::(.*)$/.exec(line);
    expect(match, `not a command we emit: ${line}`).not.toBeNull();
    const properties: Record<string, string> = {};
    for (const pair of (match![2] ?? '').split(',').filter(Boolean)) {
      const [key, ...value] = pair.split('=');
      properties[key!] = value.join('=');
    }
    return { name: match![1]!, properties, message: match![3]! };
  });
}

/** toolkit-side unescaping, to check the round trip */
function unescape(value: string): string {
  return value.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

function finding(severity: Severity, index: number): Finding {
  return { ruleId: 'perms/secrets-exposed', severity, message: `${severity} ${index}`, path: `${STATEDIR}/${severity}-${index}` };
}

describe('formatGithub', () => {
  it('a clean report prints nothing; the summary is the Markdown report', () => {
    const output = formatGithub(cleanReport());
    expect(output.stdout).toBe('');
    expect(output.summary).toBe(formatMarkdown(cleanReport()));
  });

  it('annotates each unsuppressed finding with its severity, file, title and fix', () => {
    const input = fullReport();
    const output = formatGithub(input);
    const list = commands(output.stdout);
    expect(list.map((item) => item.name)).toEqual(['error', 'warning', 'warning', 'notice', 'notice']);
    expect(list[0]).toEqual({
      name: 'error',
      properties: { file: `${STATEDIR}/credentials/creds.json`, title: 'resonix-migrate perms/secrets-exposed' },
      message: `creds.json is readable by group staff%0Afix: Make it readable by alice only%0A$ chmod 600 ${STATEDIR}/credentials/creds.json`,
    });
    expect(list[2]!.properties.file).toBe('/opt/backups/ñandú/alice backup #1?.tar.gz');
    expect(list[4]!.properties).toEqual({ title: 'resonix-migrate state/multiple-dirs' }); // no path, no file=
    expect(output.stdout).not.toContain('.env is readable'); // suppressed
    expect(output.stdout).not.toContain('Known port clash');
    expect(output.summary).toBe(formatMarkdown(input));
  });

  it('a file name with "\\n::error::" cannot start a command: exactly the commands we emit', () => {
    const output = formatGithub(hostileReport());
    const all = lines(output.stdout);
    expect(all).toHaveLength(2); // one error and one warning; the info finding is suppressed
    expect(all.filter((line) => line.startsWith('::'))).toHaveLength(2);
    expect(all.filter((line) => line.includes('pwned')).every((line) => /^::(error|warning) file=/.test(line))).toBe(true);
    const [error, warning] = commands(output.stdout);
    expect(error!.name).toBe('error');
    expect(warning!.name).toBe('warning');
    // properties carry no raw ':' ',' or newline, so file= cannot end early
    expect(error!.properties.file).not.toMatch(/[:,\r\n]/);
    expect(unescape(error!.properties.file!)).toBe(`${STATEDIR}/evil\\e[2J\\n::error::pwned</testcase><x>]]>| pipe \`\`\`tick\`<script>alert(1)</script>\\ud800.json`);
    // eslint-disable-next-line no-control-regex
    expect(output.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('escapes exactly as @actions/core does', () => {
    expect(escapeData('100%\r\n: ,')).toBe('100%25%0D%0A: ,');
    expect(escapeProperty('100%\r\n: ,')).toBe('100%25%0D%0A%3A %2C');
    expect(escapeData('%0A')).toBe('%250A'); // % first: an escape cannot be forged
    const raw = { ...CHMOD, path: '/a,b:c%0A\r\nd', message: 'm%0A' };
    const [command] = commands(formatGithub(report([raw])).stdout);
    expect(command!.properties.file).toBe('/a%2Cb%3Ac%250A\\r\\nd');
    expect(command!.message.startsWith('m%250A%0Afix: ')).toBe(true);
  });

  it('keeps to 10 annotations per type, the most severe first, and says how many were left out', () => {
    const findings = [...Array.from({ length: 25 }, (_, index) => finding('error', index)), ...Array.from({ length: 12 }, (_, index) => finding('warning', index)), ...Array.from({ length: 15 }, (_, index) => finding('info', index))];
    const list = commands(formatGithub(report(findings.reverse())).stdout);
    const count = (name: string): number => list.filter((item) => item.name === name).length;
    expect(count('error')).toBe(ANNOTATIONS_PER_TYPE);
    expect(count('warning')).toBe(ANNOTATIONS_PER_TYPE);
    expect(count('notice')).toBe(ANNOTATIONS_PER_TYPE); // 9 findings + the closing notice
    expect(list).toHaveLength(30);
    expect(list.slice(0, 10).every((item) => item.name === 'error')).toBe(true);
    const last = list.at(-1)!;
    expect(last.properties).toEqual({});
    expect(last.message).toBe('23 more findings not annotated (GitHub shows at most 10 annotations of each type per step): see the job summary or --format json');
  });

  it('needs no closing notice when everything fits, even at exactly 10 of a type', () => {
    const list = commands(formatGithub(report(Array.from({ length: 10 }, (_, index) => finding('info', index)))).stdout);
    expect(list).toHaveLength(10);
    expect(list.every((item) => item.properties.file !== undefined)).toBe(true);
  });

  it('a closing notice alone when only errors overflow', () => {
    const list = commands(formatGithub(report(Array.from({ length: 11 }, (_, index) => finding('error', index)))).stdout);
    expect(list.map((item) => item.name)).toEqual([...Array(10).fill('error'), 'notice']);
    expect(list.at(-1)!.message).toMatch(/^1 more finding not annotated/);
  });

  it('keeps the step summary under 1 MiB', () => {
    const big = 'x'.repeat(4000);
    const input = report(Array.from({ length: 400 }, (_, index): Finding => ({ ...CHMOD, path: `${STATEDIR}/${index}`, message: big })));
    const { summary } = formatGithub(input);
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024);
    expect(summary).toMatch(/more findings not shown here/);
  });
});
