import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summariseEnvVarKeys } from '../../src/scan/config-env.js';
import { checkIncludes, realMachinePath } from '../../src/scan/includes.js';

// an image-style ROOTFS: machine paths live under `root`
let root: string;
const STATE = '/home/alice/.resonix';
const CONFIG = `${STATE}/resonix.json`;

function write(machinePath: string, text: string): void {
  const host = path.join(root, machinePath);
  fs.mkdirSync(path.dirname(host), { recursive: true });
  fs.writeFileSync(host, text);
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-includes-'));
  write(CONFIG, '{ $include: ["./channels.json5"] }');
  write(`${STATE}/channels.json5`, '{ channels: { $include: "./nested/telegram.json5" } }');
  write(`${STATE}/nested/telegram.json5`, '// comment\n{ telegram: { enabled: true }, }');
  // a cycle: a → b → a
  write(`${STATE}/cycle-a.json5`, '{ $include: "cycle-b.json5" }');
  write(`${STATE}/cycle-b.json5`, '{ $include: "./cycle-a.json5" }');
  // a symlink inside the dir to a file outside it (absolute target: inside the ROOTFS, not the host)
  write('/srv/shared/common.json5', '{ gateway: { port: 18789 } }');
  fs.symlinkSync('/srv/shared/common.json5', path.join(root, STATE, 'common.json5'));
  // a chain of 11 nested includes
  for (let i = 1; i <= 11; i++) write(`${STATE}/deep/d${i}.json5`, i < 11 ? `{ $include: "d${i + 1}.json5" }` : '{}');
  // unreadable content: not JSON5
  write(`${STATE}/broken.json5`, '{ nope');
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('checkIncludes', () => {
  it('follows nested includes relative to the including file', () => {
    const checks = checkIncludes(root, CONFIG, ['./channels.json5'], '/home/alice');
    expect(checks).toEqual([
      { value: './channels.json5', resolved: `${STATE}/channels.json5`, exists: true, outside: false, cycle: false, from: CONFIG },
      { value: './nested/telegram.json5', resolved: `${STATE}/nested/telegram.json5`, exists: true, outside: false, cycle: false, from: `${STATE}/channels.json5` },
    ]);
  });

  it('reports a missing include and expands ~', () => {
    const [check] = checkIncludes(root, CONFIG, ['~/.resonix/gone.json5'], '/home/alice');
    expect(check).toMatchObject({ resolved: `${STATE}/gone.json5`, exists: false, outside: false, cycle: false });
  });

  it('marks the edge that closes a cycle', () => {
    const checks = checkIncludes(root, CONFIG, ['cycle-a.json5'], '/home/alice');
    expect(checks.map((check) => [check.value, check.cycle])).toEqual([
      ['cycle-a.json5', false],
      ['cycle-b.json5', false],
      ['./cycle-a.json5', true],
    ]);
  });

  it('marks a config that includes itself as a cycle', () => {
    const [check] = checkIncludes(root, CONFIG, ['./resonix.json'], '/home/alice');
    expect(check?.cycle).toBe(true);
  });

  it('sees through a symlink that leaves the config dir', () => {
    const [check] = checkIncludes(root, CONFIG, ['common.json5'], '/home/alice');
    expect(check).toMatchObject({ resolved: `${STATE}/common.json5`, exists: true, outside: true, cycle: false });
    expect(realMachinePath(root, `${STATE}/common.json5`)).toEqual({ ok: true, path: '/srv/shared/common.json5' });
  });

  it('flags a path outside the dir without a symlink', () => {
    const [check] = checkIncludes(root, CONFIG, ['../../../srv/shared/common.json5'], '/home/alice');
    expect(check).toMatchObject({ resolved: '/srv/shared/common.json5', exists: true, outside: true });
  });

  it('stops at depth 10: the 11th level is too deep', () => {
    const checks = checkIncludes(root, CONFIG, ['deep/d1.json5'], '/home/alice');
    expect(checks).toHaveLength(11);
    expect(checks.slice(0, 10).every((check) => !check.tooDeep)).toBe(true);
    expect(checks[10]).toMatchObject({ value: 'd11.json5', tooDeep: true, exists: true });
  });

  it('counts an unparsable include as existing, with nothing nested', () => {
    expect(checkIncludes(root, CONFIG, ['broken.json5'], '/home/alice')).toEqual([
      { value: 'broken.json5', resolved: `${STATE}/broken.json5`, exists: true, outside: false, cycle: false, from: CONFIG },
    ]);
  });

  it('never throws on odd input', () => {
    expect(checkIncludes(path.join(root, 'nowhere'), CONFIG, ['x.json5', 'C:\\Users\\alice\\x.json5'], '/home/alice').map((check) => check.exists)).toEqual([false, false]);
    expect(checkIncludes(root, CONFIG, [], '/home/alice')).toEqual([]);
  });

  it('works live (root /) with real host paths', () => {
    const dir = path.join(root, 'live', 'config');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(root, 'live', 'outside.json5'), '{}');
    fs.writeFileSync(path.join(dir, 'inside.json5'), '{ $include: "./inside.json5" }');
    fs.symlinkSync(path.join(root, 'live', 'outside.json5'), path.join(dir, 'link.json5'));
    const checks = checkIncludes('/', path.join(dir, 'resonix.json'), ['link.json5', 'inside.json5'], '/home/alice');
    expect(checks.map(({ value, exists, outside, cycle }) => ({ value, exists, outside, cycle }))).toEqual([
      { value: 'link.json5', exists: true, outside: true, cycle: false },
      { value: 'inside.json5', exists: true, outside: false, cycle: false },
      { value: './inside.json5', exists: true, outside: false, cycle: true },
    ]);
  });
});

describe('summariseEnvVarKeys', () => {
  it('names env.vars keys and upper-case env keys', () => {
    expect(summariseEnvVarKeys({ env: { vars: { OPENAI_API_KEY: 'sk-x', lower_ok: '1' }, ANTHROPIC_API_KEY: 'a', shellEnv: { enabled: true }, PORT: 1 } })).toEqual([
      'ANTHROPIC_API_KEY',
      'OPENAI_API_KEY',
      'PORT',
      'lower_ok',
    ]);
  });

  it('does not count a variable that only passes itself through', () => {
    expect(summariseEnvVarKeys({ env: { vars: { OPENROUTER_API_KEY: '${OPENROUTER_API_KEY}', B: '${A}' } } })).toEqual(['B']);
  });

  it('is empty without an env section', () => {
    expect(summariseEnvVarKeys(null)).toEqual([]);
    expect(summariseEnvVarKeys({ env: 'x' })).toEqual([]);
    expect(summariseEnvVarKeys([1])).toEqual([]);
  });
});
