// SARIF output: valid against the official 2.1.0 schema for every report shape, locations relative
// to the same roots as the fingerprints, and hostile strings kept inert.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Sarif from 'sarif';
import { describe, expect, it } from 'vitest';
import { normalisePath } from '../../src/knowledge/fingerprint.js';
import type { Finding, Report } from '../../src/model.js';
import { formatSarif } from '../../src/reporters/sarif.js';
import { HOME, STATEDIR, ROOTFS, RULES, report, CHMOD, fullReport, hostileReport, cleanReport } from './fixture.js';
import { SARIF_SCHEMA } from '../helpers/shared.js';

// ---- end of fixture ----

const SCHEMA_PATH = SARIF_SCHEMA;
const HAS_SCHEMA = fs.existsSync(SCHEMA_PATH);

// ajv-draft-04 and ajv-formats are CommonJS; require() gives the classes without default-interop guesswork
const require = createRequire(import.meta.url);
type AjvClass = typeof import('ajv-draft-04').default;
type AddFormats = typeof import('ajv-formats').default;

function validator(): (data: unknown) => string[] {
  const Ajv = require('ajv-draft-04') as AjvClass;
  const addFormats = require('ajv-formats') as AddFormats;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8')) as object);
  return (data) => (validate(data) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''} ${JSON.stringify(error.params)}`));
}

function sarif(input: Report, options: Parameters<typeof formatSarif>[2] = {}): Sarif.Log {
  const text = formatSarif(input, RULES, options);
  expect(text.endsWith('\n')).toBe(true);
  return JSON.parse(text) as Sarif.Log;
}

function runOf(log: Sarif.Log): Sarif.Run {
  expect(log.runs).toHaveLength(1);
  return log.runs[0]!;
}

const SAMPLES: [string, () => Report][] = [
  ['clean', cleanReport],
  ['every severity, suppressions, fixes, roots', fullReport],
  ['hostile strings', hostileReport],
  ['no roots at all', () => ({ ...fullReport(), roots: undefined })],
];

describe.skipIf(!HAS_SCHEMA)(HAS_SCHEMA ? 'SARIF schema' : `SARIF schema (skipped: ${SCHEMA_PATH} is missing)`, () => {
  const validate = HAS_SCHEMA ? validator() : () => [];
  for (const [name, make] of SAMPLES) {
    it(`${name}: valid SARIF 2.1.0`, () => {
      expect(validate(sarif(make()))).toEqual([]);
      expect(validate(sarif(make(), { category: 'nightly/host-a', docsBaseUri: 'https://docs.example.com/resonix' }))).toEqual([]);
    });
  }
  it('the validator does reject a broken log (the check is not vacuous)', () => {
    const log = sarif(fullReport());
    const fix = runOf(log).results![0]!.fixes![0]!;
    fix.artifactChanges[0]!.replacements = [];
    expect(validate(log).length).toBeGreaterThan(0);
  });
});

describe('formatSarif', () => {
  it('describes the log and the tool', () => {
    const log = sarif(fullReport());
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    const driver = runOf(log).tool.driver;
    expect(driver.name).toBe('resonix-migrate');
    expect(driver.version).toBe('0.1.0');
    expect(driver.informationUri).toMatch(/^https:\/\//);
  });

  it('lists every rule passed in, with help, docs link, level, tags and security-severity', () => {
    const rules = runOf(sarif(cleanReport())).tool.driver.rules!;
    expect(rules.map((item) => item.id)).toEqual(RULES.map((item) => item.meta.id));
    const exposed = rules[0]!;
    expect(exposed.name).toBe('PermsSecretsExposed');
    expect(exposed.shortDescription?.text).toBe('Title of perms/secrets-exposed');
    expect(exposed.fullDescription?.text).toBe('What perms/secrets-exposed checks.');
    expect(exposed.help?.text).toContain('Why perms/secrets-exposed matters.');
    expect(exposed.help?.text).toContain('How to fix perms/secrets-exposed.');
    expect(exposed.help?.markdown).toContain('How to fix perms/secrets-exposed.');
    expect(exposed.helpUri).toBe('https://github.com/resonix/resonix-migrate/blob/main/docs/rules/perms/secrets-exposed.md');
    expect(exposed.defaultConfiguration?.level).toBe('error');
    expect(exposed.properties?.tags).toEqual(['perms', 'security']);
    expect(exposed.properties?.['security-severity']).toBe('8.0');
    expect(rules[2]!.properties?.['security-severity']).toBe('5.0');
    expect(rules[1]!.properties?.['security-severity']).toBeUndefined();
    expect(rules[1]!.properties?.tags).toEqual(['gateway']);
    expect(rules[3]!.defaultConfiguration?.level).toBe('note');
    const custom = runOf(sarif(cleanReport(), { docsBaseUri: 'https://docs.example.com/r' })).tool.driver.rules!;
    expect(custom[1]!.helpUri).toBe('https://docs.example.com/r/docs/rules/gateway/port-conflict.md');
  });

  it('a clean report has an empty results array, and no originalUriBaseIds', () => {
    const run = runOf(sarif(cleanReport()));
    expect(run.results).toEqual([]);
    expect(run.originalUriBaseIds).toBeUndefined();
    expect(run.properties?.summary).toEqual({ error: 0, warning: 0, info: 0, suppressed: 0 });
  });

  it('maps each finding to a result: rule index, level, message, fingerprint', () => {
    const input = fullReport();
    const run = runOf(sarif(input));
    const results = run.results!;
    expect(results).toHaveLength(input.findings.length);
    results.forEach((result, index) => {
      const finding = input.findings[index]!;
      expect(result.ruleId).toBe(finding.ruleId);
      expect(run.tool.driver.rules![result.ruleIndex!]!.id).toBe(finding.ruleId);
      expect(result.level).toBe({ error: 'error', warning: 'warning', info: 'note' }[finding.severity]);
      expect(result.message.text).toBe(finding.message);
      expect(result.partialFingerprints).toEqual({ 'resonixMigrate/v1': finding.fingerprint });
    });
    expect(run.properties?.summary).toEqual({ ...input.summary, suppressed: 2 });
  });

  it('puts paths relative to the root fingerprints use, or as percent-encoded file:// URIs', () => {
    const input = fullReport();
    const run = runOf(sarif(input));
    const where = run.results!.map((result) => result.locations?.[0]?.physicalLocation?.artifactLocation);
    expect(where[0]).toEqual({ uri: 'credentials/creds.json', uriBaseId: 'STATEDIR' });
    expect(where[1]).toEqual({ uri: 'etc/systemd/system/resonix-gateway.service', uriBaseId: 'ROOTFS' });
    expect(where[2]).toEqual({ uri: 'file:///opt/backups/%C3%B1and%C3%BA/alice%20backup%20%231%3F.tar.gz' });
    expect(where[3]).toEqual({ uri: '.resonix-work', uriBaseId: 'HOME' });
    expect(where[4]).toEqual({ uri: '.', uriBaseId: 'STATEDIR' }); // no path: placed at its install
    expect(where[6]).toEqual({ uri: '.', uriBaseId: 'STATEDIR' }); // the state dir itself
    expect(run.originalUriBaseIds).toEqual({
      STATEDIR: { uri: 'file:///home/alice/.resonix/', description: { text: 'STATEDIR on the scanned machine' } },
      HOME: { uri: 'file:///home/alice/', description: { text: 'HOME on the scanned machine' } },
      ROOTFS: { uri: 'file:///mnt/image/', description: { text: 'ROOTFS on the scanned machine' } },
    });
    // every location resolves back to the original path, through the same root as normalisePath
    input.findings.forEach((finding, index) => {
      const location = where[index]!;
      const base = location.uriBaseId ? run.originalUriBaseIds![location.uriBaseId]!.uri! : undefined;
      const resolved = decodeURIComponent(new URL(location.uri!, base).pathname).replace(/\/$/, '');
      expect(resolved).toBe(finding.path ?? finding.install);
      const normalised = normalisePath(finding.path ?? finding.install!, input.roots!);
      expect(normalised.startsWith('$') ? normalised.slice(1).split('/')[0] : undefined).toBe(location.uriBaseId);
    });
  });

  it('declares only the roots it uses, each ending with a slash', () => {
    const input = report([CHMOD], { roots: { HOME, STATEDIR: `${STATEDIR}/`, ROOTFS } });
    const run = runOf(sarif(input));
    expect(Object.keys(run.originalUriBaseIds!)).toEqual(['STATEDIR']);
    expect(run.originalUriBaseIds!.STATEDIR!.uri).toBe('file:///home/alice/.resonix/');
  });

  it('encodes path characters that would break a URI', () => {
    const input = report([{ ...CHMOD, path: `${STATEDIR}/a b/c#d?e%f/g:h/\u00e9\u{1f600}` }, { ...CHMOD, path: '/tmp/x:y z' }]);
    const results = runOf(sarif(input)).results!;
    expect(results[0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('a%20b/c%23d%3Fe%25f/g%3Ah/%C3%A9%F0%9F%98%80');
    expect(results[1]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('file:///tmp/x%3Ay%20z');
  });

  it('a fix with actions becomes a schema-valid no-op artifact change; commands in the description', () => {
    const results = runOf(sarif(fullReport())).results!;
    const fix = results[0]!.fixes![0]!;
    expect(fix.description?.text).toBe(`Make it readable by alice only\n\n$ chmod 600 ${STATEDIR}/credentials/creds.json`);
    expect(fix.artifactChanges).toEqual([
      {
        artifactLocation: { uri: 'credentials/creds.json', uriBaseId: 'STATEDIR' },
        replacements: [{ deletedRegion: { byteOffset: 0, byteLength: 0 } }],
        properties: { action: { kind: 'chmod', path: `${STATEDIR}/credentials/creds.json`, mode: '0600' } },
      },
    ]);
    // a fix without actions is no SARIF fix, but its commands are kept in the result's properties
    expect(results[2]!.fixes).toBeUndefined();
    expect(results[2]!.properties?.fix).toEqual({ summary: 'Encrypt it', commands: ["age -p -o 'x.age' 'x'"] });
    expect(results[1]!.fixes).toBeUndefined();
  });

  it('suppressed findings carry external suppressions with their justification', () => {
    const results = runOf(sarif(fullReport())).results!;
    expect(results[5]!.suppressions).toEqual([
      { kind: 'external', status: 'accepted', justification: 'shared lab box, accepted (until 2099-01-01)', properties: { source: 'config', expires: '2099-01-01' } },
    ]);
    expect(results[6]!.suppressions?.[0]).toMatchObject({ kind: 'external', justification: 'known in baseline .resonix-migrate-baseline.json', properties: { source: 'baseline' } });
    expect(results[0]!.suppressions).toBeUndefined();
  });

  it('reports problems, skipped rules and stale entries as notes of a successful invocation', () => {
    const run = runOf(sarif(fullReport()));
    const invocation = run.invocations![0]!;
    expect(invocation.executionSuccessful).toBe(true);
    const notes = invocation.toolExecutionNotifications!;
    expect(notes.every((note) => note.level === 'note')).toBe(true);
    expect(notes[0]).toMatchObject({ message: { text: 'EACCES: permission denied' }, locations: [{ physicalLocation: { artifactLocation: { uri: 'private', uriBaseId: 'HOME' } } }] });
    expect(notes[1]).toMatchObject({ message: { text: 'Rule copy/sqlite-torn did not run: needs a baseline (--against a manifest or archive)' }, associatedRule: { id: 'copy/sqlite-torn', index: 4 } });
    expect(notes[2]!.associatedRule).toEqual({ id: 'remote/mode-unset', index: 5 });
    expect(notes).toHaveLength(5);
  });

  it('sets automationDetails.id from the category, with a trailing slash', () => {
    expect(runOf(sarif(fullReport())).automationDetails?.id).toBe('resonix-migrate/verify/');
    expect(runOf(sarif(fullReport(), { category: 'nightly/host-a' })).automationDetails?.id).toBe('nightly/host-a/');
    expect(runOf(sarif(fullReport(), { category: 'nightly/' })).automationDetails?.id).toBe('nightly/');
  });

  it('keeps hostile strings inert: no raw control, bidi or lone surrogate characters in any string', () => {
    const text = formatSarif(hostileReport(), RULES, {});
    const strings: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') strings.push(value);
      else if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(JSON.parse(text));
    for (const value of strings) {
      // eslint-disable-next-line no-control-regex
      expect(value).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      expect(value).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
    const results = runOf(JSON.parse(text) as Sarif.Log).results!;
    expect(results[0]!.message.text).toBe('bad evil\\e[2J\\n::error::pwned</testcase><x>]]>| pipe ```tick`<script>alert(1)</script>\\ud800');
    expect(results[0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toMatch(/^evil%1B%5B2J%0A%3A%3Aerror%3A%3Apwned%3C\/testcase%3E%3Cx%3E%5D%5D%3E%7C%20pipe%20%60%60%60tick%60%3Cscript%3E/);
    expect(results[0]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toContain('%EF%BF%BD.json');
  });

  it('is deterministic', () => {
    expect(formatSarif(fullReport(), RULES, {})).toBe(formatSarif(fullReport(), RULES, {}));
  });
});

describe('regions (what the SARIF Multitool asks for, SARIF2017)', () => {
  const located = (finding: Omit<Finding, 'ruleId' | 'severity' | 'message'>): Sarif.PhysicalLocation =>
    runOf(sarif(report([{ ruleId: 'gateway/port-conflict', severity: 'warning', message: 'm', ...finding }]))).results![0]!.locations![0]!.physicalLocation!;

  it('a config key: its line and column, start and end', () => {
    expect(located({ path: `${STATEDIR}/resonix.json`, line: 3, column: 14, endLine: 3, endColumn: 18, target: { type: 'file', size: 99 } }).region).toEqual({
      startLine: 3,
      startColumn: 14,
      endLine: 3,
      endColumn: 18,
    });
    // a parse error gives a start only
    expect(located({ path: `${STATEDIR}/resonix.json`, line: 7, column: 2 }).region).toEqual({ startLine: 7, startColumn: 2 });
  });

  it('another file the scan saw: the whole file as bytes; one it did not see, or a directory: no region, and a directory URI ends with /', () => {
    expect(located({ path: `${STATEDIR}/credentials/x.json`, target: { type: 'file', size: 1234 } }).region).toEqual({ byteOffset: 0, byteLength: 1234 });
    expect(located({ path: `${STATEDIR}/credentials/x.json`, target: { type: 'file', size: 0 } }).region).toEqual({ byteOffset: 0, byteLength: 0 });
    expect(located({ path: `${STATEDIR}/missing.json` }).region).toBeUndefined();
    const dir = located({ path: `${STATEDIR}/credentials`, target: { type: 'dir' } });
    expect(dir.region).toBeUndefined();
    expect(dir.artifactLocation).toEqual({ uri: 'credentials/', uriBaseId: 'STATEDIR' });
    expect(located({ path: STATEDIR, target: { type: 'dir' } }).artifactLocation).toEqual({ uri: './', uriBaseId: 'STATEDIR' });
  });
});

describe('inspect: a finding about the archive file itself', () => {
  it('is located by its own file URI, not as "." of the archive as ROOTFS', () => {
    const archivePath = '/tmp/backups/resonix state.tgz';
    const onArchive: Finding = { ruleId: 'copy/config-only', severity: 'error', message: 'plain backup', path: archivePath };
    const inside: Finding = { ruleId: 'copy/config-only', severity: 'error', message: 'inside', path: `${archivePath}/.resonix/resonix.json` };
    const log = JSON.parse(
      formatSarif(report([onArchive, inside], { archive: { path: archivePath, format: 'tar.gz', encrypted: false }, roots: { ROOTFS: `${archivePath}/` } }), RULES),
    ) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[] }[] }[] };
    const [first, second] = log.runs[0]!.results.map((result) => result.locations[0]!.physicalLocation.artifactLocation);
    expect(first).toEqual({ uri: 'file:///tmp/backups/resonix%20state.tgz' });
    expect(second).toEqual({ uri: '.resonix/resonix.json', uriBaseId: 'ROOTFS' });
  });
});
