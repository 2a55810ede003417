import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests share the machine's Redis and ports; files run one after another.
    fileParallelism: false,
    pool: 'forks',
  },
});
