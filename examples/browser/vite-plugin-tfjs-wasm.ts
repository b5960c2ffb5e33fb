// Serves (dev) and emits (build) tfjs-backend-wasm's .wasm binaries under one folder of the app, so
// initRuntime({ wasmPaths }) can fetch them from the app's own origin.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

export function tfjsWasmFiles(folder = 'tfjs-wasm'): Plugin {
  const require = createRequire(import.meta.url);
  // The package's "main" is dist/tf-backend-wasm.node.js: the .wasm files sit next to it.
  const distDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const files = readdirSync(distDir).filter((name) => name.endsWith('.wasm'));
  if (files.length === 0) throw new Error(`tfjsWasmFiles: no .wasm files in ${distDir}`);
  return {
    name: 'thfr:tfjs-wasm-files',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].match(new RegExp(`/${folder}/([^/]+\\.wasm)$`))?.[1];
        if (!name || !files.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(join(distDir, name)));
      });
    },
    generateBundle() {
      for (const name of files) this.emitFile({ type: 'asset', fileName: `${folder}/${name}`, source: readFileSync(join(distDir, name)) });
    },
  };
}
