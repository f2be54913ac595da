// Property-based tests of every parser of outside data: no input may throw, hang or write anything.
// The normal test run uses a fixed seed and a small sample; `npm run fuzz` runs FUZZ_RUNS (10,000)
// cases per parser with a random seed and prints the counts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import JSON5 from 'json5';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyArchiveHead, isTarHeader } from '../../src/archive/classify.js';
import { inspectArchiveFile } from '../../src/archive/list.js';
import { parseManifest } from '../../src/manifest/read.js';
import { ManifestError } from '../../src/manifest/types.js';
import { parseDotenv } from '../../src/scan/dotenv.js';
import { parseConfigText } from '../../src/scan/install.js';
import { parseGroup, parsePasswd } from '../../src/scan/passwd.js';
import { parseLaunchdPlist } from '../../src/scan/plist.js';
import { maskSecrets } from '../../src/knowledge/mask.js';
import { parseSqliteHeader } from '../../src/scan/sqlite-header.js';
import { parseSystemdUnit } from '../../src/scan/systemd.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** archive inputs are files on disk: fewer in the normal run */
const ARCHIVE_RUNS = process.env.FUZZ_RUNS ? RUNS : 30;
const SEED = process.env.FUZZ_RUNS ? Date.now() : 20261124;
/** one input may take this long at most: a hang shows up as a failure, not a stuck run */
const PER_INPUT_MS = 2000;
const counts: Record<string, number> = {};

function timed<T>(name: string, run: () => T): T {
  const started = performance.now();
  const result = run();
  const took = performance.now() - started;
  counts[name] = (counts[name] ?? 0) + 1;
  if (took > PER_INPUT_MS) throw new Error(`${name} took ${Math.round(took)} ms on one input`);
  return result;
}

function property<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => void): void {
  it(`${name}: ${RUNS} inputs, no throw, bounded time`, () => {
    fc.assert(fc.property(arbitrary, (value) => timed(name, () => check(value))), { numRuns: RUNS, seed: SEED });
  });
}

afterAll(() => {
  if (process.env.FUZZ_RUNS) console.log(`fuzz cases run (seed ${SEED}):\n${Object.entries(counts).map(([name, count]) => `  ${name}: ${count}`).join('\n')}`);
});

const text = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'grapheme-composite', maxLength: 200 }));
const bytes = fc.uint8Array({ maxLength: 4096 }).map((array) => Buffer.from(array));

describe('resonix.json (JSON5)', () => {
  property('arbitrary text', text, (input) => {
    const summary = parseConfigText(input, '/x/resonix.json', new Set());
    expect(summary.exists).toBe(true);
  });
  property('arbitrary JSON values written as JSON5, secrets never kept in the summary', fc.jsonValue({ maxDepth: 6 }), (value) => {
    const secrets = new Set<string>();
    const summary = parseConfigText(JSON5.stringify(value), '/x/resonix.json', secrets);
    expect(summary.parseError).toBeUndefined();
    const serialised = JSON.stringify(summary);
    for (const secret of secrets) if (secret.length >= 12) expect(serialised).not.toContain(secret);
  });
  property('configs with a gateway token in random places', fc.record({ mode: fc.constantFrom('local', 'remote', undefined), token: fc.stringMatching(/^[a-f0-9]{48}$/) }), ({ mode, token }) => {
    const secrets = new Set<string>();
    const summary = parseConfigText(JSON5.stringify({ gateway: { ...(mode ? { mode } : {}), auth: { token } } }), '/x/resonix.json', secrets);
    expect(JSON.stringify(summary)).not.toContain(token);
    expect(secrets.has(token)).toBe(true);
  });
  it('a config nested 10,000 deep is data, not a stack overflow', () => {
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect(() => parseConfigText(deep, '/x/resonix.json', new Set())).not.toThrow();
  });
});

describe('snapshot manifests', () => {
  const accepts = (input: string): void => {
    try {
      parseManifest(input, 'fuzz.json');
    } catch (error) {
      // a bad manifest is a clear ManifestError (exit 2), never anything else
      expect(error).toBeInstanceOf(ManifestError);
      expect((error as Error).message.split('\n')).toHaveLength(1);
    }
  };
  property('arbitrary text', text, accepts);
  property('arbitrary JSON', fc.jsonValue({ maxDepth: 8 }), (value) => accepts(JSON.stringify(value)));
  property(
    'manifest-shaped JSON with random fields',
    fc.record({ manifest: fc.oneof(fc.constant(1), fc.integer(), fc.string()), tool: fc.jsonValue(), createdAt: fc.string(), machine: fc.jsonValue({ maxDepth: 5 }), owners: fc.jsonValue(), hashing: fc.jsonValue() }),
    (value) => accepts(JSON.stringify(value)),
  );
});

describe('service units', () => {
  const unitLine = fc.oneof(
    text,
    fc.tuple(fc.constantFrom('ExecStart=', 'Environment=', 'EnvironmentFile=', 'User=', 'WorkingDirectory=', '[Service]', '[Unit]', '#'), text).map(([key, value]) => `${key}${value}`),
  );
  property('systemd units', fc.tuple(fc.array(unitLine, { maxLength: 30 }), fc.constantFrom('\n', '\\\n', '\r\n')).map(([lines, separator]) => lines.join(separator)), (input) => {
    const unit = parseSystemdUnit(input);
    expect(Array.isArray(unit.errors)).toBe(true);
  });
  property('launchd plists (text)', fc.oneof(text, text.map((inner) => `<?xml version="1.0"?><plist version="1.0"><dict><key>ProgramArguments</key><array><string>${inner}</string></array></dict></plist>`)), (input) => {
    expect(Array.isArray(parseLaunchdPlist(input).errors)).toBe(true);
  });
  property('launchd plists (bytes, incl. bplist00 headers)', fc.oneof(bytes, bytes.map((tail) => Buffer.concat([Buffer.from('bplist00'), tail]))), (input) => {
    expect(Array.isArray(parseLaunchdPlist(input).errors)).toBe(true);
  });
  property('dotenv files', text, (input) => {
    expect(typeof parseDotenv(input)).toBe('object');
  });
  property('passwd and group files', text, (input) => {
    parsePasswd(input);
    parseGroup(input);
  });
});

describe('binary headers', () => {
  property('archive signatures', fc.oneof(bytes, fc.constantFrom('PK\x03\x04', '\x1f\x8b', 'age-encryption.org/v1\n', '-----BEGIN PGP MESSAGE-----', 'Salted__', "7z\xbc\xaf'\x1c").chain((prefix) => bytes.map((tail) => Buffer.concat([Buffer.from(prefix, 'latin1'), tail])))), (input) => {
    const { format } = classifyArchiveHead(input);
    expect(typeof format).toBe('string');
    isTarHeader(input.subarray(0, 512));
  });
  property('SQLite headers', fc.oneof(bytes, bytes.map((tail) => Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), tail]))), (input) => {
    const header = parseSqliteHeader('x.sqlite', input, input.length);
    expect(header.size).toBe(input.length);
  });
  property('the secret masker', text, (input) => {
    expect(typeof maskSecrets(input, ['abcdefgh'])).toBe('string');
  });
});

describe('archive listing of hostile files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-fuzz-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const prefixes = [Buffer.alloc(0), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3]), Buffer.from('PK\x03\x04', 'latin1'), Buffer.concat([Buffer.alloc(257), Buffer.from('ustar\x0000')])];
  it(`random and mutated archives: ${ARCHIVE_RUNS} files listed, none written`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...prefixes), bytes, async (prefix, tail) => {
        const file = path.join(dir, 'input.bin');
        fs.writeFileSync(file, Buffer.concat([prefix, tail]));
        const before = fs.readdirSync(dir);
        const started = performance.now();
        const result = await inspectArchiveFile(file, { maxMembers: 1000 });
        counts['archive listing'] = (counts['archive listing'] ?? 0) + 1;
        expect(performance.now() - started).toBeLessThan(PER_INPUT_MS * 5);
        expect(typeof result.format).toBe('string');
        expect(fs.readdirSync(dir)).toEqual(before);
      }),
      { numRuns: ARCHIVE_RUNS, seed: SEED },
    );
  });
});
