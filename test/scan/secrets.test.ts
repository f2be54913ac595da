import { describe, expect, it } from 'vitest';
import { SAFE_ENV_KEYS, isSecretEnvKey, looksLikeSecretValue, maskSecrets } from '../../src/knowledge/mask.js';
import { secretArgValues, splitEnvForReport } from '../../src/scan/secrets.js';

// fake but well-formed samples of each provider's format
const SAMPLES = {
  anthropic: 'sk-ant-api03-Xk2P9qLm4Rt7Vw1Zb8Nc5Hd3Jf6Gs0Ya-Qe2Ru5Ti8Oo1Pp4AaSsDd',
  openai: 'sk-proj-4fJ8kLq2Mn7Pr1St5Vw9Xy3Zb6Cd0Ef',
  openrouter: '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',
  github: 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z',
  githubOauth: 'gho_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3',
  githubPat: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123',
  slackBot: 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp',
  slackUser: 'xoxp-1234567890-0987654321-AbCdEfGhIjKlMnOp',
  google: 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
  gitlab: 'glpat-aB3dE5fG7hJ9kL1mN3pQ',
  telegram: '123456789:AAHfA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl',
  hexToken: '3f9a1c0b7e2d4f6a8b1c3e5d7f9a0b2c4d6e8f0a1b3c5d7e',
  base64Token: 'Qm9yZWQ1MjNYaGVsbG9Xb3JsZDk4N3Rva2VuQUJD',
  pem: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----',
};

const REFERENCE_PATH = '/home/alice/.nvm/versions/node/v22.19.0/bin:/home/alice/.local/bin:/usr/local/bin:/usr/bin:/bin';

describe('isSecretEnvKey', () => {
  it.each([
    'RESONIX_GATEWAY_TOKEN',
    'TELEGRAM_BOT_TOKEN',
    'OPENROUTER_API_KEY',
    'anthropic_api_key',
    'OPENAI_APIKEY',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'DB_PASSWORD',
    'SMTP_PASSWD',
    'DB_PASS',
    'GIT_CREDENTIALS',
    'SSH_PRIVATE_KEY',
    'ANTHROPIC_KEY',
    'KEY',
  ])('%s is secret', (name) => expect(isSecretEnvKey(name)).toBe(true));

  it.each([
    'PATH',
    'HOME',
    'RESONIX_GATEWAY_PORT',
    'RESONIX_STATE_DIR',
    'RESONIX_CONFIG_PATH',
    'NODE_OPTIONS',
    'PWD',
    'SSH_AUTH_SOCK',
    'TOKENIZERS_PARALLELISM',
    'TELEGRAM_TOKEN_FILE',
    'SECRETS_DIR',
    'SIGNING_PUBLIC_KEY',
    'KEYBOARD',
  ])('%s is not secret', (name) => expect(isSecretEnvKey(name)).toBe(false));

  it('keeps NODE_OPTIONS out of the safe set', () => {
    expect(SAFE_ENV_KEYS.has('NODE_OPTIONS')).toBe(false);
    expect(SAFE_ENV_KEYS.has('RESONIX_STATE_DIR')).toBe(true);
  });
});

describe('looksLikeSecretValue', () => {
  it.each(Object.entries(SAMPLES))('%s', (_, value) => {
    expect(looksLikeSecretValue(value)).toBe(true);
    expect(looksLikeSecretValue(`Bearer ${value} trailing`)).toBe(true);
  });

  it.each([
    REFERENCE_PATH,
    '/home/alice/.nvm/versions/node/v22.19.0/lib/node_modules/resonix/dist/index.js',
    '/nix/store/0c2qhm5zkrkqg6xv3v3m9mj5b4q0gfwy-nodejs-22.19.0/bin/node',
    '/Users/alice/Library/Application Support/Resonix/agent-main',
    '/opt/sk-learn-models-2024-final/bin',
    'Resonix Gateway',
    '18789',
    '123e4567-e89b-12d3-a456-426614174000',
    'resonix-gateway.service',
    'ai.resonix.gateway',
    '2026.5.28',
    '',
  ])('%s is not', (value) => expect(looksLikeSecretValue(value)).toBe(false));
});

describe('maskSecrets', () => {
  it('masks pattern matches keeping only the provider prefix', () => {
    const text = `key=${SAMPLES.anthropic} gh=${SAMPLES.github} tg=${SAMPLES.telegram} aws=${SAMPLES.aws}`;
    expect(maskSecrets(text, [])).toBe('key=sk-ant-…[masked] gh=ghp_…[masked] tg=[masked] aws=AKIA…[masked]');
  });

  it('masks known values wherever they appear, but not short ones', () => {
    const text = 'node index.js --token hunter2hunter2 --mode abc --x=hunter2hunter2';
    expect(maskSecrets(text, ['hunter2hunter2', 'abc'])).toBe('node index.js --token [masked] --mode abc --x=[masked]');
  });

  it('masks a whole PEM block', () => {
    const masked = maskSecrets(`before\n${SAMPLES.pem}\nafter`, []);
    expect(masked).toBe('before\n-----BEGIN OPENSSH PRIVATE KEY-----…[masked]\nafter');
  });

  it('leaves no secret body behind', () => {
    const all = Object.values(SAMPLES).join(' | ');
    const masked = maskSecrets(all, []);
    for (const value of Object.values(SAMPLES)) {
      const middle = Math.floor(value.length / 2);
      expect(masked).not.toContain(value.slice(middle, middle + 10));
    }
  });

  it('leaves ordinary text alone', () => {
    const text = `ExecStart=/usr/bin/node /opt/resonix/dist/index.js gateway --port 18789 PATH=${REFERENCE_PATH}`;
    expect(maskSecrets(text, [])).toBe(text);
  });

  it('merges overlapping known values and patterns', () => {
    const token = SAMPLES.openai;
    expect(maskSecrets(`a ${token} b`, [token.slice(4, 20), token])).toBe('a sk-proj-…[masked] b');
    expect(maskSecrets(`id=${token.slice(4, 20)}`, [token.slice(4, 20)])).toBe('id=[masked]');
  });
});

describe('secretArgValues', () => {
  it('finds values of secret flags and env assignments on a command line', () => {
    expect(
      secretArgValues([
        '/usr/bin/env',
        'RESONIX_GATEWAY_TOKEN=tok-value-1',
        '/usr/bin/node',
        'index.js',
        '--token',
        'tok-value-2',
        '--api-key=tok-value-3',
        '--tls-key',
        '/etc/resonix/key.pem',
        '--port',
        '18789',
      ]),
    ).toEqual(['tok-value-1', 'tok-value-2', 'tok-value-3']);
  });
});

describe('splitEnvForReport', () => {
  it('keeps safe values, lists every key, and hands secret values to the caller only', () => {
    const report = splitEnvForReport({
      HOME: '/home/alice',
      PATH: REFERENCE_PATH,
      RESONIX_STATE_DIR: '/home/alice/.resonix-work',
      RESONIX_GATEWAY_TOKEN: SAMPLES.hexToken,
      NODE_OPTIONS: '--max-old-space-size=4096',
      CUSTOM_FLAG: '1',
      OPENAI_API_KEY: '',
      RESONIX_PROFILE: SAMPLES.github,
    });
    expect(report).toEqual({
      env: { HOME: '/home/alice', PATH: REFERENCE_PATH, RESONIX_STATE_DIR: '/home/alice/.resonix-work' },
      envKeys: ['CUSTOM_FLAG', 'HOME', 'NODE_OPTIONS', 'OPENAI_API_KEY', 'PATH', 'RESONIX_GATEWAY_TOKEN', 'RESONIX_PROFILE', 'RESONIX_STATE_DIR'],
      secretEnvKeys: ['RESONIX_GATEWAY_TOKEN', 'RESONIX_PROFILE'],
      secretValues: [SAMPLES.hexToken, SAMPLES.github],
    });
  });
});

describe('maskSecrets: credentials by where they stand', () => {
  it.each([
    ['wss://gw.example.net:18789/#token=CANARYfragtok123', 'wss://gw.example.net:18789/#token=[masked]'],
    ['wss://gw.example.net/path?token=CANARYquery123&x=1', 'wss://gw.example.net/path?token=[masked]&x=[masked]'],
    ['wss://gw.example.net/#CANARYbarefrag1', 'wss://gw.example.net/#[masked]'],
    ['wss://admin:CAN/ARYpw@gw.example.net:18789', 'wss://admin:[masked]@gw.example.net:18789'],
    ['https://TOKENabcdef0123@github.com/x', 'https://[masked]@github.com/x'],
    ['admin:CANARYpw9@gw.example.net:18789', 'admin:[masked]@gw.example.net:18789'],
    ['url = admin:CAN/ARY@pw9@gw.example.net:18789 ok', 'url = admin:[masked]@gw.example.net:18789 ok'],
    ['/usr/bin/mcp --pass CANARYpassX1 --port 8080', '/usr/bin/mcp --pass [masked] --port 8080'],
    ['mcp --password="CANARY pw" --gateway-token=CANARYtok1 --api-key CANARYkey1', 'mcp --password="[masked]" --gateway-token=[masked] --api-key [masked]'],
    ['Environment=RESONIX_GATEWAY_TOKEN=CANARYenv1', 'Environment=RESONIX_GATEWAY_TOKEN=[masked]'],
    ['curl -H "Authorization: Bearer CANARYbearer1"', 'curl -H "Authorization: Bearer [masked]"'],
  ])('%s', (text, masked) => expect(maskSecrets(text)).toBe(masked));

  it.each([
    'https://registry.npmjs.org/@scope/pkg',
    'https://host.example:443/path/x@y',
    'ssh://git@github.com/org/repo.git',
    'git@github.com:org/repo.git',
    'ExecStart=/usr/bin/node /opt/resonix/dist/index.js gateway --port 18789 --tls-key /etc/resonix/key.pem',
    'alice@example.com wrote /home/alice/node_modules/@scope/pkg',
    '--token-file /run/secrets/token',
  ])('%s is left alone', (text) => expect(maskSecrets(text)).toBe(text));

  it('costs linear time on long hostile strings', () => {
    const hostile = ['a:b@', 'x=', '--token ', 'wss://', 'admin:'].map((unit) => unit.repeat(40_000));
    const started = Date.now();
    for (const text of hostile) maskSecrets(text);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('provider patterns from the secretlint recommended preset', () => {
  it.each([
    ['npm', 'npm_abcdefghijklmnopqrstuvwxyz0123456789', 'npm_…[masked]'],
    ['sendgrid', 'SG.abcdefghijklmnopqrst.abcdefghijklmnopqrstuvwxyz01234', 'SG.…[masked]'],
    ['hugging face', 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH', 'hf_…[masked]'],
    ['groq', `gsk_${'a1'.repeat(26)}`, 'gsk_…[masked]'],
    ['docker', 'dckr_pat_abcdefghijklmnopqrstuvwxyz0', 'dckr_pat_…[masked]'],
    ['slack webhook', 'https://hooks.slack.com/services/T0001/B0001/abcdefABCDEF', '[masked]'],
  ])('%s', (_, value, masked) => expect(maskSecrets(`x ${value} y`)).toBe(`x ${masked} y`));
});
