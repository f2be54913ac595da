// Every built-in rule, in catalog order. The single source for the CLI, docs and reporters.
import type { Rule } from '../model.js';
import { rule as gatewayPortConflict } from './gateway/port-conflict.js';
import { rule as gatewayRunning } from './gateway/running.js';
import { rule as gatewayServiceMissing } from './gateway/service-missing.js';
import { rule as gatewayStaleService } from './gateway/stale-service.js';
import { rule as copyChannelLoginMissing } from './copy/channel-login-missing.js';
import { rule as copyConfigOnly } from './copy/config-only.js';
import { rule as copyIncomplete } from './copy/incomplete.js';
import { rule as copyHiddenOmitted } from './copy/hidden-omitted.js';
import { rule as copySqliteTorn } from './copy/sqlite-torn.js';
import { rule as copyTruncatedTranscript } from './copy/truncated-transcript.js';
import { rule as copyWorkspaceMissing } from './copy/workspace-missing.js';
import { rule as pathsEnvMissing } from './paths/env-missing.js';
import { rule as pathsForeignHome } from './paths/foreign-home.js';
import { rule as pathsIncludeBroken } from './paths/include-broken.js';
import { rule as permsSymlinkEscape } from './perms/symlink-escape.js';
import { rule as permsSecretsExposed } from './perms/secrets-exposed.js';
import { rule as permsUnreadable } from './perms/unreadable.js';
import { rule as permsWrongOwner } from './perms/wrong-owner.js';
import { rule as remoteClientOnly } from './remote/client-only.js';
import { rule as remoteModeUnset } from './remote/mode-unset.js';
import { rule as remoteStaleLocalState } from './remote/stale-local-state.js';
import { rule as secretsBackupExposed } from './secrets/backup-exposed.js';
import { rule as secretsDuplicateLiveCredentials } from './secrets/duplicate-live-credentials.js';
import { rule as secretsInServiceUnit } from './secrets/in-service-unit.js';
import { rule as secretsInWorkspaceGit } from './secrets/in-workspace-git.js';
import { rule as secretsUnencryptedBackup } from './secrets/unencrypted-backup.js';
import { rule as stateConfigInvalid } from './state/config-invalid.js';
import { rule as stateFreshOnboarding } from './state/fresh-onboarding.js';
import { rule as stateHomeOverride } from './state/home-override.js';
import { rule as stateMultipleDirs } from './state/multiple-dirs.js';
import { rule as stateNotFound } from './state/not-found.js';
import { rule as stateProfileMismatch } from './state/profile-mismatch.js';
import { rule as stateRiskyLocation } from './state/risky-location.js';
import { rule as versionDowngrade } from './version/downgrade.js';
import { rule as versionLayoutUpgrade } from './version/layout-upgrade.js';
import { rule as versionNodeUnsupported } from './version/node-unsupported.js';

export const builtinRules: readonly Rule[] = [
  stateNotFound,
  stateProfileMismatch,
  stateMultipleDirs,
  stateHomeOverride,
  stateFreshOnboarding,
  stateRiskyLocation,
  stateConfigInvalid,
  copyConfigOnly,
  copyIncomplete,
  copyHiddenOmitted,
  copyWorkspaceMissing,
  copySqliteTorn,
  copyTruncatedTranscript,
  copyChannelLoginMissing,
  permsWrongOwner,
  permsUnreadable,
  permsSecretsExposed,
  permsSymlinkEscape,
  remoteClientOnly,
  remoteStaleLocalState,
  remoteModeUnset,
  secretsUnencryptedBackup,
  secretsBackupExposed,
  secretsInWorkspaceGit,
  secretsInServiceUnit,
  secretsDuplicateLiveCredentials,
  pathsForeignHome,
  pathsIncludeBroken,
  pathsEnvMissing,
  versionDowngrade,
  versionNodeUnsupported,
  versionLayoutUpgrade,
  gatewayRunning,
  gatewayStaleService,
  gatewayServiceMissing,
  gatewayPortConflict,
];

export function findRule(id: string, rules: readonly Rule[] = builtinRules): Rule | undefined {
  return rules.find((rule) => rule.meta.id === id);
}
