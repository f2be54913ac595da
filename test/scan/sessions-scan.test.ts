// The sessions.json fast path must answer exactly as JSON.parse + Object.values, or not at all.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanSessionEntries, type SessionEntryFields } from '../../src/scan/sessions-scan.js';

type Plain = Record<string, unknown>;
const isObject = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What session-refs reads of the text through JSON.parse (non-string sessionFile/sessionId reduced to null, as the scanner does). */
function reference(text: string): SessionEntryFields[] | 'invalid' | 'not an object' {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (!isObject(parsed)) return 'not an object';
  return Object.values(parsed).map((entry) => {
    if (!isObject(entry)) return { object: false };
    const fields: SessionEntryFields = { object: true };
    for (const key of ['sessionFile', 'sessionId'] as const) if (key in entry) fields[key] = typeof entry[key] === 'string' ? entry[key] : null;
    if ('skillsSnapshot' in entry) fields.skillsSnapshot = entry.skillsSnapshot;
    return fields;
  });
}

function agrees(text: string): SessionEntryFields[] | undefined {
  const scanned = scanSessionEntries(text);
  if (scanned !== undefined) expect(scanned).toEqual(reference(text));
  return scanned;
}

const entry = fc.record(
  {
    sessionId: fc.oneof(fc.uuid(), fc.string(), fc.constant('..'), fc.integer()),
    sessionFile: fc.oneof(fc.constant('/Users/alice/.resonix/agents/main/sessions/a.jsonl'), fc.string(), fc.constant(null)),
    skillsSnapshot: fc.jsonValue({ maxDepth: 3 }),
    updatedAt: fc.integer(),
    other: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const sessions = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('agent:main:main', '__proto__', 'sessionId', '0', '42', '01', '-1', '4294967295')), fc.oneof(entry, fc.jsonValue({ maxDepth: 2 })));

describe('scanSessionEntries', () => {
  it('reads a sessions.json as the gateway writes it', () => {
    const text = JSON.stringify({
      'agent:main:main': { sessionId: 'a1', updatedAt: 1, sessionFile: '/Users/alice/.resonix/agents/main/sessions/a1.jsonl', skillsSnapshot: { skills: [{ path: '/x' }] } },
      'agent:main:telegram:1': { sessionId: 'b2', chatType: 'direct', origin: { provider: 'telegram', nested: [1, 2.5e-3, true, null] } },
      junk: 'not an entry',
    });
    expect(agrees(text)).toEqual([
      { object: true, sessionId: 'a1', sessionFile: '/Users/alice/.resonix/agents/main/sessions/a1.jsonl', skillsSnapshot: { skills: [{ path: '/x' }] } },
      { object: true, sessionId: 'b2' },
      { object: false },
    ]);
  });

  it('agrees with JSON.parse on generated files, pretty-printed or not', () => {
    fc.assert(
      fc.property(sessions, fc.constantFrom(undefined, 2, '\t'), (value, indent) => {
        agrees(JSON.stringify(value, null, indent));
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with JSON.parse on damaged text (or declines)', () => {
    fc.assert(
      fc.property(sessions, fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), (value, at, cut, insert) => {
        const text = JSON.stringify(value);
        const position = text.length === 0 ? 0 : at % text.length;
        agrees(text.slice(0, position) + insert + text.slice(position + (cut % 3)));
      }),
      { numRuns: 1000 },
    );
  });

  it('declines what Object.values would reorder or merge: index keys, repeated keys', () => {
    expect(scanSessionEntries('{"1": {"sessionId": "b"}, "a": {"sessionId": "a"}}')).toBeUndefined();
    expect(scanSessionEntries('{"a": {"sessionId": "a"}, "a": {"sessionId": "b"}}')).toBeUndefined();
    expect(scanSessionEntries('{"a": {"sessionId": "a"}, "\\u0061": {"sessionId": "b"}}')).toBeUndefined();
    // not indexes: kept in order
    expect(agrees('{"01": {"sessionId": "x"}, "4294967295": {"sessionId": "y"}, "-1": {}}')).toHaveLength(3);
  });

  it('tells keys apart whose hashes collide, and finds a repeat among many keys', () => {
    // these two have the same 30-bit hash: from there on keys are compared as strings
    const colliding = { a: { sessionId: 'a' }, 'agent:main:telegram:232789': { sessionId: 'x' }, 'agent:main:telegram:429192': { sessionId: 'y' }, z: { sessionId: 'z' } };
    expect(agrees(JSON.stringify(colliding))).toHaveLength(4);
    expect(scanSessionEntries(`${JSON.stringify(colliding).slice(0, -1)},"a":{}}`)).toBeUndefined();
    expect(scanSessionEntries(`${JSON.stringify(colliding).slice(0, -1)},"agent:main:telegram:429192":{}}`)).toBeUndefined();
    const many: Record<string, unknown> = {};
    for (let i = 0; i < 50_000; i++) many[`agent:main:whatsapp:dm:+1555${i}`] = { sessionId: `s${i}` };
    const text = JSON.stringify(many);
    expect(agrees(text)).toHaveLength(50_000);
    expect(scanSessionEntries(`${text.slice(0, -1)},"agent:main:whatsapp:dm:+155577":{}}`)).toBeUndefined();
  });

  it('tells apart keys the sampled hash cannot (same length, first 4 and last 12 chars), and finds a repeat among them (#13)', () => {
    // the hash reads only the length and those 16 chars: these all share one hash
    const keys = ['agent:main:whatsapp:dm:+15550000001', 'agent:work:whatsapp:dm:+15550000001', 'agent:ops0:whatsapp:dm:+15550000001', 'agentXmainXwhatsapp:dm:+15550000001'];
    const value = Object.fromEntries(keys.map((key, index) => [key, { sessionId: `s${index}` }]));
    const text = JSON.stringify(value);
    expect(agrees(text)?.map((fields) => fields.sessionId)).toEqual(['s0', 's1', 's2', 's3']);
    for (const key of keys) expect(scanSessionEntries(`${text.slice(0, -1)},${JSON.stringify(key)}:{}}`)).toBeUndefined();
    // a key that is another's beginning, or has it as its beginning, is no repeat
    expect(agrees('{"agent:main:x":{},"agent:main:xy":{},"agent:main:":{}}')).toHaveLength(3);
    // thousands of keys in one bucket (past the table's first size): still told apart, a repeat still found
    const many = Array.from({ length: 3000 }, (_, index) => `agent:${String(index).padStart(6, '0')}:whatsapp:dm:+15550000001`);
    const crowded = JSON.stringify(Object.fromEntries(many.map((key) => [key, {}])));
    expect(agrees(crowded)).toHaveLength(3000);
    expect(scanSessionEntries(`${crowded.slice(0, -1)},"${many[1234]}":{}}`)).toBeUndefined();
  });

  it('declines a raw newline or other control character in a string, whatever else the text holds (#13)', () => {
    const pretty = JSON.stringify({ a: { sessionId: 'x' }, b: { sessionId: 'y' } }, null, 2);
    expect(agrees(pretty)).toHaveLength(2);
    // only newlines in the text: one in a string is found by its place; an escaped one is no raw newline
    expect(agrees(pretty.replace('"y"', '"y\\n"'))?.[1]?.sessionId).toBe('y\n');
    for (const raw of ['\n', '\r', '\t', '\u0001', '\u001f']) {
      for (const text of [pretty, JSON.stringify({ a: { sessionId: 'x' }, b: { sessionId: 'y' } })]) {
        expect(scanSessionEntries(text.replace('"y"', `"y${raw}"`))).toBeUndefined();
        expect(scanSessionEntries(text.replace('"b"', `"b${raw}"`))).toBeUndefined();
        expect(scanSessionEntries(text.replace('"sessionId":', `"session${raw}Id":`).replace('"sessionId": ', `"session${raw}Id": `))).toBeUndefined();
      }
    }
    // a newline before the first string and after the last one is whitespace
    expect(agrees(`\n${JSON.stringify({ a: { sessionId: 'x' } })}\n`)).toHaveLength(1);
  });

  it('keeps the last of repeated fields in an entry, and reads escaped keys and values', () => {
    expect(agrees('{"a": {"sessionId": "x", "sessionId": "y", "session\\u0046ile": "\\/p\\u00e9\\n", "sessionFile": 3}}')).toEqual([{ object: true, sessionId: 'y', sessionFile: null }]);
    expect(agrees('{"a": {"sessionFile": "\\/p\\u00e9\\n"}}')).toEqual([{ object: true, sessionFile: '/pé\n' }]);
  });

  it('declines anything JSON.parse refuses', () => {
    for (const text of ['', ' ', '{', '{"a":1,}', '{"a":01}', '{"a":-}', '{"a":1.}', '{"a":.5}', '{"a":1e}', "{'a':1}", '{"a":"\t"}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":tru}', '{"a":1} x', '\uFEFF{}', '{"a" 1}', '[1]', 'null', '"x"']) {
      expect(scanSessionEntries(text)).toBeUndefined();
    }
  });

  it('survives nesting deeper than its recursion, by declining', () => {
    const deep = `{"a": {"skillsSnapshot": ${'['.repeat(200_000)}${']'.repeat(200_000)}}}`;
    const scanned = scanSessionEntries(deep);
    if (scanned !== undefined) expect(scanned).toEqual(reference(deep));
  });
});
