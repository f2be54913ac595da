// The one masker, and everything it knows about what a secret looks like: provider patterns, random-looking
// tokens, credentials by their place (URL userinfo, query and fragment, `--pass`-style flags, KEY=, an
// Authorization scheme), secret env names. Nothing here returns a secret value for output: masks keep at most
// a public provider prefix. Pure: the secret values a scan finds in unit lines and environments are in scan/secrets.ts.

/** Env names whose values may appear in a report (when the value itself does not look secret). */
export const SAFE_ENV_KEYS: ReadonlySet<string> = new Set([
  'HOME',
  'USER',
  'LOGNAME',
  'USERPROFILE',
  'SHELL',
  'PATH',
  'TMPDIR',
  'LANG',
  'TZ',
  'NODE_ENV',
  'XDG_CONFIG_HOME',
  'XDG_RUNTIME_DIR',
  'RESONIX_STATE_DIR',
  'RESONIX_CONFIG_PATH',
  'RESONIX_PROFILE',
  'RESONIX_HOME',
  'RESONIX_GATEWAY_PORT',
  'RESONIX_OAUTH_DIR',
  'RESONIX_AGENT_DIR',
  'RESONIX_SYSTEMD_UNIT',
  'RESONIX_WINDOWS_TASK_NAME',
  'RESONIX_SERVICE_MARKER',
  'RESONIX_SERVICE_KIND',
  'RESONIX_SERVICE_VERSION',
  'RESONIX_NIX_MODE',
]);

const NOT_SECRET_NAMES = new Set(['PWD', 'OLDPWD', 'SSH_AUTH_SOCK', 'TOKENIZERS_PARALLELISM', 'GPG_TTY']);
const SECRET_NAME_PARTS = [
  'TOKEN',
  'SECRET',
  'PASSWORD',
  'PASSWD',
  'PASSPHRASE',
  'API_KEY',
  'APIKEY',
  'PRIVATE_KEY',
  'CREDENTIAL',
  'ACCESS_KEY',
  'AUTH_KEY',
  'COOKIE',
];
/** names of a location (TOKEN_FILE, SECRETS_DIR) hold a path, not the secret */
const LOCATION_SUFFIX = /_(FILE|PATH|DIR|DIRECTORY)$/;

export function isSecretEnvKey(name: string): boolean {
  const upper = name.toUpperCase();
  if (SAFE_ENV_KEYS.has(upper) || NOT_SECRET_NAMES.has(upper) || LOCATION_SUFFIX.test(upper)) return false;
  if (SECRET_NAME_PARTS.some((part) => upper.includes(part))) return true;
  if (upper.endsWith('PUBLIC_KEY')) return false;
  return /(^|_)(KEY|PASS|PW)$/.test(upper);
}

export interface Span {
  start: number;
  end: number;
}

/** Providers' public prefixes: kept in a mask so a reader can tell which secret it was. */
const PROVIDER_PREFIXES = [
  'sk-ant-',
  'sk-proj-',
  'sk-or-',
  'sk-',
  'github_pat_',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'xoxb-',
  'xoxp-',
  'xoxa-',
  'xapp-',
  'glpat-',
  'glc_',
  'glsa_',
  'npm_',
  'SG.',
  'shpat_',
  'shpca_',
  'shppa_',
  'shpss_',
  'gsk_',
  'hf_',
  'lin_api_',
  'ntn_',
  'ops_',
  'hvs.',
  'hvb.',
  'hvr.',
  'dckr_pat_',
  'figd_',
  'dapi',
  'AKIA',
  'ASIA',
  'AIza',
];

// split, not a lookahead regex: that would rescan the rest of a long match at every position
function hasLongRunWithDigit(match: string): boolean {
  return match.split(/[^A-Za-z0-9]/).some((run) => run.length >= 16 && /\d/.test(run));
}

const TOKEN_CHARS = 'A-Za-z0-9_-';
const PATTERNS: { re: RegExp; kind: string; accept?: (match: string) => boolean }[] = [
  { re: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, kind: 'private key (PEM)' },
  { re: new RegExp(`(?<![${TOKEN_CHARS}])sk-ant-[${TOKEN_CHARS}]{8,}`, 'g'), kind: 'Anthropic API key' },
  // generic sk-: needs a long alphanumeric run with a digit, so `sk-learn-models-2024` is not a key
  {
    re: new RegExp(`(?<![${TOKEN_CHARS}])sk-[${TOKEN_CHARS}]{16,}`, 'g'),
    kind: 'OpenAI-style API key (sk-)',
    accept: hasLongRunWithDigit,
  },
  { re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{20,}/g, kind: 'GitHub token' },
  { re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{20,}/g, kind: 'GitHub fine-grained token' },
  { re: /(?<![A-Za-z0-9_-])(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}/g, kind: 'Slack token' },
  { re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}/g, kind: 'Google API key' },
  { re: /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}/g, kind: 'GitLab token' },
  // Telegram bot token: <bot id>:<35 chars>
  { re: /(?<![0-9])\d{8,10}:[A-Za-z0-9_-]{35,}/g, kind: 'Telegram bot token' },
  { re: /(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g, kind: 'AWS access key id' },
  // ported from @secretlint/secretlint-rule-preset-recommend (MIT; README "Why this library" says why not the package)
  { re: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9_]{36}(?![A-Za-z0-9_])/g, kind: 'npm access token' },
  { re: /https:\/\/hooks\.slack\.com\/services\/T[a-zA-Z0-9]{1,40}\/B[a-zA-Z0-9]{1,40}\/[a-zA-Z0-9]{1,40}/gi, kind: 'Slack webhook URL' },
  { re: /(?<![A-Za-z0-9_])SG\.[\w-]{16,128}\.[\w-]{16,128}(?![\w-])/g, kind: 'SendGrid API key' },
  { re: /(?<![A-Za-z0-9_])(?:shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32,64}(?![a-zA-Z0-9])/g, kind: 'Shopify token' },
  { re: /(?<![A-Za-z0-9_])glc_[A-Za-z0-9+/]{32,400}={0,2}(?![A-Za-z0-9+/=])/g, kind: 'Grafana Cloud token' },
  { re: /(?<![A-Za-z0-9_])glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}(?![A-Fa-f0-9])/g, kind: 'Grafana service account token' },
  { re: /(?<![A-Za-z0-9_])gsk_[a-zA-Z0-9]{52}(?![a-zA-Z0-9])/g, kind: 'Groq API key' },
  { re: /(?<![A-Za-z0-9_])hf_[a-zA-Z]{34}(?![a-zA-Z])/g, kind: 'Hugging Face token' },
  { re: /(?<![A-Za-z0-9_])lin_api_[a-zA-Z0-9_]{32,128}(?![a-zA-Z0-9_])/g, kind: 'Linear API key' },
  { re: /(?<![A-Za-z0-9_])ntn_[0-9]{11}[A-Za-z0-9]{35}(?![A-Za-z0-9])/g, kind: 'Notion token' },
  { re: /(?<![A-Za-z0-9_])ops_ey[A-Za-z0-9+/=]{100,1280}(?![A-Za-z0-9+/=])/g, kind: '1Password service account token' },
  { re: /(?<![A-Za-z0-9_])hv[sbr]\.[A-Za-z0-9_-]{90,300}(?![A-Za-z0-9_-])/g, kind: 'HashiCorp Vault token' },
  { re: /(?<![A-Za-z0-9_])(?:vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20,60}(?![A-Za-z0-9])/g, kind: 'Vercel token' },
  { re: /(?<![A-Za-z0-9_])dapi[A-Fa-f0-9]{32}(?:-[0-9])?(?![A-Fa-f0-9])/g, kind: 'Databricks token' },
  { re: /(?<![A-Za-z0-9_])dckr_pat_[a-zA-Z0-9_-]{27}(?![a-zA-Z0-9_-])/g, kind: 'Docker personal access token' },
  { re: /(?<![A-Za-z0-9_])figd_[A-Za-z0-9_-]{40,200}(?![A-Za-z0-9_-])/g, kind: 'Figma token' },
  // JWT-ish: base64url JSON header "eyJ…" and at least a payload
  { re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*)?/g, kind: 'JSON Web Token' },
];

/**
 * Coarse POSIX ERE (`grep -E`, `git grep -E`, C locale) prefilters for the named patterns above: whatever
 * findNamedSecrets reports on a line, that line matches at least one of these. Confirm with findNamedSecrets.
 */
export const SECRET_PREFILTER_ERE: readonly string[] = [
  '-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----',
  'sk-[A-Za-z0-9_-]{8,}',
  'gh[pousr]_[A-Za-z0-9]{20,}',
  'github_pat_[A-Za-z0-9_]{20,}',
  '(xox[abposr]|xapp)-[A-Za-z0-9-]{10,}',
  'AIza[0-9A-Za-z_-]{35}',
  'glpat-[A-Za-z0-9_-]{20,}',
  '[0-9]{8,10}:[A-Za-z0-9_-]{35}',
  '(A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[0-9A-Z]{16}',
  'npm_[A-Za-z0-9_]{36}',
  'hooks[.]slack[.]com/services/',
  'SG[.][A-Za-z0-9_-]{16,}[.]',
  '(shppa|shpca|shpat|shpss)_[a-zA-Z0-9]{32}',
  'gl(c|sa)_[A-Za-z0-9+/]{32}',
  'gsk_[a-zA-Z0-9]{52}',
  'hf_[a-zA-Z]{34}',
  'lin_api_[a-zA-Z0-9_]{32}',
  'ntn_[0-9]{11}',
  'ops_ey',
  'hv[sbr][.][A-Za-z0-9_-]{90}',
  '(vcp|vci|vca|vcr|vck)_[A-Za-z0-9]{20}',
  'dapi[A-Fa-f0-9]{32}',
  'dckr_pat_',
  'figd_[A-Za-z0-9_-]{40}',
  'eyJ[A-Za-z0-9_-]{8,}[.][A-Za-z0-9_-]{8,}',
];

export interface NamedSecretSpan extends Span {
  /** a human name for what it is ("Anthropic API key"): never the value */
  kind: string;
}

/**
 * Provider-shaped secrets in `text` with what kind each is. Unlike findSecretSpans it leaves out the
 * random-looking heuristic (hashes in notes are not secrets); a match inside an earlier, more specific
 * one (sk- inside sk-ant-) is dropped. Callers must not keep the matched text.
 */
export function findNamedSecrets(text: string): NamedSecretSpan[] {
  const found: NamedSecretSpan[] = [];
  for (const { re, kind, accept } of PATTERN_ANCHORS.test(text) ? PATTERNS : []) {
    re.lastIndex = 0;
    for (const match of text.matchAll(re)) {
      if (match[0] === '' || (accept && !accept(match[0]))) continue;
      const span = { start: match.index, end: match.index + match[0].length, kind };
      if (found.some((other) => span.start < other.end && other.start < span.end)) continue;
      found.push(span);
    }
  }
  return found.sort((a, b) => a.start - b.start);
}

/**
 * The literal starts of every pattern above, in one regex: most strings (paths) hold none, and one scan for
 * them costs less than the patterns' own (a leading lookbehind keeps V8 from searching for the literal).
 */
const PATTERN_ANCHORS = /-----BEGIN|sk-|gh[pousr]_|github_pat_|xox[abposr]-|xapp-|AIza|glpat-|\d{8}|A3T|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA|eyJ|npm_|hooks\.slack\.com|SG\.|shp(?:pa|ca|at|ss)_|glc_|glsa_|gsk_|hf_|lin_api_|ntn_|ops_ey|hv[sbr]\.|vc[piark]_|dapi|dckr_pat_|figd_/i;

/** Where in `text` something looks like a secret (overlapping spans merged); `randomLooking: false` leaves out the long-random-string heuristic. */
export function findSecretSpans(text: string, randomLooking = true): Span[] {
  const spans: Span[] = [];
  for (const { re, accept } of PATTERN_ANCHORS.test(text) ? PATTERNS : []) {
    re.lastIndex = 0;
    for (const match of text.matchAll(re)) {
      if (match[0] === '' || (accept && !accept(match[0]))) continue;
      spans.push({ start: match.index, end: match.index + match[0].length });
    }
  }
  if (randomLooking) spans.push(...randomLookingSpans(text));
  return mergeSpans(spans);
}

/** Long hex or base64 runs: generated tokens (gateway tokens are 48 hex). Paths are split at '/'. */
function randomLookingSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const run of text.matchAll(/[A-Za-z0-9+/_-]{32,}={0,2}/g)) {
    const offset = run.index;
    for (const hex of run[0].matchAll(/[0-9a-f]{32,}|[0-9A-F]{32,}/g)) {
      if (/\d/.test(hex[0]) && /[a-fA-F]/.test(hex[0])) spans.push({ start: offset + hex.index, end: offset + hex.index + hex[0].length });
    }
    for (const piece of base64Pieces(run[0])) {
      if (isRandomLooking(piece.text)) spans.push({ start: offset + piece.at, end: offset + piece.at + piece.text.length });
    }
  }
  return spans;
}

function base64Pieces(run: string): { text: string; at: number }[] {
  const slashes = run.split('/').length - 1;
  // standard base64 has a '/' about every 64 chars; a path has one every few chars; base64url has '-' and
  // '_' but no '/', so a run with both is a path (`resonix/env-Xy9…`), not one token
  const pathLike = slashes > 0 && /[-_]/.test(run);
  if (!pathLike && slashes <= run.length / 20 + 1 && !run.startsWith('/')) return [{ text: run, at: 0 }];
  const pieces: { text: string; at: number }[] = [];
  let at = 0;
  for (const part of run.split('/')) {
    pieces.push({ text: part, at });
    at += part.length + 1;
  }
  return pieces;
}

function isRandomLooking(piece: string): boolean {
  const body = piece.replace(/=+$/, '');
  if (body.length < 32) return false;
  if (!/[A-Z]/.test(body) || !/[a-z]/.test(body) || !/\d/.test(body)) return false;
  return new Set(body).size >= 16;
}

export function looksLikeSecretValue(value: string): boolean {
  return findSecretSpans(value).length > 0;
}

function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

const MIN_KNOWN_SECRET_LENGTH = 6;

// Where a credential sits by its place, whatever it looks like: URL userinfo, query and fragment values,
// the value after a secret-named flag or KEY=, an Authorization scheme. Every quantifier is bounded, so a
// long hostile string costs linear time.
const URL_WITH_SCHEME = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s"'<>`]{1,4096}/g;
/** `admin:pw@host:18789`, no scheme: a user, a colon, anything up to the last `@` before a host */
const BARE_USERINFO = /(?<![\w.+:/@%~-])[A-Za-z0-9_.~%+-]{1,128}:(?!\/\/)([^\s"'<>`]{1,256})@(?=[A-Za-z0-9[])/g;
/** flag names whose value is a secret (`--pass`, `--gateway-token`, `--api-key`): masked where they stand */
const SECRET_WORD = '(?:token|secret|pass|passwd|password|passphrase|pw|pwd|api[-_]?key|apikey|auth[-_]?key|auth|credentials?|cookie)';
const SECRET_FLAG_VALUE = new RegExp(`(?<![\\w-])--?(?:[A-Za-z0-9_-]{0,40}[-_])?${SECRET_WORD}(=|[ \\t]+)("[^"\\n]{0,512}"|'[^'\\n]{0,512}'|[^\\s"']{1,512})`, 'gi');
/** only `KEY=` is consumed (the value is a lookahead), so `Environment=API_TOKEN=x` finds the inner key too */
const KEY_VALUE = /(?<![\w.-])([A-Za-z_][A-Za-z0-9_]{0,127})=(?=("[^"\n]{0,1024}"|'[^'\n]{0,1024}'|[^\s"'&#;]{1,1024}))/g;
const AUTH_SCHEME = /\b(?:Bearer|Basic|Token)[ \t]+([A-Za-z0-9._~+/-]{8,1024}=*)/g;
/** a login name (git, alice, deploy-1) is kept; anything else before the @ may be a token */
/** every flag, KEY= and Authorization form above needs one of these words (isSecretEnvKey's parts included) */
const SECRET_NAMED = /token|secret|pass|pw|key|auth|credential|cookie|bearer|basic/i;
const PLAIN_USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

function isLocationValue(value: string): boolean {
  return /^(\/|~|\.\.?\/)/.test(value);
}

/** A value span without its quotes; none for an empty value, a path or another flag. */
function valueSpan(at: number, raw: string): Span | undefined {
  const quoted = /^["']/.test(raw);
  const value = quoted ? raw.slice(1, -1) : raw;
  if (value === '' || value.startsWith('-') || isLocationValue(value) || value === '[masked]') return undefined;
  const start = at + (quoted ? 1 : 0);
  return { start, end: start + value.length };
}

function urlSpans(url: string, offset: number): Span[] {
  const spans: Span[] = [];
  const afterScheme = url.indexOf('//') + 2;
  const tailAt = url.slice(afterScheme).search(/[?#]/);
  const authorityAndPath = tailAt < 0 ? url.slice(afterScheme) : url.slice(afterScheme, afterScheme + tailAt);
  const at = authorityAndPath.lastIndexOf('@');
  if (at > 0) {
    const info = authorityAndPath.slice(0, at);
    const colon = info.indexOf(':');
    if (colon >= 0) {
      const password = info.slice(colon + 1);
      // host:port/path/x@y is a path with an @, not user:password
      const isPortAndPath = !info.slice(0, colon).includes('/') && /^\d{1,5}\//.test(password);
      if (password !== '' && !info.slice(0, colon).includes('/') && !isPortAndPath) {
        spans.push({ start: offset + afterScheme + colon + 1, end: offset + afterScheme + at });
      }
    } else if (!info.includes('/') && !PLAIN_USER.test(info)) {
      spans.push({ start: offset + afterScheme, end: offset + afterScheme + at });
    }
  }
  if (tailAt >= 0) {
    const tailStart = afterScheme + tailAt + 1;
    let cursor = tailStart;
    for (const part of url.slice(tailStart).split(/[&;?#]/)) {
      const eq = part.indexOf('=');
      const valueAt = eq >= 0 ? eq + 1 : 0;
      if (part.length > valueAt) spans.push({ start: offset + cursor + valueAt, end: offset + cursor + part.length });
      cursor += part.length + 1;
    }
  }
  return spans;
}

/** Credentials found by where they stand (URLs, flags, KEY=value, Authorization), not by their shape. */
export function credentialSpans(text: string): Span[] {
  const spans: Span[] = [];
  // each kind only where its punctuation is there at all: most strings are paths with none of it
  const hasAt = text.includes('@');
  const named = SECRET_NAMED.test(text);
  if (text.includes('://')) for (const match of text.matchAll(URL_WITH_SCHEME)) spans.push(...urlSpans(match[0], match.index));
  if (hasAt && text.includes(':')) {
    for (const match of text.matchAll(BARE_USERINFO)) {
      const password = match[1]!;
      spans.push({ start: match.index + match[0].length - 1 - password.length, end: match.index + match[0].length - 1 });
    }
  }
  if (named && text.includes('-')) {
    for (const match of text.matchAll(SECRET_FLAG_VALUE)) {
      const raw = match[2]!;
      const span = valueSpan(match.index + match[0].length - raw.length, raw);
      if (span) spans.push(span);
    }
  }
  if (named && text.includes('=')) {
    for (const match of text.matchAll(KEY_VALUE)) {
      if (!isSecretEnvKey(match[1]!)) continue;
      const span = valueSpan(match.index + match[0].length, match[2]!);
      if (span) spans.push(span);
    }
  }
  if (named) for (const match of text.matchAll(AUTH_SCHEME)) {
    const value = match[1]!;
    spans.push({ start: match.index + match[0].length - value.length, end: match.index + match[0].length });
  }
  return spans.filter((span) => span.end > span.start && text.slice(span.start, span.end) !== '[masked]');
}

export interface MaskOptions {
  /**
   * false: keep long random-looking runs that match no provider pattern, known value or credential form. For
   * the names a manifest is joined on (inventory paths): content-addressed files (`sha256/dd/<64 hex>.txt`)
   * would all become `[masked].txt`, and two of them in one dir could no longer be told apart.
   */
  randomLooking?: boolean;
}

/**
 * The one masker: every string that leaves the process (findings, evidence, fix commands, problems, install
 * summaries, the snapshot manifest) passes it. Replaces every known secret value, every provider-shaped or
 * random-looking token, and every credential by its place (credentialSpans).
 */
export function maskSecrets(text: string, known: Iterable<string> = [], options: MaskOptions = {}): string {
  const spans: Span[] = [...findSecretSpans(text, options.randomLooking ?? true), ...credentialSpans(text)];
  for (const secret of new Set(known)) {
    if (secret.length < MIN_KNOWN_SECRET_LENGTH) continue;
    for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + secret.length)) {
      spans.push({ start: at, end: at + secret.length });
    }
  }
  let out = '';
  let cursor = 0;
  for (const span of mergeSpans(spans)) {
    out += text.slice(cursor, span.start) + maskFor(text.slice(span.start, span.end));
    cursor = span.end;
  }
  return out + text.slice(cursor);
}

export function maskFor(secret: string): string {
  const pem = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.exec(secret);
  const prefix = pem?.[0] ?? PROVIDER_PREFIXES.find((candidate) => secret.startsWith(candidate));
  // a prefix that is most of the value would give the value away
  return prefix && prefix.length * 2 <= secret.length ? `${prefix}…[masked]` : '[masked]';
}
