// Which environment variables a config's own `env` section sets (reference §5): `env.vars.<KEY>` and the
// upper-case `env.<KEY>` shorthand. Names only; values are never kept. Pure.

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const UPPER_ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

type Plain = Record<string, unknown>;

function isObject(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True when the value actually gives the variable a value: a scalar that is not only a reference to the
 * variable itself (`OPENROUTER_API_KEY: "${OPENROUTER_API_KEY}"` passes the variable through, it sets nothing).
 */
function defines(key: string, value: unknown): boolean {
  if (typeof value === 'number' || typeof value === 'boolean') return true;
  if (typeof value !== 'string') return false;
  const selfReference = new RegExp(`(?<!\\$)\\$\\{${key}\\}`);
  return !selfReference.test(value);
}

export function summariseEnvVarKeys(parsed: unknown): string[] {
  if (!isObject(parsed)) return [];
  const env = parsed.env;
  if (!isObject(env)) return [];
  const keys = new Set<string>();
  const vars = env.vars;
  if (isObject(vars)) {
    for (const [key, value] of Object.entries(vars)) if (ENV_NAME.test(key) && defines(key, value)) keys.add(key);
  }
  for (const [key, value] of Object.entries(env)) {
    if (key === 'vars' || !UPPER_ENV_NAME.test(key)) continue;
    if (defines(key, value)) keys.add(key);
  }
  return [...keys].sort();
}
