// The fixed dirs near a home are listed with one readdir, not globby: it must list what globby('*') did.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { globby } from 'globby';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDir } from '../../src/scan/archives.js';

let root: string;

/** What listDir did before: globby with the same options, as machine paths. */
async function viaGlobby(machineDir: string, pattern = '*'): Promise<string[]> {
  const cwd = path.join(root, machineDir);
  if (!fs.existsSync(cwd)) return [];
  const found = await globby(pattern, { cwd, dot: true, onlyFiles: true, followSymbolicLinks: false, suppressErrors: true, gitignore: false });
  return found.map((relative) => path.posix.join(machineDir, relative));
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-archives-list-'));
  const at = (relative: string): string => path.join(root, relative);
  fs.mkdirSync(at('home/alice/Downloads/sub'), { recursive: true });
  const downloads = 'home/alice/Downloads';
  for (const name of ['backup.tgz', '.hidden.tar', 'notes.txt', 'with space.zip', '[x].tar', '*', '?', 'new\nline', '..dots', '\\back', '!bang', '{a,b}', 'é.tgz']) {
    fs.writeFileSync(at(`${downloads}/${name}`), 'x');
  }
  fs.writeFileSync(at(`${downloads}/sub/deep.tgz`), 'x');
  fs.symlinkSync('backup.tgz', at(`${downloads}/link.tgz`));
  fs.symlinkSync('sub', at(`${downloads}/link-dir`));
  fs.symlinkSync('missing', at(`${downloads}/broken`));
  execFileSync('mkfifo', [at(`${downloads}/fifo`)]);
  fs.writeFileSync(Buffer.concat([Buffer.from(at(downloads)), Buffer.from('/bad-'), Buffer.from([0xff]), Buffer.from('.tgz')]), 'x');
  // a dir literally named "*": globby expands it, so listDir hands the listing to globby
  fs.mkdirSync(at('home/alice/Desktop/*'), { recursive: true });
  fs.writeFileSync(at('home/alice/Desktop/*/inner.tgz'), 'x');
  fs.writeFileSync(at('home/alice/Desktop/top.tgz'), 'x');
  // a file where a dir is expected, and a symlink to a dir
  fs.writeFileSync(at('home/alice/backup'), 'not a dir');
  fs.symlinkSync('Downloads', at('home/alice/Documents'));
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('listDir', () => {
  it('lists the plain files of a dir, dot-files and odd names included, as globby did', async () => {
    for (const dir of ['home/alice/Downloads', 'home/alice/Downloads/sub', 'home/alice/Documents', 'home/alice', 'home/alice/Desktop', 'nowhere']) {
      expect((await listDir(root, dir)).sort()).toEqual((await viaGlobby(dir)).sort());
    }
    expect(await listDir(root, 'home/alice/Desktop')).toEqual(await viaGlobby('home/alice/Desktop'));
  });

  it('a backup dir that is a file lists nothing (globby would throw, and the scan exit 2)', async () => {
    await expect(viaGlobby('home/alice/backup')).rejects.toThrow();
    expect(await listDir(root, 'home/alice/backup')).toEqual([]);
  });

  it('still takes globs from the config to globby', async () => {
    expect((await listDir(root, 'home/alice', 'Downloads/**/*.tgz')).sort()).toEqual((await viaGlobby('home/alice', 'Downloads/**/*.tgz')).sort());
  });
});
