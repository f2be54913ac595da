// A pure reader of systemd unit files: only the settings that say how the gateway is started and
// which environment it gets. Syntax per systemd.syntax(7), systemd.exec(5) and systemd.service(5).

export interface ParsedUnit {
  /** executable followed by its arguments (prefixes and an `@` argv[0] removed) */
  execStart: string[];
  workingDirectory?: string;
  user?: string;
  group?: string;
  environment: Record<string, string>;
  environmentFiles: { path: string; optional: boolean }[];
  wantedBy: string[];
  errors: string[];
}

export interface UnitFileText {
  text: string;
  /** shown in error messages (a drop-in's path); omitted for the main file */
  name?: string;
}

export interface ParseUnitOptions {
  /** values for `%x` specifiers (`h` → home, `n` → unit name, …); without it values stay unexpanded */
  specifiers?: Record<string, string>;
}

export interface Word {
  value: string;
  /** the text the word was read from, before unquoting */
  raw: string;
  error?: string;
}

interface State {
  unit: ParsedUnit;
  environment: Map<string, string>;
  execStartCount: number;
  specifiers?: Record<string, string>;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXEC_PREFIXES = new Set(['@', '-', ':', '+', '!', '|']);
const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ',
};

export function parseSystemdUnit(text: string, options: ParseUnitOptions = {}): ParsedUnit {
  return parseSystemdUnitFiles([{ text }], options);
}

/** The unit file followed by its drop-ins (`<unit>.d/*.conf`, in name order): later settings win. */
export function parseSystemdUnitFiles(files: UnitFileText[], options: ParseUnitOptions = {}): ParsedUnit {
  const state: State = {
    unit: { execStart: [], environment: {}, environmentFiles: [], wantedBy: [], errors: [] },
    environment: new Map(),
    execStartCount: 0,
    ...(options.specifiers ? { specifiers: options.specifiers } : {}),
  };
  for (const file of files) {
    try {
      parseFile(state, file);
    } catch (error) {
      state.unit.errors.push(`${file.name ?? 'unit'}: internal parser error: ${String(error)}`);
    }
  }
  // fromEntries defines own properties, so a key such as __proto__ cannot touch the prototype
  state.unit.environment = Object.fromEntries(state.environment);
  return state.unit;
}

function parseFile(state: State, file: UnitFileText): void {
  let section: string | undefined;
  const where = (line: number) => (file.name ? `${file.name}:${line}` : `line ${line}`);
  for (const { text, line } of logicalLines(file.text)) {
    const content = strip(text);
    if (content === '') continue;
    if (content.startsWith('[')) {
      if (content.endsWith(']') && content.length > 2) section = content.slice(1, -1);
      else state.unit.errors.push(`${where(line)}: invalid section header`);
      continue;
    }
    const eq = content.indexOf('=');
    if (eq < 0) {
      state.unit.errors.push(`${where(line)}: missing '=', line ignored`);
    } else if (section === undefined) {
      state.unit.errors.push(`${where(line)}: assignment outside of a section, ignored`);
    } else {
      const errors: string[] = [];
      assign(state, section, strip(content.slice(0, eq)), strip(content.slice(eq + 1)), errors);
      for (const message of errors) state.unit.errors.push(`${where(line)}: ${message}`);
    }
  }
}

/**
 * Comment lines are dropped even inside a continuation (systemd.syntax(7)); an odd number of trailing
 * backslashes continues the line, the backslash becoming a space.
 */
function* logicalLines(text: string): Generator<{ text: string; line: number }> {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  // pieces of a continued line; the previous piece ends in a space, so only `raw` decides continuation
  let pending: string[] = [];
  let start = 0;
  for (let index = 0; index < lines.length; index++) {
    const raw = (lines[index] ?? '').replace(/\r$/, '');
    const first = raw.trimStart()[0];
    if (first === '#' || first === ';') continue;
    if (pending.length === 0) start = index + 1;
    if (endsWithContinuation(raw)) {
      pending.push(`${raw.slice(0, -1)} `);
      continue;
    }
    pending.push(raw);
    yield { text: pending.join(''), line: start };
    pending = [];
  }
  if (pending.length > 0) yield { text: pending.join(''), line: start };
}

function endsWithContinuation(line: string): boolean {
  let count = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

function strip(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && WHITESPACE.has(value[start]!)) start++;
  while (end > start && WHITESPACE.has(value[end - 1]!)) end--;
  return value.slice(start, end);
}

function assign(state: State, section: string, key: string, value: string, errors: string[]): void {
  const unit = state.unit;
  const expand = (text: string) => expandSpecifiers(text, state.specifiers);
  if (section === 'Service') {
    if (key === 'ExecStart') setExecStart(state, value, errors);
    else if (key === 'Environment') setEnvironment(state, value, errors);
    else if (key === 'EnvironmentFile') addEnvironmentFile(state, value, errors);
    else if (key === 'WorkingDirectory') setOptional(unit, 'workingDirectory', expand(value.replace(/^-/, '')));
    else if (key === 'User') setOptional(unit, 'user', expand(value));
    else if (key === 'Group') setOptional(unit, 'group', expand(value));
  } else if (section === 'Install' && key === 'WantedBy') {
    if (value === '') unit.wantedBy = [];
    else unit.wantedBy.push(...readWords(value, errors).map(expand));
  }
}

function setOptional(unit: ParsedUnit, key: 'workingDirectory' | 'user' | 'group', value: string): void {
  if (value === '') delete unit[key];
  else unit[key] = value;
}

function setExecStart(state: State, value: string, errors: string[]): void {
  if (value === '') {
    state.unit.execStart = [];
    state.execStartCount = 0;
    return;
  }
  state.execStartCount += 1;
  if (state.execStartCount > 1) errors.push('more than one ExecStart= (only Type=oneshot allows it); using the last');
  state.unit.execStart = parseCommandLine(value, errors).map((word) => expandSpecifiers(word, state.specifiers));
}

/** One ExecStart= value → argv. Exported for tests and for other unit-like formats. */
export function parseCommandLine(value: string, errors: string[] = []): string[] {
  const words = splitWords(value);
  const separator = words.findIndex((word) => word.raw === ';');
  if (separator >= 0) {
    errors.push('several commands in one ExecStart=; using the first');
    words.length = separator;
  }
  const argv: string[] = [];
  for (const word of words) {
    if (word.raw === '\\;') argv.push(';');
    else {
      if (word.error) errors.push(word.error);
      argv.push(word.value);
    }
  }
  return stripExecPrefixes(argv, errors);
}

function stripExecPrefixes(argv: string[], errors: string[]): string[] {
  const first = argv[0];
  if (first === undefined) return argv;
  let index = 0;
  while (index < first.length && EXEC_PREFIXES.has(first[index]!)) index++;
  const prefixes = first.slice(0, index);
  const executable = first.slice(index);
  if (executable === '') {
    errors.push('ExecStart= has no executable');
    return [];
  }
  // `@` means the second word is argv[0], not an argument: drop it so argv[1…] are real arguments
  if (prefixes.includes('@')) {
    if (argv.length < 2) errors.push("ExecStart= with '@' but no argv[0]");
    return [executable, ...argv.slice(2)];
  }
  return [executable, ...argv.slice(1)];
}

function setEnvironment(state: State, value: string, errors: string[]): void {
  if (value === '') {
    state.environment.clear();
    return;
  }
  for (const word of readWords(value, errors)) {
    const assignment = expandSpecifiers(word, state.specifiers);
    const eq = assignment.indexOf('=');
    const name = eq > 0 ? assignment.slice(0, eq) : '';
    if (!ENV_NAME.test(name)) {
      errors.push(`invalid environment assignment '${assignment.slice(0, 40)}', ignored`);
      continue;
    }
    state.environment.set(name, assignment.slice(eq + 1));
  }
}

function addEnvironmentFile(state: State, value: string, errors: string[]): void {
  if (value === '') {
    state.unit.environmentFiles = [];
    return;
  }
  const optional = value.startsWith('-');
  const file = expandSpecifiers(optional ? value.slice(1) : value, state.specifiers);
  // an unexpanded specifier (%h/…) is kept: the caller may know what it stands for
  if (!file.startsWith('/') && !file.startsWith('%')) {
    errors.push(`EnvironmentFile= path '${file}' is not absolute, ignored`);
    return;
  }
  state.unit.environmentFiles.push({ path: file, optional });
}

function readWords(value: string, errors: string[]): string[] {
  return splitWords(value).map((word) => {
    if (word.error) errors.push(word.error);
    return word.value;
  });
}

/** Whitespace-separated words with systemd quoting: '…' and "…" anywhere in a word, C escapes everywhere. */
export function splitWords(input: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < input.length) {
    while (i < input.length && WHITESPACE.has(input[i]!)) i++;
    if (i >= input.length) break;
    const start = i;
    let value = '';
    let quote: string | undefined;
    let error: string | undefined;
    for (; i < input.length; i++) {
      const c = input[i]!;
      if (quote === undefined && WHITESPACE.has(c)) break;
      if (c === quote) quote = undefined;
      else if (quote === undefined && (c === '"' || c === "'")) quote = c;
      else if (c === '\\') {
        const escape = unescapeAt(input, i + 1);
        value += escape.text;
        error ??= escape.error;
        i = escape.end - 1;
      } else value += c;
    }
    if (quote !== undefined) error ??= `unterminated ${quote} quote`;
    words.push({ value, raw: input.slice(start, i), ...(error ? { error } : {}) });
  }
  return words;
}

function unescapeAt(input: string, at: number): { text: string; end: number; error?: string } {
  const c = input[at];
  if (c === undefined) return { text: '\\', end: at, error: 'trailing backslash' };
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, end: at + 1 };
  const numeric = numericEscape(input, at);
  if (numeric) return numeric;
  return { text: `\\${c}`, end: at + 1, error: `unknown escape \\${c}` };
}

function numericEscape(input: string, at: number): { text: string; end: number; error?: string } | undefined {
  const c = input[at]!;
  const forms: [RegExp, number, number][] = [
    [/^x[0-9a-fA-F]{2}/, 16, 1],
    [/^u[0-9a-fA-F]{4}/, 16, 1],
    [/^U[0-9a-fA-F]{8}/, 16, 1],
    [/^[0-7]{3}/, 8, 0],
  ];
  for (const [pattern, radix, skip] of forms) {
    const match = pattern.exec(input.slice(at, at + 9));
    if (!match) continue;
    const code = Number.parseInt(match[0].slice(skip), radix);
    const end = at + match[0].length;
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return { text: '', end, error: `invalid escape \\${match[0]}` };
    }
    return { text: String.fromCodePoint(code), end };
  }
  return 'xuU01234567'.includes(c) ? { text: `\\${c}`, end: at + 1, error: `malformed escape \\${c}` } : undefined;
}

/** `%%` → `%`, `%x` → specifiers[x] when known; unknown specifiers are left as they are. */
export function expandSpecifiers(value: string, specifiers: Record<string, string> | undefined): string {
  if (!specifiers || !value.includes('%')) return value;
  return value.replace(/%(.)/gs, (whole, letter: string) => {
    if (letter === '%') return '%';
    return Object.hasOwn(specifiers, letter) ? specifiers[letter]! : whole;
  });
}
