import { defineConfig } from 'vitest/config';
import { thfrVitestDefaults } from '../../vitest.shared.js';
export default defineConfig(thfrVitestDefaults());
