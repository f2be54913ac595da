// The secret values a scan finds in what it reads (a service's command line and environment), handed to the
// masker (knowledge/mask.ts) as known values; never for output.
import { isSecretEnvKey, looksLikeSecretValue, SAFE_ENV_KEYS } from '../knowledge/mask.js';

/** stricter, for values that become known secrets masked everywhere (`--auth none` must not mask "none" globally) */
const ARG_SECRET_WORD = '(?:token|secret|pass|passwd|password|passphrase|api[-_]?key|apikey|auth[-_]?key|auth[-_]?token|credentials?)';
const SECRET_FLAG = new RegExp(`^--?(?:[A-Za-z0-9_-]{0,40}[-_])?${ARG_SECRET_WORD}$`, 'i');

/** Values a command line passes as secrets: `--token X`, `--password=X`, `env API_KEY=X node …`. */
export function secretArgValues(argv: readonly string[]): string[] {
  const values: string[] = [];
  const isLocation = (value: string) => /^(\/|~|\.\.?\/)/.test(value);
  argv.forEach((word, index) => {
    const eq = word.indexOf('=');
    const next = argv[index + 1];
    if (SECRET_FLAG.test(word) && next !== undefined && !isLocation(next)) values.push(next);
    else if (eq > 0 && word.startsWith('-') && SECRET_FLAG.test(word.slice(0, eq))) values.push(word.slice(eq + 1));
    else if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(word.slice(0, eq)) && isSecretEnvKey(word.slice(0, eq))) {
      values.push(word.slice(eq + 1));
    }
  });
  return values.filter((value) => value !== '' && !isLocation(value));
}

export interface EnvReport {
  env: Record<string, string>;
  envKeys: string[];
  secretEnvKeys: string[];
  /** raw values of the secret keys: for the masker only, never for output */
  secretValues: string[];
}

export function splitEnvForReport(env: Record<string, string>): EnvReport {
  const safe: [string, string][] = [];
  const secretEnvKeys: string[] = [];
  const secretValues = new Set<string>();
  const envKeys = Object.keys(env).sort();
  for (const key of envKeys) {
    const value = env[key] ?? '';
    const valueIsSecret = looksLikeSecretValue(value);
    // an empty value embeds nothing, whatever its name
    if (value.trim() !== '' && (valueIsSecret || isSecretEnvKey(key))) {
      secretEnvKeys.push(key);
      secretValues.add(value);
    } else if (SAFE_ENV_KEYS.has(key) && !valueIsSecret) safe.push([key, value]);
  }
  return { env: Object.fromEntries(safe), envKeys, secretEnvKeys, secretValues: [...secretValues] };
}
