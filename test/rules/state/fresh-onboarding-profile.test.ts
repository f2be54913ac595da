// state/fresh-onboarding counts an install's entries in one pass that matches each path only against the
// patterns its first letter allows (#13: a million entries). It must count exactly as the straightforward
// version below (the code it replaced), on any inventory; stopped at the first sign of data, it must still
// tell a fresh-looking install the same way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRANSCRIPT } from '../../../src/knowledge/layout.js';
import type { FileEntry, FileType, Install } from '../../../src/model.js';
import { profileOf, type Profile } from '../../../src/rules/state/fresh-onboarding.js';
import { install } from '../../helpers/machine.js';

const CREDENTIAL = /^credentials\/.+/;
const AUTH_PROFILES = /^agents\/[^/]+\/agent\/auth-profiles\.json$/;
const DATABASE = /^(state\/[^/]+\.sqlite|agents\/[^/]+\/agent\/resonix-agent\.sqlite)$/;
const DEVICE = 'identity/device.json';

function profileOfBefore(scanned: Install): Profile {
  const profile: Profile = { transcripts: 0, credentials: 0, authProfiles: 0, dbBytes: 0 };
  if (!scanned.inventory.exists) return profile;
  for (const entry of scanned.inventory.entries) {
    if (entry.type !== 'file') continue;
    if (TRANSCRIPT.test(entry.path) && entry.size > 0) profile.transcripts += 1;
    else if (CREDENTIAL.test(entry.path)) profile.credentials += 1;
    else if (AUTH_PROFILES.test(entry.path)) profile.authProfiles += 1;
    else if (DATABASE.test(entry.path)) profile.dbBytes += entry.size;
    else if (entry.path === DEVICE) profile.device = entry;
  }
  return profile;
}

const PATHS = [
  '',
  'agents/main/sessions/a.jsonl',
  'agents/main/sessions/a.jsonl.bak',
  'agents/main/sessions/sessions.json',
  'agents/x/y/sessions/a.jsonl',
  'agents/main/agent/auth-profiles.json',
  'agents/main/agent/resonix-agent.sqlite',
  'agents/main/agent/resonix-agent.sqlite-wal',
  'agents/main/agent/x.jsonl',
  'agents/.jsonl',
  'a.jsonl',
  'credentials/',
  'credentials/x',
  'credentials',
  'credentials/whatsapp/default/creds.json',
  'state/resonix.sqlite',
  'state/a/b.sqlite',
  'state/.sqlite',
  'identity/device.json',
  'identity/device.json ',
  'Identity/device.json',
  'sessions/a.jsonl',
  'Agents/main/sessions/a.jsonl',
];

const entryArb: fc.Arbitrary<FileEntry> = fc.record({
  path: fc.oneof(fc.constantFrom(...PATHS), fc.string({ maxLength: 6 }), fc.constantFrom('a', 'c', 's', 'i').chain((first) => fc.string({ maxLength: 30 }).map((rest) => first + rest))),
  type: fc.constantFrom<FileType>('file', 'file', 'file', 'dir', 'symlink'),
  mode: fc.constant(0o600),
  uid: fc.constant(1000),
  gid: fc.constant(1000),
  size: fc.constantFrom(0, 1, 300_000),
  mtimeMs: fc.integer({ min: 0, max: 9 }),
});
const installArb = fc.record({ exists: fc.boolean(), entries: fc.array(entryArb, { maxLength: 30 }) }).map(({ exists, entries }) => install('/s', [], { inventory: { root: '/s', exists, entries } }));

describe("fresh-onboarding's profile of an install", () => {
  it('counts as before', () => {
    fc.assert(
      fc.property(installArb, (scanned) => {
        expect(profileOf(scanned)).toEqual(profileOfBefore(scanned));
      }),
      { numRuns: 3000 },
    );
  });

  it('stopped at the first data, says the same about no data, and all of it when there is none', () => {
    fc.assert(
      fc.property(installArb, (scanned) => {
        const whole = profileOfBefore(scanned);
        const cut = profileOf(scanned, { untilData: true });
        const none = (profile: Profile): boolean => profile.transcripts === 0 && profile.credentials === 0;
        expect(none(cut)).toBe(none(whole));
        if (none(whole)) expect(cut).toEqual(whole);
      }),
      { numRuns: 3000 },
    );
  });
});
