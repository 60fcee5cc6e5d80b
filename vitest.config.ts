import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The threads pool segfaults with the native Temporal bridge.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files each run a worker, an API and simulators; two cores cannot take many at once.
    maxWorkers: 2,
  },
});
