// The JSON5 key locator: the line and column of each key the scan reports on, in the same dotted
// form config-summary builds, through comments, quotes, escapes, arrays, CRLF and hostile depth.
import fc from 'fast-check';
import JSON5 from 'json5';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_POSITIONS, locateConfigKeys } from '../../src/scan/config-keys.js';
import { parseConfigText } from '../../src/scan/install.js';

const at = (text: string, ...keys: string[]) => Object.fromEntries(locateConfigKeys(text, new Set(keys)));

describe('locateConfigKeys', () => {
  it('finds nested keys, array elements and quoted keys, 1-based, end exclusive', () => {
    const text = [
      '// resonix.json',
      '{',
      '  gateway: { mode: "local", port: 18789 },',
      '  /* agents */ agents: {',
      '    list: [',
      '      { id: "main", workspace: "/Users/alice/ws" },',
      "      { 'id': 'research', \"workspace\": '~/r' },",
      '    ],',
      '  },',
      '  includes: ["/a", "/b"],',
      '}',
    ].join('\n');
    expect(at(text, 'gateway.mode', 'gateway.port', 'agents.list[0].workspace', 'agents.list[1].workspace', 'includes[1]', 'agents')).toEqual({
      'gateway.mode': { line: 3, column: 14, endLine: 3, endColumn: 18 },
      'gateway.port': { line: 3, column: 29, endLine: 3, endColumn: 33 },
      agents: { line: 4, column: 16, endLine: 4, endColumn: 22 },
      'agents.list[0].workspace': { line: 6, column: 21, endLine: 6, endColumn: 30 },
      'agents.list[1].workspace': { line: 7, column: 27, endLine: 7, endColumn: 38 },
      'includes[1]': { line: 10, column: 20, endLine: 10, endColumn: 24 },
    });
  });

  it('counts CRLF and CR as one line break, columns in UTF-16 code units, decodes escaped keys', () => {
    const text = '{\r\n  "\\u0061b": 1,\r  "é😀": { x: 2 }\n}';
    expect(at(text, 'ab', 'é😀.x')).toEqual({
      ab: { line: 2, column: 3, endLine: 2, endColumn: 12 },
      'é😀.x': { line: 3, column: 12, endLine: 3, endColumn: 13 },
    });
  });

  it('ignores keys inside comments and strings; a duplicate key is located where JSON5 takes it from (the last)', () => {
    const text = '{ // port: 1\n  note: "port: 2, {x: [", /* port: 3 */\n  port: 4,\n  port: 5 }';
    expect(at(text, 'port', 'note')).toEqual({ note: { line: 2, column: 3, endLine: 2, endColumn: 7 }, port: { line: 4, column: 3, endLine: 4, endColumn: 7 } });
  });

  it('matches the walker: parseConfigText records positions of paths, inline secrets, gateway keys and env refs', () => {
    const text = '{\n  gateway: { mode: "local", auth: { token: "abcdefgh1234" } },\n  agents: { defaults: { workspace: "/home/bob/ws" } },\n  channels: { telegram: { botToken: "${TG_TOKEN}" } },\n}\n';
    const summary = parseConfigText(text, '/home/alice/.resonix/resonix.json', new Set());
    expect(summary.keyPositions?.['agents.defaults.workspace']).toEqual({ line: 3, column: 25, endLine: 3, endColumn: 34 });
    expect(summary.keyPositions?.['gateway.auth.token']?.line).toBe(2);
    expect(summary.keyPositions?.['gateway.mode']?.line).toBe(2);
    expect(summary.envRefKeys).toEqual({ TG_TOKEN: 'channels.telegram.botToken' });
    expect(summary.keyPositions?.['channels.telegram.botToken']?.line).toBe(4);
  });

  it('a 100k-deep config does not overflow; keys deeper than the walker looks are not located', () => {
    const deep = `${'{a:'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const key = Array.from({ length: 70 }, () => 'a').join('.');
    expect(at(deep, 'a.a', key)).toEqual({ 'a.a': { line: 1, column: 5, endLine: 1, endColumn: 6 } });
  });

  it(`stops recording after ${MAX_KEY_POSITIONS} keys (a budget for hostile configs)`, () => {
    const count = MAX_KEY_POSITIONS + 5;
    const text = `{${Array.from({ length: count }, (_, index) => `k${index}: 1`).join(',')}}`;
    const found = locateConfigKeys(text, new Set(Array.from({ length: count }, (_, index) => `k${index}`)));
    expect(found.size).toBe(MAX_KEY_POSITIONS);
  });

  it('a key named "\\u0000" is a key like any other: the empty key under it is found (fast-check seed -694293520)', () => {
    // the counterexample [{"\u0000":{"":{}}},false]: JSON.stringify with tabs
    const text = JSON.stringify({ '\u0000': { '': {} } }, null, '\t');
    expect(at(text, '\u0000', '\u0000.')).toEqual({
      '\u0000': { line: 2, column: 2, endLine: 2, endColumn: 10 },
      '\u0000.': { line: 3, column: 3, endLine: 3, endColumn: 5 },
    });
  });

  it('property: on any object, written as JSON or JSON5, every member key is found where its text starts', () => {
    const keys = (value: unknown, prefix: string, out: Map<string, string>): Map<string, string> => {
      if (Array.isArray(value)) value.forEach((item, index) => keys(item, `${prefix}[${index}]`, out));
      else if (value && typeof value === 'object') {
        for (const [key, item] of Object.entries(value)) {
          const path = prefix === '' ? key : `${prefix}.${key}`;
          out.set(path, key);
          keys(item, path, out);
        }
      }
      return out;
    };
    fc.assert(
      fc.property(fc.object({ maxDepth: 4, key: fc.string({ unit: 'binary', maxLength: 6 }).filter((key) => !/[.[\]]/.test(key) && key !== '__proto__'), values: [fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)] }), fc.boolean(), (value, asJson5) => {
        const text = asJson5 ? JSON5.stringify(value, null, 2) : JSON.stringify(value, null, '\t');
        const expected = keys(value, '', new Map());
        const found = locateConfigKeys(text, new Set(expected.keys()));
        expect(found.size).toBe(expected.size);
        const lines = text.split(/\r\n|\r|\n/);
        for (const [path, position] of found) {
          const token = lines[position.line - 1]!.slice(position.column - 1, position.endColumn - 1);
          expect(JSON5.parse(/^["']/.test(token) ? token : JSON.stringify(token))).toBe(expected.get(path));
        }
      }),
      { numRuns: 500 },
    );
  });
});
