// What an archive is, from its bytes only (never its name), and whether its member list looks like
// Resonix state (reference §2, §3, §11). Pure functions: no IO.
import type { ArchiveFormat, FileType } from '../model.js';
import { findStateRoots } from './state-dirs.js';

export interface HeadClass {
  format: ArchiveFormat;
  encrypted: boolean;
}

const ASCII = (text: string): Buffer => Buffer.from(text, 'latin1');

const MAGIC: readonly { bytes: Buffer; format: ArchiveFormat; encrypted: boolean }[] = [
  { bytes: Buffer.from([0x1f, 0x8b]), format: 'gzip', encrypted: false },
  { bytes: ASCII('PK\x03\x04'), format: 'zip', encrypted: false },
  { bytes: ASCII('PK\x05\x06'), format: 'zip', encrypted: false },
  { bytes: ASCII('age-encryption.org/v1\n'), format: 'age', encrypted: true },
  { bytes: ASCII('Salted__'), format: 'openssl-enc', encrypted: true },
  { bytes: Buffer.from([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), format: '7z', encrypted: false },
  { bytes: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), format: 'xz', encrypted: false },
  { bytes: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), format: 'zstd', encrypted: false },
];

// Armored files may start with blank lines or spaces (age and RFC 4880 readers accept them).
const ARMOR: readonly { line: string; format: ArchiveFormat }[] = [
  { line: '-----BEGIN AGE ENCRYPTED FILE-----', format: 'age' },
  { line: '-----BEGIN PGP MESSAGE-----', format: 'openpgp' },
];

const UNKNOWN: HeadClass = { format: 'unknown', encrypted: false };

export function classifyArchiveHead(head: Buffer): HeadClass {
  // A checksummed tar header first: a member name at offset 0 may itself start with another magic.
  if (isTarHeader(head)) return { format: 'tar', encrypted: false };
  for (const magic of MAGIC) {
    if (startsWith(head, magic.bytes)) return { format: magic.format, encrypted: magic.encrypted };
  }
  if (isBzip2(head)) return { format: 'bzip2', encrypted: false };
  // Magic without a valid checksum (or a head shorter than a block): still a tar, a damaged one.
  if (hasUstarMagic(head)) return { format: 'tar', encrypted: false };
  const armored = armorFormat(head);
  if (armored) return { format: armored, encrypted: true };
  if (isEncryptedOpenPgpPacket(head)) return { format: 'openpgp', encrypted: true };
  return UNKNOWN;
}

function startsWith(head: Buffer, bytes: Buffer, offset = 0): boolean {
  return head.length >= offset + bytes.length && head.subarray(offset, offset + bytes.length).equals(bytes);
}

// "BZh" then the block size digit: the digit keeps plain text starting with "BZh" out.
function isBzip2(head: Buffer): boolean {
  const level = head[3];
  return startsWith(head, ASCII('BZh')) && level !== undefined && level >= 0x31 && level <= 0x39;
}

function armorFormat(head: Buffer): ArchiveFormat | undefined {
  const text = head.subarray(0, 1024).toString('latin1').replace(/^[ \t\r\n]+/, '');
  return ARMOR.find((armor) => text.startsWith(armor.line))?.format;
}

// ---------------------------------------------------------------------------------------------
// tar

const POSIX_MAGIC = ASCII('ustar\x00');
const GNU_MAGIC = ASCII('ustar  \x00');

function hasUstarMagic(block: Buffer): boolean {
  // POSIX "ustar\0" (the version bytes after it vary between writers); GNU "ustar  \0".
  return startsWith(block, POSIX_MAGIC, 257) || startsWith(block, GNU_MAGIC, 257);
}

/** A 512-byte tar header block: ustar magic (POSIX or GNU) and a matching header checksum. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512 || !hasUstarMagic(block)) return false;
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === undefined) return false;
  const { unsigned, signed } = headerSums(block);
  // Some old tars summed signed chars; both are accepted by GNU tar.
  return stored === unsigned || stored === signed;
}

function headerSums(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return { unsigned, signed };
}

function parseOctal(field: Buffer): number | undefined {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[ ]+/, '');
  return /^[0-7]{1,8}$/.test(text) ? parseInt(text, 8) : undefined;
}

// ---------------------------------------------------------------------------------------------
// OpenPGP (RFC 4880 / RFC 9580): only the first packet header is parsed.

const PKESK = 1;
const SKESK = 3;
const SED = 9;
const SEIPD = 18;

interface PacketHeader {
  tag: number;
  /** body offset in the buffer */
  bodyOffset: number;
  /** undefined for partial or indeterminate lengths */
  length?: number;
}

function readPacketHeader(head: Buffer): PacketHeader | undefined {
  const first = head[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  return (first & 0x40) !== 0 ? readNewHeader(head, first & 0x3f) : readOldHeader(head, (first >> 2) & 0x0f, first & 3);
}

function readNewHeader(head: Buffer, tag: number): PacketHeader | undefined {
  const octet = head[1];
  if (octet === undefined) return undefined;
  if (octet < 192) return { tag, bodyOffset: 2, length: octet };
  if (octet < 224) {
    const second = head[2];
    return second === undefined ? undefined : { tag, bodyOffset: 3, length: ((octet - 192) << 8) + second + 192 };
  }
  if (octet === 255) return head.length < 6 ? undefined : { tag, bodyOffset: 6, length: head.readUInt32BE(2) };
  return { tag, bodyOffset: 2 }; // partial body length
}

function readOldHeader(head: Buffer, tag: number, lengthType: number): PacketHeader | undefined {
  if (lengthType === 3) return { tag, bodyOffset: 1 };
  const size = 1 << lengthType;
  if (head.length < 1 + size) return undefined;
  return { tag, bodyOffset: 1 + size, length: head.readUIntBE(1, size) };
}

function isEncryptedOpenPgpPacket(head: Buffer): boolean {
  const packet = readPacketHeader(head);
  if (!packet) return false;
  const version = head[packet.bodyOffset];
  const within = (min: number, max: number): boolean =>
    packet.length !== undefined && packet.length >= min && packet.length <= max;
  switch (packet.tag) {
    case SKESK: // v4 (RFC 4880), v5 (LibrePGP), v6 (RFC 9580)
      return within(4, 1024) && (version === 4 || version === 5 || version === 6);
    case PKESK: // v3, v6
      return within(10, 16384) && (version === 3 || version === 6);
    case SEIPD: // v1, v2 (AEAD)
      return (packet.length === undefined || packet.length > 1) && (version === 1 || version === 2);
    case SED: // no version octet: the IV and data follow at once
      return packet.length === undefined || packet.length >= 10;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Resonix state inside an archive

const CONFIG_FILE = /^resonix\.json(\.bak.*|\.last-good|\.clobbered\..+)?$/;
const SECRET_NAMES = new Set(['.env', 'auth-profiles.json', 'auth.json', 'secrets.json']);
const SECRET_STATE_PATHS = new Set(['identity/device.json', 'identity/device-auth.json', 'devices/paired.json']);
// The WAL holds committed rows not yet checkpointed; the lock databases are empty markers.
const SQLITE_FILE = /\.sqlite(-wal|-journal)?$/;
const SQLITE_LOCK = /lock\.sqlite(-wal|-journal)?$/;
const TLS_KEY = /^gateway\/tls\/[^/]*key[^/]*\.pem$/;
const MAX_SECRET_MEMBERS = 20;

export interface ResonixStateVerdict {
  holdsResonixState: boolean;
  secretMembers: string[];
}

export function normaliseMemberPath(memberPath: string): string {
  let result = memberPath;
  for (;;) {
    const next = result.replace(/^\/+/, '').replace(/^\.\/+/, '');
    if (next === result) return result.replace(/\/+$/, '');
    result = next;
  }
}

/**
 * Whether archive members look like Resonix state, and which of them carry secrets: the state dirs are the
 * ones `inspect` finds (findStateRoots), here on every member name, absolute and `..` ones too.
 * `type` is optional; without it a trailing '/' marks a directory.
 */
export function archiveHoldsResonixState(members: { path: string; type?: FileType }[]): ResonixStateVerdict {
  const all = members.map((member) => ({
    path: normaliseMemberPath(member.path),
    isDir: member.type === 'dir' || member.path.endsWith('/'),
  }));
  // the last member of a name is what extraction leaves
  const isDir = new Map(all.map((member) => [member.path, member.isDir]));
  const paths = all.map((member) => member.path).filter((p) => p !== '');
  const roots = findStateRoots(paths, (key) => isDir.get(key) === true).map((root) => root.dir);
  const secrets = new Set<string>();
  for (const member of all) {
    if (!member.isDir && isSecretMember(member.path, roots)) secrets.add(member.path);
  }
  return {
    holdsResonixState: roots.length > 0,
    secretMembers: [...secrets].sort().slice(0, MAX_SECRET_MEMBERS),
  };
}

function isSecretMember(memberPath: string, roots: string[]): boolean {
  const root = roots.find((candidate) => candidate === '' || memberPath.startsWith(`${candidate}/`));
  if (root === undefined) return false;
  return isSecretStatePath(root === '' ? memberPath : memberPath.slice(root.length + 1));
}

/** `rel` is relative to a state dir. */
function isSecretStatePath(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  if (CONFIG_FILE.test(base) || SECRET_NAMES.has(base)) return true;
  if (rel.startsWith('credentials/') || SECRET_STATE_PATHS.has(rel) || TLS_KEY.test(rel)) return true;
  return SQLITE_FILE.test(base) && !SQLITE_LOCK.test(base);
}
