import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // generous: a run of 100,000 files on a loaded 2-core machine; these are not speed checks
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // End-to-end tests spawn the built program and share the machine's two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
