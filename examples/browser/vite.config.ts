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
  // onnxruntime-web finds its .wasm with new URL('ort-wasm-simd-threaded.wasm', import.meta.url): the build emits
  // that file as an asset; in dev the URL must stay next to the package's own dist/, so it is not pre-bundled.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: {
    format: 'es',
    // tfjs-backend-wasm starts its pthread workers from the source text of an Emscripten factory
    // (Function.prototype.toString); renaming that factory's closure variables breaks them
    // ("ReferenceError: e is not defined" in a blob: worker), and compressing it makes a guarded
    // reference to an outer variable eager ("_scriptDir is not defined"): the worker bundle only loses
    // its whitespace.
    rolldownOptions: { output: { minify: { mangle: false, compress: false } } },
  },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  plugins: [tfjsWasmFiles()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});
