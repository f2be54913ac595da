// loadToolConfig skips loading cosmiconfig when none of the files it would read exists: the answer must be
// the one cosmiconfig itself gives, with or without config files, whatever is in package.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadToolConfig } from '../src/config.js';

const known = new Set(['copy/config-only', 'perms/secrets-exposed']);
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-config-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The file cosmiconfig finds for this tool in `dir`, searched as loadToolConfig always did. */
async function cosmiconfigFinds(): Promise<string | undefined> {
  const places = ['package.json', '.resonix-migraterc', '.resonix-migraterc.json', '.resonix-migraterc.yaml', '.resonix-migraterc.yml', '.resonix-migraterc.js', '.resonix-migraterc.mjs', 'resonix-migrate.config.json', 'resonix-migrate.config.js', 'resonix-migrate.config.mjs'];
  const result = await cosmiconfig('resonix-migrate', { searchPlaces: places, stopDir: dir }).search(dir);
  return result?.filepath;
}

describe('loadToolConfig without cosmiconfig when there is nothing to find', () => {
  const cases: [string, Record<string, string>][] = [
    ['an empty dir', {}],
    ['a package.json without our key', { 'package.json': JSON.stringify({ name: 'x', version: '1.0.0' }) }],
    ['a package.json with our key', { 'package.json': JSON.stringify({ name: 'x', 'resonix-migrate': { rules: { 'copy/config-only': 'off' } } }) }],
    ['a package.json with our key set to null', { 'package.json': JSON.stringify({ 'resonix-migrate': null }) }],
    ['an rc file', { '.resonix-migraterc.json': JSON.stringify({ rules: { 'perms/secrets-exposed': 'info' } }) }],
    ['a YAML rc file', { '.resonix-migraterc': 'rules:\n  copy/config-only: warning\n' }],
    ['a package.json that is a JSON array', { 'package.json': '[]' }],
  ];
  for (const [label, files] of cases) {
    it(`answers as cosmiconfig does: ${label}`, async () => {
      for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
      const loaded = await loadToolConfig({ cwd: dir, knownRuleIds: known });
      expect(loaded.filepath).toBe(await cosmiconfigFinds());
    });
  }

  it('still reports a broken package.json, as cosmiconfig does', async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), '{ "name": ');
    await expect(cosmiconfigFinds()).rejects.toThrow();
    await expect(loadToolConfig({ cwd: dir, knownRuleIds: known })).rejects.toThrow("cannot read this tool's config");
  });

  it('reads the rules of a package.json key', async () => {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ 'resonix-migrate': { rules: { 'copy/config-only': 'off' } } }));
    expect((await loadToolConfig({ cwd: dir, knownRuleIds: known })).rules).toEqual({ 'copy/config-only': 'off' });
  });
});
