import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the default output, plus a list of the skipped tests and why (test/helpers/skip-reasons.ts)
    reporters: ['default', './test/helpers/skip-reasons.ts'],
  },
});
