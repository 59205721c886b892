// Test runner settings: real servers on loopback, so generous timeouts; files run in parallel, each with its own ports and data.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Apollo loads graphql's CommonJS build; one copy of graphql for everything, or schemas are "from another realm".
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
