// Where Resonix looks for its state, as a pure function of an environment (reference §1).
import path from 'node:path';
import type { Resolution } from '../model.js';

export type Env = Record<string, string | undefined>;


export interface ResolveInput {
  env: Env;
  /** the home to use when no env variable names one (os.homedir(), or the passwd home) */
  fallbackHome: string;
  fallbackHomeSource?: Resolution['homeSource'];
  /** `--profile` / `--dev` given on the command line */
  profile?: string;
  /** the cwd relative paths resolve against */
  cwd?: string;
}

export function expandTilde(value: string, home: string): string {
  if (value === '~') return home;
  if (value.startsWith('~/')) return path.posix.join(home, value.slice(2));
  return value;
}

function absolutise(value: string, home: string, cwd: string): string {
  const expanded = expandTilde(value, home);
  return path.posix.resolve(cwd, expanded);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value.trim() : undefined;
}

export function resolveHome(input: ResolveInput): Pick<Resolution, 'home' | 'homeSource' | 'resonixHome'> {
  const { env } = input;
  const resonixHome = nonEmpty(env.RESONIX_HOME);
  if (resonixHome) return { home: resonixHome, homeSource: 'RESONIX_HOME', resonixHome };
  const home = nonEmpty(env.HOME);
  if (home) return { home, homeSource: 'HOME' };
  const userProfile = nonEmpty(env.USERPROFILE);
  if (userProfile) return { home: userProfile, homeSource: 'USERPROFILE' };
  return { home: input.fallbackHome, homeSource: input.fallbackHomeSource ?? 'os' };
}

/**
 * `--profile` sets RESONIX_PROFILE, RESONIX_STATE_DIR and RESONIX_CONFIG_PATH only where they are not
 * already set: inherited env wins. `RESONIX_PROFILE` alone does not move the state dir.
 */
export function resolveResonix(input: ResolveInput): Resolution {
  const cwd = input.cwd ?? '/';
  const homeFacts = resolveHome(input);
  const home = homeFacts.home;
  const env: Env = { ...input.env };
  const cliProfile = input.profile && input.profile !== 'default' ? input.profile : undefined;
  let stateDirFromProfile = false;
  let configFromProfile = false;
  if (cliProfile) {
    if (!nonEmpty(env.RESONIX_PROFILE)) env.RESONIX_PROFILE = cliProfile;
    if (!nonEmpty(env.RESONIX_STATE_DIR)) {
      env.RESONIX_STATE_DIR = path.posix.join(home, `.resonix-${cliProfile}`);
      stateDirFromProfile = true;
    }
    if (!nonEmpty(env.RESONIX_CONFIG_PATH)) {
      env.RESONIX_CONFIG_PATH = path.posix.join(env.RESONIX_STATE_DIR!, 'resonix.json');
      configFromProfile = true;
    }
  }
  const stateEnv = nonEmpty(env.RESONIX_STATE_DIR);
  const stateDir = stateEnv ? absolutise(stateEnv, home, cwd) : path.posix.join(home, '.resonix');
  const configEnv = nonEmpty(env.RESONIX_CONFIG_PATH);
  const configPath = configEnv ? absolutise(configEnv, home, cwd) : path.posix.join(stateDir, 'resonix.json');
  const profileEnv = nonEmpty(env.RESONIX_PROFILE);
  return {
    ...homeFacts,
    stateDir,
    stateDirSource: stateEnv ? (stateDirFromProfile ? 'profile' : 'RESONIX_STATE_DIR') : 'default',
    configPath,
    configPathSource: configEnv ? (configFromProfile ? 'profile' : 'RESONIX_CONFIG_PATH') : 'default',
    ...(profileEnv && profileEnv !== 'default' ? { profile: profileEnv } : {}),
  };
}

/** The profile a state dir name implies: `.resonix-work` → `work`, `.resonix` → undefined. */
export function profileOfStateDir(stateDir: string): string | undefined {
  const match = /^\.resonix-([a-z0-9][a-z0-9_-]{0,63})$/.exec(path.posix.basename(stateDir));
  return match?.[1];
}
