// What inspect keeps of member contents while an archive streams past: nothing is extracted, and every
// byte kept is bounded. Which state dir a member belongs to is only known once the listing is done, so the
// choice is made by name, at the member's header: config and .env text (size-capped, within one budget),
// the 100-byte head of SQLite files, the last byte of session transcripts, /etc/passwd and /etc/group.
import type { ArchiveMember } from '../model.js';
import type { MemberSink } from './list.js';
import { MAX_CONFIG_BYTES, MAX_DOTENV_BYTES } from '../scan/install.js';
import { MAX_PASSWD_BYTES } from '../scan/machine.js';
import { SQLITE_HEADER_BYTES, isSqliteDatabasePath } from '../scan/sqlite-header.js';
import { memberKey } from './members.js';

/** all text captures together (configs, .env, passwd): a hostile archive cannot make us hold more */
const TEXT_BUDGET = 32 * 1024 * 1024;
const MAX_SQLITE_HEADS = 100_000;

export type TextCapture =
  | { ok: true; text: Buffer; size: number }
  /** `skipped`: left unread by inspect's own limits, not a fault of the member */
  | { ok: false; reason: string; size: number; skipped?: boolean };

export interface Captured {
  /** keyed by normalised member path */
  texts: Map<string, TextCapture>;
  sqliteHeads: Map<string, Buffer>;
  /** last byte of each non-empty transcript whose data was seen to its end */
  lastBytes: Map<string, number>;
}

const TRANSCRIPT = /(^|\/)sessions\/[^/]+\.jsonl$/;

function textLimit(key: string): number | undefined {
  const base = key.slice(key.lastIndexOf('/') + 1);
  if (base === 'resonix.json') return MAX_CONFIG_BYTES;
  if (base === '.env') return MAX_DOTENV_BYTES;
  if (key === 'etc/passwd' || key === 'etc/group') return MAX_PASSWD_BYTES;
  return undefined;
}

/** Collects the few member contents inspect needs; `onTarMember` plugs into inspectArchiveFile. */
export class MemberCapture {
  readonly captured: Captured = { texts: new Map(), sqliteHeads: new Map(), lastBytes: new Map() };
  private budget = TEXT_BUDGET;

  readonly onTarMember = (member: ArchiveMember): MemberSink | undefined => {
    if (member.type !== 'file' || member.linkTarget !== undefined) return undefined;
    const key = memberKey(member.path);
    if (key === undefined) return undefined;
    const limit = textLimit(key);
    if (limit !== undefined) return this.text(key, member.size, limit);
    if (member.size > 0 && isSqliteDatabasePath(key)) return this.head(key);
    if (member.size > 0 && TRANSCRIPT.test(key)) return this.lastByte(key);
    // a later member of the same name replaces an earlier one, as extraction would
    this.forget(key);
    return undefined;
  };

  private forget(key: string): void {
    this.captured.texts.delete(key);
    this.captured.sqliteHeads.delete(key);
    this.captured.lastBytes.delete(key);
  }

  private text(key: string, size: number, limit: number): MemberSink | undefined {
    this.forget(key);
    const texts = this.captured.texts;
    if (size > limit) {
      texts.set(key, { ok: false, reason: `too large (${size} bytes, limit ${limit})`, size });
      return undefined;
    }
    if (size > this.budget) {
      texts.set(key, { ok: false, reason: `not read: the archive holds more config text than inspect reads (${TEXT_BUDGET} bytes)`, size, skipped: true });
      return undefined;
    }
    this.budget -= size;
    const chunks: Buffer[] = [];
    let received = 0;
    return {
      data: (chunk) => {
        // the header's size is the cap: a member never streams more than it declared
        if (received + chunk.length > size) return;
        chunks.push(chunk);
        received += chunk.length;
      },
      end: (complete) => {
        texts.set(
          key,
          complete && received === size
            ? { ok: true, text: Buffer.concat(chunks, received), size }
            : { ok: false, reason: 'cut off in the archive', size },
        );
      },
    };
  }

  private head(key: string): MemberSink | undefined {
    this.forget(key);
    if (this.captured.sqliteHeads.size >= MAX_SQLITE_HEADS) return undefined;
    const head = Buffer.alloc(SQLITE_HEADER_BYTES);
    let filled = 0;
    let stored = false;
    const store = (): void => {
      if (stored) return;
      stored = true;
      this.captured.sqliteHeads.set(key, head.subarray(0, filled));
    };
    return {
      data: (chunk) => {
        if (filled >= SQLITE_HEADER_BYTES) return;
        filled += chunk.copy(head, filled, 0, Math.min(chunk.length, SQLITE_HEADER_BYTES - filled));
        if (filled >= SQLITE_HEADER_BYTES) store();
      },
      // a head cut short is kept too: it parses as an invalid header, as a short file would
      end: () => store(),
    };
  }

  private lastByte(key: string): MemberSink {
    this.forget(key);
    let last: number | undefined;
    return {
      data: (chunk) => {
        if (chunk.length > 0) last = chunk[chunk.length - 1];
      },
      end: (complete) => {
        if (complete && last !== undefined) this.captured.lastBytes.set(key, last);
      },
    };
  }
}
