import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests spawn the built program and share the machine's two cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
