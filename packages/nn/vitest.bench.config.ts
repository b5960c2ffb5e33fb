// Benchmarks (bench/*.bench.ts): they print figures and assert nothing timing-related.
// Run: npx vitest run --config vitest.bench.config.ts [bench/<file>]
import { defineConfig } from 'vitest/config';
import { thfrVitestDefaults } from '../../vitest.shared.js';
export default defineConfig(thfrVitestDefaults({ include: ['bench/**/*.bench.ts'], testTimeout: 3_600_000 }));
