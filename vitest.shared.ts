// Shared vitest settings of every package: resolve workspace packages to their TypeScript
// sources (the "source" export condition) so tests never run against a stale build.
import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vitest/config';

const SETUP = fileURLToPath(new URL('./scripts/vitest-setup.ts', import.meta.url));

export function thfrVitestDefaults(overrides: { testTimeout?: number; include?: string[] } = {}): UserConfig {
  return {
    resolve: { conditions: ['source', 'module', 'default'] },
    ssr: { resolve: { conditions: ['source', 'module', 'default'] } },
    test: {
      include: overrides.include ?? ['test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 120_000,
      hookTimeout: 600_000,
      setupFiles: [SETUP],
      pool: 'forks',
      fileParallelism: false,
      // A JSON report per package lets scripts/test-summary.mjs print one total for CI.
      reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
      server: { deps: { external: [/@tensorflow\//, /node_modules/] } },
    },
  } as UserConfig;
}
