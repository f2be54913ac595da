// JUnit output: well-formed XML 1.0 whatever the strings, one testcase per rule, counts that add up.
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/model.js';
import { formatJunit } from '../../src/reporters/junit.js';
import { HOME, STATEDIR, RULES, report, CHMOD, fullReport, hostileReport, cleanReport } from './fixture.js';

// ---- end of fixture ----

// ---- a minimal XML 1.0 reader: enough to prove well-formedness of what formatJunit writes ----
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITY: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(raw: string, where: string): string {
  if (/[<]/.test(raw)) throw new Error(`raw '<' in ${where}`);
  return raw.replace(/&([^;]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new Error(`bare '&' in ${where}`);
    if (body in ENTITY) return ENTITY[body]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(body) ? parseInt(body.slice(2), 16) : /^#([0-9]+)$/.exec(body) ? parseInt(body.slice(1), 10) : NaN;
    if (Number.isNaN(code)) throw new Error(`unknown entity &${body}; in ${where}`);
    return String.fromCodePoint(code);
  });
}

/** Throws unless `xml` is well-formed (for the subset we write: declaration, elements, attributes, text). */
function parseXml(xml: string): XmlElement {
  // every character must be legal in XML 1.0
  for (const char of xml) {
    const code = char.codePointAt(0)!;
    const legal = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
    if (!legal) throw new Error(`illegal XML character U+${code.toString(16)}`);
  }
  let rest = xml;
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(rest);
  if (!declaration) throw new Error('missing XML declaration');
  rest = rest.slice(declaration[0].length);
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag = /^<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"]*")*)\s*(\/?)>/;
  while (rest.length > 0) {
    if (rest.startsWith('<')) {
      const match = tag.exec(rest);
      if (!match) throw new Error(`malformed tag at: ${JSON.stringify(rest.slice(0, 40))}`);
      const [whole, closing, name, attrs, selfClosing] = match;
      rest = rest.slice(whole.length);
      if (closing) {
        const open = stack.pop();
        if (!open || open.name !== name || stack.length === 0) throw new Error(`</${name}> closes <${open?.name}>`);
        continue;
      }
      const attributes: Record<string, string> = {};
      for (const [, key, value] of attrs!.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)) {
        if (key! in attributes) throw new Error(`duplicate attribute ${key}`);
        attributes[key!] = decode(value!, `attribute ${key}`);
      }
      const element: XmlElement = { name: name!, attributes, children: [], text: '' };
      const parent = stack[stack.length - 1]!;
      if (parent === root && root.children.length > 0) throw new Error('more than one root element');
      parent.children.push(element);
      if (!selfClosing) stack.push(element);
    } else {
      const end = rest.indexOf('<');
      const raw = end === -1 ? rest : rest.slice(0, end);
      rest = end === -1 ? '' : rest.slice(end);
      const parent = stack[stack.length - 1]!;
      if (parent === root && raw.trim() !== '') throw new Error('text outside the root element');
      if (raw.includes(']]>')) throw new Error("']]>' in text");
      parent.text += decode(raw, `text of <${parent.name}>`);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('no root element');
  return root.children[0]!;
}

function all(element: XmlElement, name: string): XmlElement[] {
  return [...(element.name === name ? [element] : []), ...element.children.flatMap((child) => all(child, name))];
}

function junit(input: Report): XmlElement {
  const xml = formatJunit(input, RULES);
  expect(xml.endsWith('\n')).toBe(true);
  return parseXml(xml);
}

function suiteOf(document: XmlElement): XmlElement {
  expect(document.name).toBe('testsuites');
  const suites = document.children.filter((child) => child.name === 'testsuite');
  expect(suites).toHaveLength(1);
  return suites[0]!;
}

function counts(element: XmlElement): Record<string, string | undefined> {
  const { tests, failures, errors, skipped } = element.attributes;
  return { tests, failures, errors, skipped };
}

describe('the test reader itself', () => {
  it('rejects what is not well-formed', () => {
    const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
    expect(() => parseXml(`${head}<a><b></a>`)).toThrow();
    expect(() => parseXml(`${head}<a>x & y</a>`)).toThrow();
    expect(() => parseXml(`${head}<a>\u001b</a>`)).toThrow();
    expect(() => parseXml(`${head}<a>\ud800</a>`)).toThrow();
    expect(() => parseXml(`${head}<a x="<"/>`)).toThrow();
    expect(() => parseXml(`${head}<a/><b/>`)).toThrow();
    expect(() => parseXml(`${head}<a>]]></a>`)).toThrow();
    expect(parseXml(`${head}<a x="&lt;&#10;"><b/>t&amp;</a>`)).toMatchObject({ name: 'a', attributes: { x: '<\n' }, text: 't&' });
  });
});

describe('formatJunit', () => {
  it('a clean report: one passing testcase per rule run, skipped rules skipped', () => {
    const document = junit(cleanReport());
    const suite = suiteOf(document);
    expect(suite.attributes.name).toBe('resonix-migrate verify');
    expect(counts(suite)).toEqual({ tests: '6', failures: '0', errors: '0', skipped: '2' });
    expect(counts(document)).toEqual(counts(suite));
    const cases = all(suite, 'testcase');
    expect(cases.map((item) => [item.attributes.classname, item.attributes.name])).toEqual([
      ['perms', 'perms/secrets-exposed'],
      ['gateway', 'gateway/port-conflict'],
      ['secrets', 'secrets/unencrypted-backup'],
      ['state', 'state/multiple-dirs'],
      ['copy', 'copy/sqlite-torn'],
      ['remote', 'remote/mode-unset'],
    ]);
    expect(all(suite, 'failure')).toHaveLength(0);
    expect(all(cases[4]!, 'skipped')[0]!.attributes.message).toBe('needs a baseline (--against a manifest or archive)');
    expect(all(cases[5]!, 'skipped')[0]!.attributes.message).toBe('turned off');
  });

  it('fails a rule once per testcase, listing every unsuppressed error and warning', () => {
    const suite = suiteOf(junit(fullReport()));
    expect(counts(suite)).toEqual({ tests: '6', failures: '3', errors: '0', skipped: '2' });
    const byName = new Map(all(suite, 'testcase').map((item) => [item.attributes.name, item]));
    const exposed = byName.get('perms/secrets-exposed')!;
    const failures = all(exposed, 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.attributes).toEqual({ message: 'creds.json is readable by group staff', type: 'error' });
    const text = failures[0]!.text;
    expect(text).toContain('Title of perms/secrets-exposed');
    expect(text).toContain(`path: ${STATEDIR}/credentials/creds.json`);
    expect(text).toContain('mode 0640, group staff (gid 20)');
    expect(text).toContain(`$ chmod 600 ${STATEDIR}/credentials/creds.json`);
    // the suppressed .env finding is not a failure: it is in system-out, marked
    expect(text).not.toContain('.env is readable');
    expect(all(exposed, 'system-out')[0]!.text).toContain('suppressed (config): shared lab box, accepted until 2099-01-01');

    const port = byName.get('gateway/port-conflict')!;
    expect(all(port, 'failure')[0]!.attributes).toEqual({ message: 'Port 18789 is taken', type: 'warning' });
    expect(all(port, 'system-out')[0]!.text).toContain('Known port clash');

    const multiple = byName.get('state/multiple-dirs')!;
    expect(all(multiple, 'failure')).toHaveLength(0);
    expect(all(multiple, 'system-out')[0]!.text).toContain('[info] Two state dirs');
    expect(all(multiple, 'system-out')[0]!.text).toContain('[info] A finding with no path');
    expect(all(suite, 'system-err')[0]!.text).toContain(`${HOME}/private: EACCES permission denied`);
  });

  it('says how many more findings a failure holds, and types it by the worst severity', () => {
    const input = report([
      { ...CHMOD, severity: 'warning', message: 'first' },
      { ...CHMOD, message: 'second', path: `${STATEDIR}/b` },
      { ...CHMOD, message: 'third', path: `${STATEDIR}/c` },
    ]);
    const suite = suiteOf(junit(input));
    const failure = all(suite, 'failure')[0]!;
    expect(failure.attributes).toEqual({ message: 'first (and 2 more)', type: 'error' });
    expect(failure.text.match(/^\[(error|warning)\]/gm)).toHaveLength(3);
    expect(counts(suite)).toMatchObject({ tests: '6', failures: '1' });
  });

  it('never drops a finding of a rule the report does not list as run', () => {
    const input = report([{ ruleId: 'custom/thing', severity: 'error', message: 'orphan' }]);
    const suite = suiteOf(junit(input));
    expect(counts(suite)).toEqual({ tests: '7', failures: '1', errors: '0', skipped: '2' });
    expect(all(suite, 'testcase').at(-1)!.attributes).toMatchObject({ classname: 'custom', name: 'custom/thing' });
  });

  it('stays well-formed with hostile strings, and shows them as visible escapes', () => {
    const xml = formatJunit(hostileReport(), RULES);
    const suite = suiteOf(parseXml(xml));
    expect(all(suite, 'x')).toHaveLength(0);
    expect(all(suite, 'script')).toHaveLength(0);
    expect(xml).not.toContain('</testcase><x>');
    expect(xml).not.toContain(']]>');
    expect(xml).toContain('\\e[2J');
    expect(xml).toContain('\\ud800');
    expect(counts(suite)).toEqual({ tests: '6', failures: '2', errors: '0', skipped: '2' });
    const failure = all(suite, 'failure')[0]!;
    expect(failure.attributes.message).toBe('bad evil\\e[2J\\n::error::pwned</testcase><x>]]>| pipe ```tick`<script>alert(1)</script>\\ud800');
    // untrusted text never adds a line: each finding block has its fixed number of lines
    expect(failure.text.split('\n')).toHaveLength(2 + 6);
    expect(all(suite, 'system-err')[0]!.text).toContain('EACCES');
  });

  it('replaces every character XML 1.0 forbids, and U+FFFE/U+FFFF', () => {
    const nasty = 'a\u0000b\u0008c\u000bd\u000ce\u001ff\ufffeg\uffffh\udfffi\ud83d\ude00j\u0085k';
    const xml = formatJunit(report([{ ...CHMOD, message: nasty, evidence: [nasty] }]), RULES);
    const failure = all(parseXml(xml), 'failure')[0]!;
    expect(failure.attributes.message).toBe('a\\x00b\\x08c\\x0bd\\x0ce\\x1ff\\ufffeg\\uffffh\\udfffi\u{1f600}j\\x85k');
  });
});
