// A pure reader of launchd job plists (XML, or binary when given the raw bytes).
import { parse, parseBinary, type PlistValue } from 'plist';
import type { ParsedUnit } from './systemd.js';

export interface ParsedLaunchdPlist extends ParsedUnit {
  label?: string;
  runAtLoad: boolean;
  /** KeepAlive is true, or a dictionary with SuccessfulExit (both start the job at load) */
  keepAlive: boolean;
  /** the plist's own Disabled key (launchctl's override database is not read) */
  disabled: boolean;
}

type Dict = { [key: string]: PlistValue };

const BINARY_MAGIC = 'bplist';

export function parseLaunchdPlist(input: string | Uint8Array): ParsedLaunchdPlist {
  const result: ParsedLaunchdPlist = {
    execStart: [],
    environment: {},
    environmentFiles: [],
    wantedBy: [],
    errors: [],
    runAtLoad: false,
    keepAlive: false,
    disabled: false,
  };
  let value: PlistValue;
  try {
    const decoded = decode(input);
    if ('error' in decoded) {
      result.errors.push(decoded.error);
      return result;
    }
    value = 'xml' in decoded ? parseXml(decoded.xml, result.errors) : parseBinary(decoded.bytes);
  } catch (error) {
    result.errors.push(`invalid plist: ${error instanceof Error ? error.message : String(error)}`);
    return result;
  }
  if (!isDict(value)) {
    result.errors.push('plist top level is not a dictionary');
    return result;
  }
  readJob(value, result);
  return result;
}

const MAX_XML_MESSAGES = 5;

/**
 * plist gives xmldom no error handler, so xmldom writes its complaints to console.error. A scanner must
 * not print those: catch them (parsing is synchronous) and keep the first few as parse errors.
 */
function parseXml(xml: string, errors: string[]): PlistValue {
  const original = console.error;
  let seen = 0;
  console.error = (...args: unknown[]) => {
    const message = String(args[0]);
    // a fatal error is also thrown, and reported from there
    if (message.startsWith('[xmldom fatalError]') || seen++ >= MAX_XML_MESSAGES) return;
    errors.push(message.replace(/^\[xmldom (\w+)\]\t/, 'xml $1: ').trim());
  };
  try {
    return parse(xml);
  } finally {
    console.error = original;
  }
}

type Decoded = { xml: string } | { bytes: Uint8Array } | { error: string };

/**
 * A binary plist that reached us as a string has lost bytes to text decoding, unless every character
 * still fits in one byte (latin1).
 */
function decode(input: string | Uint8Array): Decoded {
  if (typeof input === 'string') {
    if (!input.startsWith(BINARY_MAGIC)) return { xml: input };
    if (!/^[\0-\xff]*$/.test(input)) return { error: 'binary plist not supported (pass the raw bytes)' };
    return checkBinary(Uint8Array.from(input, (c) => c.charCodeAt(0)));
  }
  if (startsWith(input, BINARY_MAGIC)) return checkBinary(input);
  return { xml: new TextDecoder().decode(input) };
}

function startsWith(bytes: Uint8Array, magic: string): boolean {
  return [...magic].every((c, i) => bytes[i] === c.charCodeAt(0));
}

function checkBinary(bytes: Uint8Array): Decoded {
  if (!startsWith(bytes, 'bplist00')) return { error: 'binary plist not supported (unknown version)' };
  const problem = binaryPlistProblem(bytes);
  return problem ? { error: `binary plist not supported: ${problem}` } : { bytes };
}

function readJob(dict: Dict, result: ParsedLaunchdPlist): void {
  const label = stringField(dict, 'Label', result);
  if (label !== undefined) result.label = label;
  result.execStart = commandOf(dict, result);
  const workingDirectory = stringField(dict, 'WorkingDirectory', result);
  if (workingDirectory !== undefined) result.workingDirectory = workingDirectory;
  const user = stringField(dict, 'UserName', result);
  if (user !== undefined) result.user = user;
  const group = stringField(dict, 'GroupName', result);
  if (group !== undefined) result.group = group;
  result.environment = environmentOf(dict, result);
  result.runAtLoad = own(dict, 'RunAtLoad') === true;
  result.disabled = own(dict, 'Disabled') === true;
  const keepAlive = own(dict, 'KeepAlive');
  result.keepAlive = keepAlive === true || (isDict(keepAlive) && own(keepAlive, 'SuccessfulExit') !== undefined);
}

/** `Program` is the executable when present; ProgramArguments[0] is then only argv[0]. */
function commandOf(dict: Dict, result: ParsedLaunchdPlist): string[] {
  const program = stringField(dict, 'Program', result);
  const raw = own(dict, 'ProgramArguments');
  let args: string[] = [];
  if (Array.isArray(raw)) {
    args = raw.filter((arg): arg is string => typeof arg === 'string');
    if (args.length !== raw.length) result.errors.push('ProgramArguments holds non-string items, ignored');
  } else if (raw !== undefined) result.errors.push('ProgramArguments is not an array');
  if (program !== undefined) return [program, ...args.slice(1)];
  if (args.length === 0) result.errors.push('no Program or ProgramArguments');
  return args;
}

function environmentOf(dict: Dict, result: ParsedLaunchdPlist): Record<string, string> {
  const raw = own(dict, 'EnvironmentVariables');
  if (raw === undefined) return {};
  if (!isDict(raw)) {
    result.errors.push('EnvironmentVariables is not a dictionary');
    return {};
  }
  const entries = Object.entries(raw).filter(([key, value]) => {
    if (typeof value === 'string') return true;
    result.errors.push(`EnvironmentVariables.${key} is not a string, ignored`);
    return false;
  });
  return Object.fromEntries(entries as [string, string][]);
}

function stringField(dict: Dict, key: string, result: ParsedLaunchdPlist): string | undefined {
  const value = own(dict, key);
  if (typeof value === 'string') return value;
  if (value !== undefined) result.errors.push(`${key} is not a string`);
  return undefined;
}

function own(dict: Dict, key: string): PlistValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

function isDict(value: PlistValue | undefined): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && !(value instanceof Date);
}

const MAX_EXPANDED_OBJECTS = 100_000;
const MAX_DEPTH = 256;

/**
 * `parseBinary` trusts the file: a reference cycle recurses until the stack overflows and a shared
 * sub-tree referenced twice per level expands exponentially. Check the object graph first.
 */
export function binaryPlistProblem(bytes: Uint8Array): string | undefined {
  try {
    const graph = new BinaryGraph(bytes);
    return graph.expandedSize(graph.top, 0) > MAX_EXPANDED_OBJECTS ? 'too many objects' : undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

class BinaryGraph {
  readonly top: number;
  private readonly view: DataView;
  private readonly offsets: number[] = [];
  private readonly refSize: number;
  private readonly sizes = new Map<number, number>();
  private readonly visiting = new Set<number>();

  constructor(private readonly bytes: Uint8Array) {
    if (bytes.length < 40) throw new Error('truncated');
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const trailer = bytes.length - 32;
    const offsetSize = this.uint(trailer + 6, 1);
    this.refSize = this.uint(trailer + 7, 1);
    const count = this.uint(trailer + 8, 8);
    this.top = this.uint(trailer + 16, 8);
    const table = this.uint(trailer + 24, 8);
    const sizesOk = [1, 2, 4, 8].includes(offsetSize) && [1, 2, 4, 8].includes(this.refSize);
    if (!sizesOk || count > bytes.length || this.top >= count || table + count * offsetSize > trailer) {
      throw new Error('bad trailer');
    }
    for (let i = 0; i < count; i++) this.offsets.push(this.uint(table + i * offsetSize, offsetSize));
  }

  expandedSize(index: number, depth: number): number {
    const known = this.sizes.get(index);
    if (known !== undefined) return known;
    if (this.visiting.has(index)) throw new Error('reference cycle');
    if (depth > MAX_DEPTH) throw new Error('nested too deep');
    this.visiting.add(index);
    let size = 1;
    for (const child of this.children(index)) {
      size += this.expandedSize(child, depth + 1);
      if (size > MAX_EXPANDED_OBJECTS) break;
    }
    this.visiting.delete(index);
    this.sizes.set(index, size);
    return size;
  }

  private children(index: number): number[] {
    const offset = this.offsets[index];
    if (offset === undefined || offset >= this.bytes.length - 32) throw new Error('bad object offset');
    const marker = this.uint(offset, 1);
    const type = marker >> 4;
    if (type !== 0xa && type !== 0xc && type !== 0xd) return [];
    let count = marker & 0x0f;
    let start = offset + 1;
    if (count === 0x0f) {
      const width = 1 << (this.uint(start, 1) & 0x0f);
      count = this.uint(start + 1, width);
      start += 1 + width;
    }
    const refs = type === 0xd ? count * 2 : count;
    if (start + refs * this.refSize > this.bytes.length) throw new Error('container past end of file');
    const children: number[] = [];
    for (let i = 0; i < refs; i++) {
      const child = this.uint(start + i * this.refSize, this.refSize);
      if (child >= this.offsets.length) throw new Error('bad object reference');
      children.push(child);
    }
    return children;
  }

  private uint(offset: number, width: number): number {
    if (offset < 0 || offset + width > this.bytes.length || width > 8) throw new Error('read past end of file');
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + this.view.getUint8(offset + i);
    return value;
  }
}
