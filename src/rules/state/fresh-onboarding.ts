import { sha256Of } from '../../knowledge/baseline.js';
import { matchFor, matchInstalls, mapPath } from '../../knowledge/baseline-match.js';
import { TRANSCRIPT } from '../../knowledge/layout.js';
import type { FileEntry, Home, Install, Machine, Rule, RuleReport } from '../../model.js';
import { activeInstall, noteCutTrees, plural, sh, cutShort } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'state/fresh-onboarding',
    title: 'Active state dir freshly onboarded, real data elsewhere',
    severity: 'error',
    phases: ['verify'],
    area: 'state',
    verdict: 'migration',
    fixStep: 'copy',
    needsBaseline: false,
    description:
      'The state dir the gateway will use has no session transcripts and no credentials (what onboarding leaves), while the baseline\'s matching install, or another state dir on this machine, holds sessions, credentials or state databases at least 4x (and 256 KiB) larger. A new identity/device.json is named as evidence. Without a baseline it compares the state dirs found here; with one state dir and no baseline it says nothing.',
    why: 'Running `resonix onboard` (or starting the gateway) before the copy landed creates a new identity and empty state; the copied data then sits in another dir or was overwritten, and paired devices see "device token mismatch".',
    fix: 'Stop the gateway, copy the old state over the fresh one, then `resonix doctor`.',
  },
  check({ machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const home of machine.homes) {
      const active = activeInstall(home);
      if (!active) continue;
      if (!mayLookFresh(active)) continue;
      const here = profileOf(active, { untilData: true });
      if (!looksFresh(active, here)) continue;
      const report = (baseline ? againstBaseline(home, active, here, machine, baseline) : undefined) ?? againstOtherDirs(home, active, here);
      if (report) reports.push(report);
    }
    return reports;
  },
};
export default rule;

const CREDENTIAL = /^credentials\/.+/;
const AUTH_PROFILES = /^agents\/[^/]+\/agent\/auth-profiles\.json$/;
const DATABASE = /^(state\/[^/]+\.sqlite|agents\/[^/]+\/agent\/resonix-agent\.sqlite)$/;
const DEVICE = 'identity/device.json';

/** A state DB this many times larger than the active one, and at least MIN_DB_GAP bytes larger, holds real data the active one lacks. */
const DB_RATIO = 4;
const MIN_DB_GAP = 256 * 1024;

export interface Profile {
  transcripts: number;
  credentials: number;
  authProfiles: number;
  dbBytes: number;
  device?: FileEntry;
}

const A = 0x61;
const C = 0x63;
const S = 0x73;

/**
 * What an install holds. With `untilData` it stops at the first non-empty transcript or credential file: the
 * install then does not look fresh, and the rest of its profile is not used.
 */
export function profileOf(install: Install, options: { untilData?: boolean } = {}): Profile {
  const profile: Profile = { transcripts: 0, credentials: 0, authProfiles: 0, dbBytes: 0 };
  if (!install.inventory.exists) return profile;
  const entries = install.inventory.entries;
  // one pass of a million entries: by index (for…of allocates per entry), and each path matched only against
  // the patterns its first letter allows (transcripts, auth profiles and agent databases are under agents/)
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!;
    if (entry.type !== 'file') continue;
    const relativePath = entry.path;
    const first = relativePath.charCodeAt(0);
    if (first === A) {
      // an empty transcript counts as nothing, like any other file no pattern names
      if (relativePath.endsWith('.jsonl')) {
        if (entry.size > 0 && TRANSCRIPT.test(relativePath)) profile.transcripts += 1;
      } else if (AUTH_PROFILES.test(relativePath)) profile.authProfiles += 1;
      else if (DATABASE.test(relativePath)) profile.dbBytes += entry.size;
    } else if (first === C) {
      if (CREDENTIAL.test(relativePath)) profile.credentials += 1;
    } else if (first === S) {
      if (DATABASE.test(relativePath)) profile.dbBytes += entry.size;
    } else if (relativePath === DEVICE) profile.device = entry;
    if (options.untilData && (profile.transcripts > 0 || profile.credentials > 0)) break;
  }
  return profile;
}

/** What looksFresh asks of the install itself, before its entries are counted. */
function mayLookFresh(install: Install): boolean {
  return install.inventory.exists && !cutShort(install.inventory) && install.config.exists && install.config.gatewayMode !== 'remote';
}

/**
 * No sessions and no channel logins, but what onboarding writes (a device identity or a state database):
 * a dir with the config alone is a config-only copy (copy/config-only says so), not an onboarding.
 */
function looksFresh(install: Install, profile: Profile): boolean {
  const onboarded = profile.device !== undefined || profile.dbBytes > 0;
  return mayLookFresh(install) && onboarded && profile.transcripts === 0 && profile.credentials === 0;
}

/** What `other` holds that `fresh` lacks, in words; empty when it holds no more real data. */
function realDataIn(other: Profile, fresh: Profile): string[] {
  const found: string[] = [];
  if (other.transcripts > 0) found.push(plural(other.transcripts, 'session transcript'));
  if (other.credentials > 0) found.push(plural(other.credentials, 'credential file'));
  if (other.dbBytes >= fresh.dbBytes * DB_RATIO && other.dbBytes - fresh.dbBytes >= MIN_DB_GAP) {
    found.push(`${Math.round(other.dbBytes / 1024)} KiB of state databases (${Math.round(fresh.dbBytes / 1024)} KiB in the active dir)`);
  }
  return found;
}

/** How the device identity here tells a fresh onboarding from the copied one. */
function identityNote(here: Profile, there: Profile, baseline: Machine | undefined, baselineCut: boolean): string | undefined {
  if (!here.device) return undefined;
  // a baseline listed only in part (snapshot --max-entries) cannot show the device was not there
  if (!there.device) return baselineCut ? undefined : `${DEVICE} is here but was not in the baseline`;
  const a = sha256Of(here.device);
  const b = sha256Of(there.device);
  if (a !== undefined && b !== undefined) return a === b ? undefined : `${DEVICE} differs from the baseline's: a new device identity`;
  const takenAt = baseline ? Date.parse(baseline.scannedAt) : Number.NaN;
  if (!Number.isNaN(takenAt) && here.device.mtimeMs > takenAt + 1000 && Math.abs(here.device.mtimeMs - there.device.mtimeMs) > 1000) {
    return `${DEVICE} was written after the baseline was taken: a new device identity`;
  }
  return undefined;
}

function fixFor(active: Install, source: string, fromBaseline: boolean): RuleReport['fix'] {
  return {
    summary: fromBaseline ? 'Stop the gateway and copy the old state over the freshly onboarded one.' : `Stop the gateway and run it on ${source}, or move that data into ${active.stateDir}.`,
    commands: [
      'resonix gateway stop',
      `mv ${sh(active.stateDir)} ${sh(`${active.stateDir}.fresh-onboarding`)}   # keep it until the move is checked`,
      fromBaseline ? `rsync -a <old-host>:${sh(`${source}/`)} ${sh(`${active.stateDir}/`)}` : `cp -a ${sh(source)} ${sh(active.stateDir)}`,
      'resonix doctor',
    ],
  };
}

/** Another state dir here (not a thin client) holding real data the active one lacks. */
function richestOther(home: Home, active: Install, here: Profile): { install: Install; real: string[] } | undefined {
  return home.installs
    .filter((install) => install !== active && install.inventory.exists && install.config.gatewayMode !== 'remote')
    .map((install) => ({ install, real: realDataIn(profileOf(install), here) }))
    .filter((item) => item.real.length > 0)
    .sort((a, b) => b.real.length - a.real.length)[0];
}

function againstBaseline(home: Home, active: Install, here: Profile, machine: Machine, baseline: Machine): RuleReport | undefined {
  const matches = matchInstalls(baseline, machine);
  const reference = matchFor(matches, active)?.baseline ?? baseline.homes.flatMap((item) => item.installs).find((install) => install.active);
  if (!reference || reference.config.gatewayMode === 'remote') return undefined;
  const there = profileOf(reference);
  const real = realDataIn(there, here);
  if (real.length === 0) return undefined;
  const identity = identityNote(here, there, baseline, reference.inventory.truncated === true);
  const homeMap = matches.find((match) => match.baseline === reference)?.homeMap ?? { from: reference.stateDir, to: reference.stateDir };
  const other = richestOther(home, active, here);
  return {
    message: `${active.stateDir} looks freshly onboarded (no sessions, no credentials) while the baseline's ${reference.stateDir} held ${real.join(', ')}: ${other ? `the copy went into ${other.install.stateDir}` : 'the copy went elsewhere or onboarding overwrote it'}.`,
    path: active.stateDir,
    install: active.id,
    evidence: [
      `here: ${plural(here.transcripts, 'transcript')}, ${plural(here.credentials, 'credential file')}, ${Math.round(here.dbBytes / 1024)} KiB of state databases`,
      `baseline ${reference.stateDir} (expected at ${mapPath(reference.stateDir, homeMap)}): ${real.join(', ')}`,
      ...(other ? [`${other.install.stateDir} on this machine holds ${other.real.join(', ')}`] : []),
      ...(identity ? [identity] : []),
    ],
    fix: other ? fixFor(active, other.install.stateDir, false) : fixFor(active, reference.stateDir, true),
  };
}

function againstOtherDirs(home: Home, active: Install, here: Profile): RuleReport | undefined {
  const richest = richestOther(home, active, here);
  if (!richest) return undefined;
  return {
    message: `${active.stateDir}, the state dir the gateway will use, looks freshly onboarded (no sessions, no credentials) while ${richest.install.stateDir} holds ${richest.real.join(', ')}: the copy went into another dir.`,
    path: active.stateDir,
    install: active.id,
    evidence: [`here: ${plural(here.transcripts, 'transcript')}, ${plural(here.credentials, 'credential file')}`, `${richest.install.stateDir}: ${richest.real.join(', ')}`],
    fix: fixFor(active, richest.install.stateDir, false),
  };
}
