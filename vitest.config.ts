// Test runner settings: integration tests start real servers, so give them room and run files one by one
// on these 2-core machines.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // Probes the test Redis (TRUSTGATE_TEST_REDIS_URL) once: a missing one fails the run in seconds.
    globalSetup: ['test/support/global-setup.ts'],
    // In CI a JSON report is kept too, so .ci/run can print a plain "N passed, N failed" closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
});
