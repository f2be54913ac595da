// `--with-doctor`, the pure half: doctor's lint findings as ours (under their own ids, `core/doctor/…` as
// doctor prints them), and the ones that say what one of our findings says folded under it (`causedBy`, the
// root's fingerprint: shown beside it, not counted and not gating on their own). The engine masks them like
// every other finding.
import type { DoctorLintFinding, DoctorLintReport } from './doctor-lint-shape.js';
import type { Finding } from './model.js';

/** doctor's findings for the install it linted; a `path` that is not absolute is a config key, kept as evidence. */
export function doctorFindings(lint: DoctorLintReport, install: string): Finding[] {
  return lint.findings.map((item) => toFinding(item, install));
}

function toFinding(item: DoctorLintFinding, install: string): Finding {
  const absolute = item.path !== undefined && item.path.startsWith('/');
  const hint = (item.fixHint ?? '').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const evidence = [
    ...(item.path !== undefined && !absolute ? [`config key: ${item.path}`] : []),
    ...(item.target !== undefined ? [`target: ${item.target}`] : []),
    ...(item.requirement !== undefined ? [`requirement: ${item.requirement}`] : []),
    ...hint.slice(1),
  ];
  return {
    ruleId: item.checkId,
    severity: item.severity,
    message: item.message,
    ...(absolute ? { path: item.path } : {}),
    install,
    ...(evidence.length > 0 ? { evidence } : {}),
    ...(hint.length > 0 ? { fix: { summary: hint[0]!, commands: [] } } : {}),
  };
}

interface Fold {
  /** our rule that says the same */
  ours: string;
  /** doctor's finding says it (its check ids are not a contract: the words are what is compared) */
  says: (text: string) => boolean;
}

const STATE_DIR = String.raw`\bstate dir(?:ectory)?\b`;
const WHO = '(?:group|world|other)';
const OPEN = String.raw`(?:too open|${WHO}(?:[-/ ]*${WHO})*[-/ ]*(?:readable|writable|accessible))`;

export const FOLDS: readonly Fold[] = [
  {
    ours: 'perms/secrets-exposed',
    says: (text) =>
      new RegExp(`${STATE_DIR}[^.]*\\b(?:permissions?|modes?)\\b[^.]*${OPEN}`, 'i').test(text) ||
      new RegExp(`${STATE_DIR}[^.]*\\bis ${OPEN}`, 'i').test(text) ||
      new RegExp(`\\bconfig(?:uration)? file\\b[^.]*\\bis ${OPEN}`, 'i').test(text),
  },
  { ours: 'state/multiple-dirs', says: (text) => /\b(?:multiple|more than one|several) state dir(?:ectorie)?s?\b/i.test(text) },
  { ours: 'copy/truncated-transcript', says: (text) => /\bmissing (?:session )?transcripts?\b|\btranscripts?\b[^.]*\b(?:are|is) missing\b|\bwithout (?:a |their )?transcripts?\b/i.test(text) },
];

function within(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer.replace(/\/+$/, '')}/`);
}

/** Both about the same place: one path inside the other, or (doctor naming none) the same install. */
function related(doctor: Finding, ours: Finding): boolean {
  if (doctor.path !== undefined && ours.path !== undefined) return within(doctor.path, ours.path) || within(ours.path, doctor.path);
  return ours.install === undefined || ours.install === doctor.install;
}

/**
 * Marks each of doctor's findings that says what one of ours says with `causedBy: <our finding's fingerprint>`.
 * `isDoctor` tells doctor's findings from ours; findings need their fingerprints already.
 */
export function foldDoctorFindings<T extends Finding>(findings: T[], isDoctor: (finding: Finding) => boolean): T[] {
  return findings.map((finding) => {
    if (!isDoctor(finding) || finding.causedBy !== undefined) return finding;
    const fold = FOLDS.find((item) => item.says(finding.message));
    if (fold === undefined) return finding;
    const root = findings.find((item) => item.ruleId === fold.ours && !isDoctor(item) && item.fingerprint !== undefined && related(finding, item));
    return root ? { ...finding, causedBy: root.fingerprint! } : finding;
  });
}
