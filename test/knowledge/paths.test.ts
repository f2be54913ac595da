import { describe, expect, it } from 'vitest';
import { isInside, isStrictlyInside } from '../../src/knowledge/paths.js';

describe('isInside', () => {
  it('counts a path as inside itself', () => {
    expect(isInside('/a', '/a')).toBe(true);
    expect(isInside('/a/', '/a')).toBe(true);
    expect(isInside('/', '/')).toBe(true);
  });

  it('takes a child named ..x as inside: two dots that start a name are not a step up', () => {
    expect(isInside('/a/..x', '/a')).toBe(true);
    expect(isInside('/a/..', '/a')).toBe(false);
    expect(isInside('/a/...', '/a')).toBe(true);
  });

  it('compares normalised paths, not strings', () => {
    expect(isInside('/a/../b', '/a')).toBe(false);
    expect(isInside('/a/./b', '/a')).toBe(true);
    expect(isInside('/a//b', '/a/')).toBe(true);
    expect(isInside('/a/b/../c', '/a')).toBe(true);
  });

  it('compares whole segments: /ab is not inside /a', () => {
    expect(isInside('/ab', '/a')).toBe(false);
    expect(isInside('/home/alice', '/home/al')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(true);
    expect(isInside('/a', '/a/b')).toBe(false);
  });

  it('puts every absolute path inside /', () => {
    expect(isInside('/etc/passwd', '/')).toBe(true);
  });

  it('compares keys of one tree (relative paths) without the cwd, and never mixes them with absolute paths', () => {
    expect(isInside('home/al/.resonix', 'home/al')).toBe(true);
    expect(isInside('home/al/.resonix', '')).toBe(true);
    expect(isInside('', '')).toBe(true);
    expect(isInside('home/alice', 'home/al')).toBe(false);
    expect(isInside('a/b', '/a')).toBe(false);
    expect(isInside('/a/b', 'a')).toBe(false);
    expect(isInside('x', '/')).toBe(false);
  });
});

describe('isStrictlyInside', () => {
  it('is isInside without the path itself', () => {
    expect(isStrictlyInside('/a', '/a')).toBe(false);
    expect(isStrictlyInside('/a/', '/a')).toBe(false);
    expect(isStrictlyInside('/a/b', '/a')).toBe(true);
    expect(isStrictlyInside('/a/..x', '/a')).toBe(true);
    expect(isStrictlyInside('/a/../b', '/a')).toBe(false);
    expect(isStrictlyInside('/ab', '/a')).toBe(false);
    expect(isStrictlyInside('x', '')).toBe(true);
    expect(isStrictlyInside('', '')).toBe(false);
  });
});
