import path from 'node:path';
import { filesOf } from '../../knowledge/baseline.js';
import { matchInstalls } from '../../knowledge/baseline-match.js';
import type { Install, Machine, Rule, RuleReport } from '../../model.js';
import { installsOf, isInside, noteCutTrees, presentPaths, sh, cutShort } from '../lib.js';

export const rule: Rule = {
  meta: {
    id: 'copy/channel-login-missing',
    title: 'Channel login not copied',
    severity: 'error',
    phases: ['verify', 'image'],
    area: 'channels',
    verdict: 'migration',
    fixStep: 'copy',
    causedBy: [{ rule: 'copy/config-only', relation: 'inside' }, { rule: 'perms/unreadable', relation: 'inside' }, { rule: 'copy/hidden-omitted', relation: 'inside' }],
    description:
      'A configured channel account (a WhatsApp account) has no login state (credentials/whatsapp/<account>/creds.json, or its authDir). With a baseline: a WhatsApp login the old machine had (credentials/whatsapp/<account>/creds.json) is not here.',
    why: 'Without its login state the channel needs re-pairing with a new QR code; restoring an older copy of ratcheting credentials desyncs it.',
    fix: 'Copy credentials/ from the old machine (gateway stopped); otherwise re-pair the channel.',
  },
  check({ machine, baseline, skip }) {
    noteCutTrees(machine, skip);
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.inventory.exists || install.config.gatewayMode === 'remote' || cutShort(install.inventory)) continue;
      const wanted = install.config.whatsappAccounts.map((account) => ({ account, relative: loginPath(install, account) }));
      const present = presentFiles(install, wanted.map((item) => item.relative));
      for (const { account, relative } of wanted) {
        if (relative === undefined || present.has(relative)) continue;
        const where = path.posix.join(install.stateDir, relative);
        reports.push({
          message: `WhatsApp account ${account.id} is configured, but its login ${where} is not here: the channel will ask for a new QR pairing.`,
          path: where,
          install: install.id,
          fix: {
            summary: 'Copy the credentials from the old machine with its gateway stopped, or pair again.',
            commands: [`rsync -a <old-host>:${sh(path.posix.join(install.stateDir, 'credentials'))}/ ${sh(path.posix.join(install.stateDir, 'credentials'))}/`, `resonix channels login whatsapp --account ${sh(account.id)}   # if the old login is lost`], alternatives: true,
          },
        });
      }
    }
    if (baseline) reports.push(...loginsLeftBehind(machine, baseline, new Set(reports.map((report) => report.path ?? ''))));
    return reports;
  },
};
export default rule;

const WHATSAPP_LOGIN = /^credentials\/whatsapp\/([^/]+)\/creds\.json$/;

/** Where an account's WhatsApp login lives, relative to the state dir; undefined when it is outside (unknown here). */
function loginPath(install: Install, account: { id: string; authDir?: string }): string | undefined {
  if (!account.authDir) return `credentials/whatsapp/${account.id}/creds.json`;
  if (!path.posix.isAbsolute(account.authDir) || !isInside(account.authDir, install.stateDir)) return undefined;
  return path.posix.join(path.posix.relative(install.stateDir, account.authDir), 'creds.json');
}

/** Which of `paths` are regular files of the install: one pass, hashing only paths of a wanted length. */
function presentFiles(install: Install, paths: (string | undefined)[]): Set<string> {
  return presentPaths(install.inventory, new Set(paths.filter((item): item is string => item !== undefined)), (entry) => entry.type === 'file');
}

function credentialsCommand(from: string, to: string): string {
  return `rsync -a <old-host>:${sh(path.posix.join(from, 'credentials'))}/ ${sh(path.posix.join(to, 'credentials'))}/`;
}

/** Baseline part: the old machine had a WhatsApp login (creds.json) that is not here, configured or not. */
function loginsLeftBehind(machine: Machine, baseline: Machine, reported: Set<string>): RuleReport[] {
  const reports: RuleReport[] = [];
  for (const match of matchInstalls(baseline, machine)) {
    const current = match.current;
    if (!current?.inventory.exists || current.config.gatewayMode === 'remote' || cutShort(current.inventory)) continue;
    for (const old of match.baseline.inventory.entries) {
      const account = old.type === 'file' && old.path.startsWith('credentials/whatsapp/') ? WHATSAPP_LOGIN.exec(old.path)?.[1] : undefined;
      const relative = old.path;
      if (account === undefined || filesOf(current.inventory).has(relative)) continue;
      const where = path.posix.join(current.stateDir, relative);
      if (reported.has(where)) continue;
      reports.push({
        message: `The old machine had a WhatsApp login for account ${account} (${relative}); it is not in ${current.stateDir}: the channel will ask for a new QR pairing.`,
        path: where,
        install: current.id,
        fix: {
          summary: 'Copy the credentials from the old machine with its gateway stopped, or pair again.',
          commands: [credentialsCommand(match.baseline.stateDir, current.stateDir), `resonix channels login whatsapp --account ${sh(account)}   # if the old login is lost`], alternatives: true,
        },
      });
    }
  }
  return reports;
}
