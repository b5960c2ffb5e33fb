// `npx vitest run --config vitest.bench.config.ts`: the browser speed benchmark (bench/), not part of `pnpm test`.
import { defineConfig } from 'vitest/config';
import { thfrVitestDefaults } from '../../vitest.shared.js';
export default defineConfig(thfrVitestDefaults({ include: ['bench/**/*.bench.ts'], testTimeout: 1_800_000 }));
