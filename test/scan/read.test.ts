import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dirEntries, readTextCapped } from '../../src/scan/read.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-read-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, bytes: Buffer): string => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};

describe('readTextCapped', () => {
  it('decodes ASCII, UTF-8 and invalid UTF-8 exactly as toString("utf8") does', () => {
    const samples = {
      ascii: Buffer.from('{"a":"plain ascii ~\\u0001"}\n'),
      utf8: Buffer.from('{"name":"Zoë 🦊 — ünïcode"}\n'),
      invalid: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0xc3, 0x22, 0x7d]),
      high: Buffer.from([0x41, 0x80, 0x42]),
    };
    for (const [name, bytes] of Object.entries(samples)) {
      const read = readTextCapped(write(name, bytes), 1024);
      expect(read, name).toEqual({ ok: true, text: bytes.toString('utf8'), size: bytes.length });
    }
  });

  it('refuses NUL bytes, files over the cap, FIFOs and symlinks', () => {
    expect(readTextCapped(write('nul', Buffer.from([0x7b, 0, 0x7d])), 1024)).toMatchObject({ ok: false, reason: 'binary content (NUL bytes)' });
    expect(readTextCapped(write('big', Buffer.alloc(2048, 0x61)), 1024)).toMatchObject({ ok: false, reason: expect.stringMatching(/^too large/) });
    const fifo = path.join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(readTextCapped(fifo, 1024)).toMatchObject({ ok: false, reason: 'not a regular file (FIFO)' });
    fs.symlinkSync('big', path.join(dir, 'link'));
    expect(readTextCapped(path.join(dir, 'link'), 1024)).toMatchObject({ ok: false, reason: 'not a regular file (symlink)' });
  });
});

describe('dirEntries', () => {
  it('keeps what it is asked to, looks at no more than its budget, and says when it stopped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rxm-direntries-'));
    try {
      for (let index = 0; index < 50; index++) fs.writeFileSync(path.join(dir, `f${index}`), '');
      fs.mkdirSync(path.join(dir, '.resonix'));
      const all = dirEntries(dir, (entry) => entry.isDirectory(), 1000);
      expect(all).toMatchObject({ cut: false });
      expect(all.kept.map((entry) => entry.name)).toEqual(['.resonix']);
      const cut = dirEntries(dir, () => true, 10);
      expect(cut.cut).toBe(true);
      expect(cut.kept).toHaveLength(10);
      expect(() => dirEntries(path.join(dir, 'missing'), () => true, 10)).toThrow(/ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
