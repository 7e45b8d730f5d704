import { defineConfig } from 'vitest/config';

// Tests start real servers (MariaDB, moto) per file, so files run in separate forks and
// get generous timeouts; nothing asserts wall-clock time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/support/setup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_REGION: 'us-east-1' },
  },
});
