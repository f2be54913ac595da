import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_COPIES, SHARED_ORIGINALS } from './helpers/shared.js';

const COPIES = ['schemas/sarif-schema-2.1.0.json', 'rule-catalog.md'];

describe('copies of the shared references', () => {
  for (const name of COPIES) {
    const original = path.join(SHARED_ORIGINALS, name);
    it(`${name} matches ../shared/${name}`, (ctx) => {
      if (!fs.existsSync(original)) ctx.skip(`${original} is not here (a clone outside the team's tree): the committed copy is used as it is`);
      expect(fs.readFileSync(path.join(SHARED_COPIES, name), 'utf8')).toBe(fs.readFileSync(original, 'utf8'));
    });
    it(`${name} is in the checkout`, () => {
      expect(fs.statSync(path.join(SHARED_COPIES, name)).size).toBeGreaterThan(1000);
    });
  }
});
