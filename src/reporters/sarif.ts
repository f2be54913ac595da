// SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, Azure DevOps, VS Code SARIF viewer).
// Pure: Report → string. Every rule passed in is described in tool.driver.rules, whether it ran or
// not, so result.ruleIndex is stable for a given rule set.
//
// Paths are machine paths, not repository files: a path under one of report.roots becomes a URI
// relative to that root's uriBaseId (STATEDIR / HOME / ROOTFS, the same roots and the same
// longest-prefix choice as the fingerprints, see engine.normalisePath), and originalUriBaseIds
// says where each root was on the scanned machine. Other absolute paths become file:// URIs.
import type * as Sarif from 'sarif';
import { ruleDocPath } from '../docs.js';
import { normalisePath } from '../knowledge/fingerprint.js';
import type { Finding, FixAction, Report, Rule, Severity } from '../model.js';
import { octal, printable } from '../knowledge/text.js';

export interface SarifOptions {
  /** automationDetails.id prefix; default `resonix-migrate/<phase>` (a trailing '/' is added) */
  category?: string;
  /** where rule pages live; helpUri = docsBaseUri + docs/rules/<id>.md */
  docsBaseUri?: string;
}

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const DEFAULT_DOCS_BASE_URI = 'https://github.com/resonix/resonix-migrate/blob/main/';
const INFORMATION_URI = 'https://github.com/resonix/resonix-migrate';
/** partialFingerprints key: bump the version if the fingerprint recipe ever changes */
export const FINGERPRINT_KEY = 'resonixMigrate/v1';

type RootName = 'STATEDIR' | 'HOME' | 'ROOTFS';
const ROOT_NAMES: readonly RootName[] = ['STATEDIR', 'HOME', 'ROOTFS'];

const LEVEL: Record<Severity, Sarif.Result.level> = { error: 'error', warning: 'warning', info: 'note' };
/** GitHub code scanning reads rule-level properties['security-severity'] (>= 7 high, >= 4 medium, else low) */
const SECURITY_SEVERITY: Record<Severity, string> = { error: '8.0', warning: '5.0', info: '2.0' };

/** Lone surrogates become U+FFFD: encodeURIComponent throws on them, and JSON consumers choke. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** Untrusted text for a SARIF message: no raw control or bidi characters; a lone surrogate shown as \\udXXX. */
function text(value: string): string {
  return printable(value).replace(LONE_SURROGATE, (char) => `\\u${char.charCodeAt(0).toString(16)}`);
}

/** Percent-encodes one path segment: space, '#', '?', '%', ':', non-ASCII (as UTF-8), controls. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(wellFormed(segment));
}

function encodePath(path: string): string {
  return path.split('/').map(encodeSegment).join('/');
}

/** An absolute path as a file:// URI; a Windows drive path keeps its 'C:'. */
export function fileUri(absolute: string): string {
  const drive = /^([A-Za-z]):[\\/]/.exec(absolute);
  if (drive) return `file:///${drive[1]}:/${encodePath(absolute.slice(3).replace(/\\/g, '/'))}`;
  return `file://${encodePath(absolute)}`;
}

function trimRoot(root: string): string {
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

interface Located {
  uri: string;
  uriBaseId?: RootName;
}

/** Where a path lies: relative to the root fingerprints use, else absolute. */
function locate(target: string, roots: NonNullable<Report['roots']>): Located {
  const trimmed = Object.fromEntries(Object.entries(roots).map(([name, root]) => [name, root === undefined ? root : trimRoot(root)])) as typeof roots;
  const normalised = normalisePath(target, trimmed);
  if (normalised !== target) {
    for (const name of ROOT_NAMES) {
      if (normalised === `$${name}`) return { uri: '.', uriBaseId: name };
      if (normalised.startsWith(`$${name}/`)) {
        const relative = encodePath(normalised.slice(name.length + 2));
        // a first segment like "a:b" would read as a URI scheme; encodePath already turned ':' into %3A
        return { uri: relative === '' ? '.' : relative, uriBaseId: name };
      }
    }
  }
  if (target.startsWith('/') || /^[A-Za-z]:[\\/]/.test(target)) return { uri: fileUri(target) };
  // a relative path (e.g. an archive member): a relative reference with no base
  return { uri: encodePath(target) || '.' };
}

function pascalCase(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

function familyOf(id: string): string {
  const slash = id.indexOf('/');
  return slash > 0 ? id.slice(0, slash) : id;
}

function helpBase(docsBaseUri: string): string {
  return docsBaseUri.endsWith('/') ? docsBaseUri : `${docsBaseUri}/`;
}

function ruleDescriptor(rule: Rule, docsBaseUri: string): Sarif.ReportingDescriptor {
  const { meta } = rule;
  const tags = [...new Set([familyOf(meta.id), ...(meta.tags ?? [])])];
  const security = tags.includes('security');
  return {
    id: meta.id,
    name: pascalCase(meta.id),
    shortDescription: { text: meta.title },
    fullDescription: { text: meta.description },
    help: {
      text: `Why it matters: ${meta.why}\n\nHow to fix: ${meta.fix}`,
      markdown: `## Why it matters\n\n${meta.why}\n\n## How to fix\n\n${meta.fix}`,
    },
    helpUri: `${helpBase(docsBaseUri)}${encodePath(ruleDocPath(meta.id))}`,
    defaultConfiguration: { level: LEVEL[meta.severity] },
    properties: {
      tags,
      ...(security ? { 'security-severity': SECURITY_SEVERITY[meta.severity] } : {}),
      phases: meta.phases,
      ...(meta.autofix ? { autofix: true } : {}),
    },
  };
}

function actionProperties(action: FixAction): Record<string, unknown> {
  return {
    kind: action.kind,
    path: text(action.path),
    ...(action.mode !== undefined ? { mode: octal(action.mode) } : {}),
    ...(action.uid !== undefined ? { uid: action.uid } : {}),
    ...(action.gid !== undefined ? { gid: action.gid } : {}),
    ...(action.recursive ? { recursive: true } : {}),
  };
}

/**
 * Where in its artifact a finding is (SARIF §3.30):
 * - a config key or a parse error: its line and column (the scan locates the keys it reports on);
 * - any other file the scan saw: the whole file, as bytes 0..size (no need to read it to count lines);
 * - a directory, or a path the scan did not see (a missing file): no region. A directory has no lines
 *   or bytes, and a missing file none either; any region there would be made up. The artifact URI
 *   alone is the honest location (README, "SARIF": this is the one Multitool warning left, SARIF2017).
 */
export function regionOf(finding: Pick<Finding, 'line' | 'column' | 'endLine' | 'endColumn' | 'target'>): Sarif.Region | undefined {
  if (finding.line !== undefined) {
    return {
      startLine: finding.line,
      ...(finding.column !== undefined ? { startColumn: finding.column } : {}),
      ...(finding.endLine !== undefined ? { endLine: finding.endLine } : {}),
      ...(finding.endLine !== undefined && finding.endColumn !== undefined ? { endColumn: finding.endColumn } : {}),
    };
  }
  if (finding.target?.type === 'file' && finding.target.size !== undefined) return { byteOffset: 0, byteLength: finding.target.size };
  return undefined;
}

export function formatSarif(report: Report, rules: readonly Rule[], options: SarifOptions = {}): string {
  const roots = report.roots ?? {};
  const docsBaseUri = options.docsBaseUri ?? DEFAULT_DOCS_BASE_URI;
  const usedRoots = new Set<RootName>();
  const ruleIndex = new Map<string, number>();
  const descriptors: Sarif.ReportingDescriptor[] = [];
  for (const rule of rules) {
    if (ruleIndex.has(rule.meta.id)) continue;
    ruleIndex.set(rule.meta.id, descriptors.length);
    descriptors.push(ruleDescriptor(rule, docsBaseUri));
  }

  /** a directory's URI ends with '/', so a reader sees that the location is a directory, not a file */
  const artifactLocation = (target: string, directory = false): Sarif.ArtifactLocation => {
    // the archive `inspect` reads is ROOTFS, but a finding about the archive file itself is about a real file here
    const located = report.archive && target === report.archive.path ? { uri: fileUri(target) } : locate(target, roots);
    if (directory && !located.uri.endsWith('/')) located.uri = located.uri === '.' ? './' : `${located.uri}/`;
    if (located.uriBaseId) usedRoots.add(located.uriBaseId);
    return located.uriBaseId ? { uri: located.uri, uriBaseId: located.uriBaseId } : { uri: located.uri };
  };
  const location = (target: string, region?: Sarif.Region, directory = false): Sarif.Location => ({
    physicalLocation: { artifactLocation: artifactLocation(target, directory), ...(region ? { region } : {}) },
  });

  const fixOf = (finding: Finding): Sarif.Fix | undefined => {
    const fix = finding.fix;
    if (!fix?.actions || fix.actions.length === 0) return undefined;
    // chmod / chown / mkdir are not text edits, and the schema requires every fix to have at least
    // one artifactChange with at least one replacement (an empty `replacements` array is invalid:
    // minItems 1). So each action becomes an artifactChange on the path it acts on, carrying one
    // zero-length replacement with no insertedContent: a valid no-op edit. The real change is in
    // the fix description (the exact shell commands) and in artifactChange.properties.action.
    // A viewer that "applies" the fix changes nothing; nothing is ever mis-edited.
    const seen = new Set<string>();
    const artifactChanges: Sarif.ArtifactChange[] = [];
    for (const action of fix.actions) {
      const change: Sarif.ArtifactChange = {
        artifactLocation: artifactLocation(action.path),
        replacements: [{ deletedRegion: { byteOffset: 0, byteLength: 0 } }],
        properties: { action: actionProperties(action) },
      };
      const key = JSON.stringify(change);
      if (seen.has(key)) continue;
      seen.add(key);
      artifactChanges.push(change);
    }
    const commands = fix.commands.map((command) => `$ ${text(command)}`);
    return {
      description: { text: [text(fix.summary), ...(commands.length > 0 ? ['', ...commands] : [])].join('\n') },
      artifactChanges,
      properties: { commands: fix.commands.map(text) },
    };
  };

  const results: Sarif.Result[] = report.findings.map((finding) => {
    const index = ruleIndex.get(finding.ruleId);
    // a finding without a path is placed at its install's state dir when it has one
    const target = finding.path ?? finding.install;
    const region = regionOf(finding);
    const fix = fixOf(finding);
    const result: Sarif.Result = {
      ruleId: finding.ruleId,
      ...(index !== undefined ? { ruleIndex: index } : {}),
      level: LEVEL[finding.severity],
      message: { text: text(finding.message) },
      locations: target !== undefined ? [location(target, region, finding.target?.type === 'dir')] : [],
      ...(finding.fingerprint ? { partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint } } : {}),
      ...(fix ? { fixes: [fix] } : {}),
      ...(finding.suppressed
        ? {
            suppressions: [
              {
                // config suppressions and baseline entries both live outside the scanned files
                kind: 'external',
                status: 'accepted',
                justification: text(finding.suppressed.reason) + (finding.suppressed.expires ? ` (until ${text(finding.suppressed.expires)})` : ''),
                properties: { source: finding.suppressed.kind, ...(finding.suppressed.expires ? { expires: text(finding.suppressed.expires) } : {}) },
              },
            ],
          }
        : {}),
    };
    const properties: Record<string, unknown> = {
      ...(finding.install !== undefined ? { install: text(finding.install) } : {}),
      ...(finding.evidence && finding.evidence.length > 0 ? { evidence: finding.evidence.map(text) } : {}),
      ...(finding.fix && !fix ? { fix: { summary: text(finding.fix.summary), commands: finding.fix.commands.map(text) } } : {}),
      // the diagnosis: the fingerprint of the root finding this one follows from
      ...(finding.causedBy ? { causedBy: text(finding.causedBy) } : {}),
    };
    if (Object.keys(properties).length > 0) result.properties = properties;
    return result;
  });

  const notifications: Sarif.Notification[] = [
    ...report.problems.map(
      (problem): Sarif.Notification => ({
        level: 'note',
        message: { text: `${text(problem.code)}: ${text(problem.message)}` },
        locations: [location(problem.path)],
        properties: { code: text(problem.code) },
      }),
    ),
    ...report.rules.skipped.map((skipped): Sarif.Notification => {
      const index = ruleIndex.get(skipped.id);
      return {
        level: 'note',
        message: { text: `Rule ${text(skipped.id)} did not run: ${text(skipped.reason)}` },
        associatedRule: { id: skipped.id, ...(index !== undefined ? { index } : {}) },
      };
    }),
    ...(report.stale?.baseline ?? []).map(
      (entry): Sarif.Notification => ({ level: 'note', message: { text: `Baseline entry no longer matches any finding: ${text(entry)}` } }),
    ),
    ...(report.stale?.suppressions ?? []).map(
      (entry): Sarif.Notification => ({
        level: 'note',
        message: { text: `Suppression of ${text(entry.rule)} for ${text(entry.path)} expired on ${text(entry.expired)}` },
      }),
    ),
  ];

  const originalUriBaseIds: Record<string, Sarif.ArtifactLocation> = {};
  for (const name of ROOT_NAMES) {
    const root = roots[name];
    if (!usedRoots.has(name) || root === undefined) continue;
    const uri = fileUri(trimRoot(root));
    originalUriBaseIds[name] = { uri: uri.endsWith('/') ? uri : `${uri}/`, description: { text: `${name} on the scanned machine` } };
  }

  const category = options.category ?? `resonix-migrate/${report.phase}`;
  const suppressed = report.findings.filter((finding) => finding.suppressed).length;
  const run: Sarif.Run = {
    tool: {
      driver: {
        name: report.tool.name,
        version: report.tool.version,
        semanticVersion: report.tool.version,
        informationUri: INFORMATION_URI,
        rules: descriptors,
      },
    },
    automationDetails: { id: category.endsWith('/') ? category : `${category}/` },
    invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
    ...(Object.keys(originalUriBaseIds).length > 0 ? { originalUriBaseIds } : {}),
    results,
    properties: {
      phase: report.phase,
      summary: { error: report.summary.error, warning: report.summary.warning, info: report.summary.info, suppressed },
    },
  };
  const log: Sarif.Log = { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs: [run] };
  return `${JSON.stringify(log, null, 2)}\n`;
}
