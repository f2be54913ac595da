// Lists the members of a backup archive without extracting or writing anything. Streams with
// bounded memory, and never rejects: damage is reported in `listError`, with what was listed so far.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import yauzl, { type Entry as ZipEntry, type ExtraField } from 'yauzl';
import type { ArchiveFormat, ArchiveMember, FileType } from '../model.js';
import { classifyArchiveHead, isTarHeader } from './classify.js';
import { budgetSpent, type DecompressionBudget } from './budget.js';
import type { ProgressCounter } from '../progress.js';

export interface ArchiveInspection {
  format: ArchiveFormat;
  encrypted: boolean;
  partlyEncrypted?: boolean;
  members?: ArchiveMember[];
  membersTruncated?: boolean;
  /** which limit stopped the listing, when one did */
  limitHit?: 'maxMembers' | 'maxBytes' | 'budget';
  listError?: string;
}

/**
 * Sees one tar member's data as it streams past (nothing is written anywhere). Keep only what you need:
 * the data of a big member flows through in chunks.
 */
export interface MemberSink {
  data(chunk: Buffer): void;
  /** `complete` is false when the listing stopped (damage, a limit) before the member's data ended */
  end(complete: boolean): void;
}

export interface InspectOptions {
  /** stop listing after this many members (default 200000) */
  maxMembers?: number;
  /** stop a tar listing after this many (decompressed) tar bytes (default 64 GiB): bounds gzip bombs */
  maxBytes?: number;
  /**
   * Called for each tar member as its header is read; a returned sink is fed the member's data. Zip data
   * is never inflated, so zip members are not offered.
   */
  onTarMember?: (member: ArchiveMember) => MemberSink | undefined;
  /** shared by every archive of one scan: decompressed bytes and time; the listing stops when it is spent */
  budget?: DecompressionBudget;
  /** the file must still be this inode when opened (it was vetted by lstat before) */
  expected?: { dev: number; ino: number };
  /** ticked with the bytes read from the file (the CLI's progress line) */
  progress?: Pick<ProgressCounter, 'archiveRead'>;
}

interface Limits {
  maxMembers: number;
  maxBytes: number;
  onTarMember?: InspectOptions['onTarMember'];
  budget?: DecompressionBudget;
  progress?: InspectOptions['progress'];
}

interface Listing {
  members: ArchiveMember[];
  membersTruncated?: boolean;
  limitHit?: ArchiveInspection['limitHit'];
  listError?: string;
}

const HEAD_BYTES = 4096;
const DEFAULT_MAX_MEMBERS = 200_000;
const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = fs.constants;

export async function inspectArchiveFile(hostPath: string, opts: InspectOptions = {}): Promise<ArchiveInspection> {
  const limits: Limits = {
    maxMembers: opts.maxMembers ?? DEFAULT_MAX_MEMBERS,
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES,
    ...(opts.onTarMember ? { onTarMember: opts.onTarMember } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  };
  let handle: FileHandle;
  try {
    handle = await openRegular(hostPath, opts.expected);
  } catch (error) {
    return { format: 'unknown', encrypted: false, listError: oneLine(error) };
  }
  try {
    return await inspectOpen(handle, limits);
  } catch (error) {
    return { format: 'unknown', encrypted: false, listError: oneLine(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Refuses anything but a regular file before opening it: a FIFO would block, a device never ends. */
async function openRegular(hostPath: string, expected?: { dev: number; ino: number }): Promise<FileHandle> {
  const before = await fs.promises.lstat(hostPath);
  if (!before.isFile()) throw new Error(`not a regular file (${kindOf(before)})`);
  if (expected && (before.dev !== expected.dev || before.ino !== expected.ino)) throw new Error('file changed while being opened');
  const handle = await fs.promises.open(hostPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  const after = await handle.stat();
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    await handle.close();
    throw new Error('file changed while being opened');
  }
  return handle;
}

/** What a file that is not a regular one is, for a message. */
export function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'directory';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isBlockDevice()) return 'block device';
  if (stat.isCharacterDevice()) return 'character device';
  return 'special file';
}

async function inspectOpen(handle: FileHandle, limits: Limits): Promise<ArchiveInspection> {
  const head = await readAt(handle, 0, HEAD_BYTES);
  const classified = classifyArchiveHead(head);
  switch (classified.format) {
    case 'tar':
      return { format: 'tar', encrypted: false, ...(await listTar(handle, false, limits)) };
    case 'gzip':
      return inspectGzip(handle, limits);
    case 'zip':
      return listZip(handle, limits);
    case '7z':
      return { format: '7z', ...(await inspect7z(handle)) };
    default:
      return classified;
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

const READ_CHUNK = 256 * 1024;
// zlib output chunks: the default 16 KiB makes the per-chunk overhead (not inflate) the cost of a big archive
const GUNZIP_CHUNK = 256 * 1024;

/**
 * A stream of the file from `start`. Not `handle.createReadStream()`: destroying that one closes the
 * handle even with autoClose off, and we read the same handle more than once.
 */
function readFrom(handle: FileHandle, start: number, progress?: Limits['progress']): Readable {
  let position = start;
  return new Readable({
    highWaterMark: READ_CHUNK,
    read() {
      handle.read(Buffer.allocUnsafe(READ_CHUNK), 0, READ_CHUNK, position).then(
        ({ bytesRead, buffer }) => {
          position += bytesRead;
          progress?.archiveRead(bytesRead);
          if (!this.destroyed) this.push(bytesRead > 0 ? buffer.subarray(0, bytesRead) : null);
        },
        (error: Error) => {
          if (!this.destroyed) this.destroy(error);
        },
      );
    },
  });
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}

function membersPhrase(count: number): string {
  return `${count} member${count === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------
// gzip / tar

async function inspectGzip(handle: FileHandle, limits: Limits): Promise<ArchiveInspection> {
  const probe = await probeGzip(handle);
  if (!probe.isTar) {
    return { format: 'gzip', encrypted: false, ...(probe.error ? { listError: probe.error } : {}) };
  }
  return { format: 'tar.gz', encrypted: false, ...(await listTar(handle, true, limits)) };
}

/** Decompresses just enough to see whether the first 512 bytes are a tar header. */
function probeGzip(handle: FileHandle): Promise<{ isTar: boolean; error?: string }> {
  return new Promise((resolve) => {
    const source = readFrom(handle, 0);
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      source.destroy();
      gunzip.destroy();
      const block = Buffer.concat(chunks).subarray(0, 512);
      const failed = error !== undefined && block.length < 512;
      resolve({ isTar: isTarHeader(block), ...(failed ? { error: gzipFailure(error, 0) } : {}) });
    };
    gunzip.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= 512) settle();
    });
    gunzip.on('end', () => settle());
    gunzip.on('error', settle);
    source.on('error', settle);
    source.pipe(gunzip);
  });
}

type DescribeFailure = (error: unknown, membersSoFar: number) => string;

function gzipFailure(error: unknown, count: number): string {
  const code = (error as { code?: string }).code;
  // zlib reports a stream cut short as Z_BUF_ERROR "unexpected end of file"
  if (code === 'Z_BUF_ERROR') return `truncated gzip stream after ${membersPhrase(count)}`;
  return `corrupt gzip stream after ${membersPhrase(count)}: ${oneLine(error)}`;
}

function tarFailure(error: unknown, count: number): string {
  if (/unexpected end of data/i.test(oneLine(error))) return `truncated tar after ${membersPhrase(count)}`;
  return `corrupt tar after ${membersPhrase(count)}: ${oneLine(error)}`;
}

function listTar(handle: FileHandle, gzipped: boolean, limits: Limits): Promise<Listing> {
  return new Promise((resolve) => {
    const source = readFrom(handle, 0, limits.progress);
    const gunzip = gzipped ? createGunzip({ chunkSize: GUNZIP_CHUNK }) : undefined;
    const tarInput: Readable = gunzip ?? source;
    const extract = tarStream.extract();
    const members: ArchiveMember[] = [];
    let upstreamError: { error: unknown; describe: DescribeFailure } | undefined;
    let tarBytes = 0;
    let settled = false;
    let sink: MemberSink | undefined;
    const endSink = (complete: boolean): void => {
      const current = sink;
      sink = undefined;
      current?.end(complete);
    };

    const settle = (outcome: Omit<Listing, 'members'>): void => {
      if (settled) return;
      settled = true;
      endSink(false);
      source.destroy();
      gunzip?.destroy();
      extract.destroy();
      resolve({ members, ...outcome });
    };
    // The decompressor failed: let the tar parser finish what it already holds, then report.
    const upstreamFailed = (describe: DescribeFailure) => (error: unknown) => {
      if (upstreamError !== undefined) return;
      upstreamError = { error, describe };
      tarInput.unpipe(extract);
      extract.end(null);
    };
    const finished = (tarError?: unknown): void => {
      const failure = upstreamError ?? (tarError === undefined ? undefined : { error: tarError, describe: tarFailure });
      const listError = failure?.describe(failure.error, members.length);
      settle(listError === undefined ? {} : { listError });
    };

    tarInput.on('data', (chunk: Buffer) => {
      tarBytes += chunk.length;
      if (limits.budget) limits.budget.bytesLeft -= chunk.length;
      if (tarBytes > limits.maxBytes) settle({ membersTruncated: true, limitHit: 'maxBytes' });
      else if (budgetSpent(limits.budget)) settle({ membersTruncated: true, limitHit: 'budget' });
    });
    extract.on('entry', (header, stream, next) => {
      // a damaged archive destroys the current entry's stream with the parser's error, reported already
      stream.on('error', () => endSink(false));
      if (members.length >= limits.maxMembers) return settle({ membersTruncated: true, limitHit: 'maxMembers' });
      const member = tarMember(header);
      members.push(member);
      sink = limits.onTarMember?.(member);
      if (sink) {
        const current = sink;
        stream.on('data', (chunk: unknown) => current.data(chunk as Buffer));
      }
      stream.on('end', () => {
        endSink(true);
        next();
      });
      stream.resume(); // drain the member's data; only a sink keeps any of it
    });
    extract.on('finish', () => finished());
    extract.on('error', (error: unknown) => finished(error));
    extract.on('close', () => finished());
    source.on('error', upstreamFailed((error, count) => `read error after ${membersPhrase(count)}: ${oneLine(error)}`));
    gunzip?.on('error', upstreamFailed(gzipFailure));
    if (gunzip) source.pipe(gunzip);
    tarInput.pipe(extract);
  });
}

const TAR_TYPES: Record<string, FileType> = {
  file: 'file',
  'contiguous-file': 'file',
  link: 'file', // a hard link is a regular file; its target is kept in linkTarget
  symlink: 'symlink',
  directory: 'dir',
  fifo: 'fifo',
  'character-device': 'char',
  'block-device': 'block',
};

/** What tar-stream really gives (its bundled types omit the nulls). */
interface TarHeader {
  name: string;
  type?: string | null;
  mode?: number;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkname?: string | null;
}

function tarMember(header: TarHeader): ArchiveMember {
  const member: ArchiveMember = {
    path: header.name,
    type: TAR_TYPES[header.type ?? ''] ?? 'unknown',
    mode: (header.mode ?? 0) & 0o7777,
    size: header.size ?? 0,
  };
  if (header.uid !== undefined) member.uid = header.uid;
  if (header.gid !== undefined) member.gid = header.gid;
  if (header.mtime) member.mtimeMs = header.mtime.getTime();
  if (header.linkname) member.linkTarget = header.linkname;
  return member;
}

// ---------------------------------------------------------------------------------------------
// zip: the central directory only, no entry data is ever inflated

function listZip(handle: FileHandle, limits: Limits): Promise<ArchiveInspection> {
  return new Promise((resolve) => {
    const members: ArchiveMember[] = [];
    // Encryption is tallied over every entry, also those past the listing limit.
    const tally = { entries: 0, files: 0, encrypted: 0 };
    let truncated = false;
    let budgetHit = false;
    let finished = false;
    const done = (listError?: string): void => {
      if (finished) return;
      finished = true;
      resolve({
        format: 'zip',
        ...zipEncryption(tally),
        members,
        ...(budgetHit ? { membersTruncated: true, limitHit: 'budget' as const } : truncated ? { membersTruncated: true, limitHit: 'maxMembers' as const } : {}),
        ...(listError === undefined ? {} : { listError }),
      });
    };
    // decodeStrings off: yauzl would reject "../" and absolute names, which we want listed as they are.
    // Never call zip.close(): it would close the fd that the FileHandle owns.
    const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false };
    yauzl.fromFd(handle.fd, options, (openError, zip) => {
      if (openError || !zip) return done(`corrupt zip: ${oneLine(openError)}`);
      zip.on('entry', (entry: ZipEntry) => {
        const member = zipMember(entry);
        tally.entries += 1;
        if (member.type !== 'dir') {
          tally.files += 1;
          if (member.encrypted) tally.encrypted += 1;
        }
        if (members.length < limits.maxMembers) members.push(member);
        else truncated = true;
        if (budgetSpent(limits.budget)) {
          budgetHit = true;
          return done();
        }
        zip.readEntry();
      });
      zip.on('end', () => done());
      zip.on('error', (error: unknown) => done(`corrupt zip after ${membersPhrase(tally.entries)}: ${oneLine(error)}`));
      zip.readEntry();
    });
  });
}

function zipEncryption(tally: { files: number; encrypted: number }): { encrypted: boolean; partlyEncrypted?: boolean } {
  if (tally.encrypted > 0 && tally.encrypted === tally.files) return { encrypted: true };
  return tally.encrypted > 0 ? { encrypted: false, partlyEncrypted: true } : { encrypted: false };
}

const UNIX_HOSTS = new Set([3, 19]); // Unix, OS X (high byte of "version made by")

function zipMember(entry: ZipEntry): ArchiveMember {
  // with decodeStrings off, fileName is the raw Buffer
  const path = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  const unixMode = UNIX_HOSTS.has(entry.versionMadeBy >> 8) ? entry.externalFileAttributes >>> 16 : 0;
  const member: ArchiveMember = {
    path,
    type: typeFromMode(unixMode) ?? (path.endsWith('/') ? 'dir' : 'file'),
    mode: unixMode & 0o7777,
    size: entry.uncompressedSize,
    mtimeMs: entry.getLastModDate().getTime(),
    encrypted: (entry.generalPurposeBitFlag & 1) !== 0,
  };
  return { ...member, ...zipOwner(entry.extraFields) };
}

function typeFromMode(mode: number): FileType | undefined {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    case 0o060000: return 'block';
    case 0o020000: return 'char';
    default: return undefined;
  }
}

/** uid/gid from the Info-ZIP "new Unix" extra field (0x7875): version 1, then size-prefixed LE ids. */
function zipOwner(extraFields: ExtraField[]): { uid?: number; gid?: number } {
  const data = extraFields.find((field) => field.id === 0x7875)?.data;
  if (!data || data[0] !== 1) return {};
  const uidSize = data[1] ?? 0;
  const gidSize = data[2 + uidSize] ?? 0;
  if (uidSize < 1 || uidSize > 6 || gidSize < 1 || gidSize > 6 || data.length < 3 + uidSize + gidSize) return {};
  return { uid: data.readUIntLE(2, uidSize), gid: data.readUIntLE(3 + uidSize, gidSize) };
}

// ---------------------------------------------------------------------------------------------
// 7z: no listing; encryption is visible when the (possibly encoded) header names the AES coder

const SEVEN_Z_AES = Buffer.from([0x06, 0xf1, 0x07, 0x01]);
const MAX_7Z_HEADER = 4 * 1024 * 1024;
const K_HEADER = 0x01;
const K_ENCODED_HEADER = 0x17;

async function inspect7z(handle: FileHandle): Promise<{ encrypted: boolean; listError?: string }> {
  const start = await readAt(handle, 0, 32);
  const size = (await handle.stat()).size;
  if (start.length < 32) return { encrypted: false, listError: 'truncated 7z' };
  if (crc32(start.subarray(12, 32)) !== start.readUInt32LE(8)) return { encrypted: false, listError: 'corrupt 7z start header' };
  const offset = 32 + Number(start.readBigUInt64LE(12));
  const length = Number(start.readBigUInt64LE(20));
  if (offset + length > size) return { encrypted: false, listError: 'truncated 7z' };
  if (length === 0 || length > MAX_7Z_HEADER) return { encrypted: false, listError: 'cannot list 7z' };
  const header = await readAt(handle, offset, length);
  if (crc32(header) !== start.readUInt32LE(28)) return { encrypted: false, listError: 'corrupt 7z header' };
  if (header[0] !== K_HEADER && header[0] !== K_ENCODED_HEADER) return { encrypted: false, listError: 'corrupt 7z header' };
  // With an LZMA-encoded header and no AES on it, the data's coders are inside the compressed part.
  return hasAesCoder(header) ? { encrypted: true } : { encrypted: false, listError: 'cannot list 7z' };
}

/** The AES coder id, preceded by a coder flag byte whose low nibble is the id size (4). */
function hasAesCoder(header: Buffer): boolean {
  for (let at = header.indexOf(SEVEN_Z_AES, 1); at > 0; at = header.indexOf(SEVEN_Z_AES, at + 1)) {
    if ((header[at - 1]! & 0x0f) === SEVEN_Z_AES.length) return true;
  }
  return false;
}

let crcTable: Uint32Array | undefined;

// Node's zlib.crc32 only exists from 20.15; engines allow any 20.
function crc32(data: Buffer): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
