// The one way a fix command addresses an install: the `resonix …` prefix every rule's commands start with.
//
// Resonix finds its state dir by RESONIX_STATE_DIR, else `--profile p` (`<home>/.resonix-p`), else
// `<home>/.resonix`, and the config by RESONIX_CONFIG_PATH, else `<state dir>/resonix.json` (reference §1; an
// inherited RESONIX_STATE_DIR wins over --profile). So the command names:
// - `--profile p` whenever the install has a profile (it also names the service and the default workspace),
// - `RESONIX_STATE_DIR=<dir>` when the state dir is not the one that profile (or no profile) gives in the home,
//   e.g. /srv/resonix, or a `.resonix-work` outside the home,
// - `RESONIX_CONFIG_PATH=<file>` when the config is not `<state dir>/resonix.json`.
// Without a state dir or a home to judge it by, only the profile can be said.
import path from 'node:path';
import type { Home, Install, ServiceUnit } from '../model.js';
import { installOfUnit } from './layout.js';
import { sh } from './shell.js';

/** What a command addresses: a profile, and where its state dir and config are (all optional). */
export interface CommandTarget {
  /** `--profile`: undefined (or 'default') for none */
  profile?: string | undefined;
  stateDir?: string | undefined;
  configPath?: string | undefined;
}

function targetOf(target: CommandTarget | Pick<Install, 'profile' | 'stateDir' | 'config'>): CommandTarget {
  return 'config' in target ? { profile: target.profile, stateDir: target.stateDir, configPath: target.config.path } : target;
}

/**
 * `resonix`, `resonix --profile work`, `RESONIX_STATE_DIR=/srv/resonix resonix`… for an install (or a profile and
 * its dirs) of the home at `home`: the words a fix command starts with, its arguments follow.
 */
export function resonixCommand(target: CommandTarget | Pick<Install, 'profile' | 'stateDir' | 'config'>, home?: string): string {
  const { profile: given, stateDir, configPath } = targetOf(target);
  const profile = given && given !== 'default' ? given : undefined;
  const command = profile ? `resonix --profile ${sh(profile)}` : 'resonix';
  if (stateDir === undefined || home === undefined) return command;
  const env: string[] = [];
  if (stateDir !== path.posix.join(home, profile ? `.resonix-${profile}` : '.resonix')) env.push(`RESONIX_STATE_DIR=${sh(stateDir)}`);
  if (configPath !== undefined && configPath !== path.posix.join(stateDir, 'resonix.json')) env.push(`RESONIX_CONFIG_PATH=${sh(configPath)}`);
  return [...env, command].join(' ');
}

/**
 * The command that addresses what a service unit runs: the install it serves, where that install is on this
 * machine, under the profile the unit names (RESONIX_PROFILE); a unit whose state dir is no install here is
 * addressed by its profile only (its old paths are not repeated).
 */
export function serviceCommand(home: Home, unit: ServiceUnit): string {
  const install = installOfUnit(home, unit);
  const profile = unit.resolution.profile ?? install?.profile;
  return resonixCommand(install ? { profile, stateDir: install.stateDir, configPath: install.config.path } : { profile }, home.path);
}
