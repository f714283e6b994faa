import { defineConfig } from 'vitest/config';

/**
 * The one test setup for every package. Real sockets and child processes make tests I/O bound, so
 * timeouts are generous but finite; forks isolate process-level state (signals, env, cwd).
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    env: { TZ: 'UTC' },
  },
});
