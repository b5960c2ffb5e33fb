// Benchmarks print figures (never timed assertions): npx vitest run --config vitest.bench.config.ts
import { defineConfig } from 'vitest/config';
import { thfrVitestDefaults } from '../../vitest.shared.js';
export default defineConfig(thfrVitestDefaults({ include: ['bench/**/*.bench.ts'], testTimeout: 1_800_000 }));
