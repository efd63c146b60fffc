import { defineConfig } from 'vitest/config'

/**
 * Test tiers:
 * - unit: pure functions, stubbed components, in-memory stream pairs (fast);
 * - integration: real node processes over TCP + Noise on 127.0.0.x (part of `npm test`);
 * - faults: network namespaces, packet loss and partitions (root; `npm run test:faults`);
 * - browser: headless Chromium against a live dashboard (`npm run test:browser`);
 * - models: real packaged models over the mesh, slow on wasm (`npm run test:models`, opt-in).
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 60_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false
        }
      },
      { test: { name: 'faults', include: ['test/faults/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 300_000, fileParallelism: false } },
      { test: { name: 'browser', include: ['test/browser/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      { test: { name: 'models', include: ['test/models/**/*.test.ts'], testTimeout: 900_000, hookTimeout: 300_000, fileParallelism: false } }
    ]
  }
})
