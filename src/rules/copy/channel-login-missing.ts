import path from 'node:path';
import type { Install, Rule, RuleReport } from '../../model.js';
import { installsOf, isInside, sh } from '../lib.js';

/** Where an account's WhatsApp login lives, relative to the state dir; undefined when it is outside (unknown here). */
function loginPath(install: Install, account: { id: string; authDir?: string }): string | undefined {
  if (!account.authDir) return `credentials/whatsapp/${account.id}/creds.json`;
  if (!path.posix.isAbsolute(account.authDir) || !isInside(account.authDir, install.stateDir)) return undefined;
  return path.posix.join(path.posix.relative(install.stateDir, account.authDir), 'creds.json');
}

export const rule: Rule = {
  meta: {
    id: 'copy/channel-login-missing',
    title: 'Channel login not copied',
    severity: 'error',
    phases: ['verify', 'image'],
    description: 'A configured channel account (a WhatsApp account) has no login state (credentials/whatsapp/<account>/creds.json, or its authDir).',
    why: 'Without its login state the channel needs re-pairing with a new QR code; restoring an older copy of ratcheting credentials desyncs it.',
    fix: 'Copy credentials/ from the old machine (gateway stopped); otherwise re-pair the channel.',
  },
  check({ machine }) {
    const reports: RuleReport[] = [];
    for (const { install } of installsOf(machine)) {
      if (!install.inventory.exists || install.config.gatewayMode === 'remote') continue;
      const present = new Set(install.inventory.entries.filter((entry) => entry.type === 'file').map((entry) => entry.path));
      for (const account of install.config.whatsappAccounts) {
        const relative = loginPath(install, account);
        if (relative === undefined || present.has(relative)) continue;
        const where = path.posix.join(install.stateDir, relative);
        reports.push({
          message: `WhatsApp account ${account.id} is configured, but its login ${where} is not here: the channel will ask for a new QR pairing.`,
          path: where,
          install: install.id,
          fix: {
            summary: 'Copy the credentials from the old machine with its gateway stopped, or pair again.',
            commands: [`rsync -a <old-host>:${sh(path.posix.join(install.stateDir, 'credentials'))}/ ${sh(path.posix.join(install.stateDir, 'credentials'))}/`, `resonix channels login whatsapp --account ${sh(account.id)}   # if the old login is lost`],
          },
        });
      }
    }
    return reports;
  },
};
export default rule;
