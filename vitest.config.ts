import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real processes and real onnxruntime sessions; two cores are what CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
