import { defaultClientConditions, defineConfig } from 'vite';
import { tfjsWasmFiles } from './vite-plugin-tfjs-wasm.js';

// Cross-origin isolation (SharedArrayBuffer) lets tfjs-backend-wasm use threads.
const isolationHeaders = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  // Relative asset URLs: the built app works from any folder of any static server.
  base: './',
  resolve: {
    // In this monorepo the app builds from the workspace packages' TypeScript sources (their 'source'
    // export condition), so it never runs a stale dist/. An app outside the monorepo drops this line.
    conditions: ['source', ...defaultClientConditions],
    dedupe: ['@tensorflow/tfjs-core'],
  },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  plugins: [tfjsWasmFiles()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
