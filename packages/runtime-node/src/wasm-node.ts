/**
 * The wasm backend in Node: its .wasm binaries are read from the installed package's dist folder (no
 * network), found with createRequire so that it also works from an esbuild bundle that keeps
 * node_modules beside it. The composed training kernels are registered after the backend's import
 * (importing it registers its own Conv2DBackpropInput, which ours replaces).
 */
// Aliased: bundles (e.g. /work/shared/device/prepare.sh) often add a banner declaring `createRequire`.
import { createRequire as requireFrom } from 'node:module';
import { dirname, join } from 'node:path';
import { registerWasmTrainingKernels } from '@thfr/runtime-common';
import { configureWasmThreads, resolveWasmThreads } from './wasm-threads.js';
import type { WasmPackage } from './wasm-threads.js';

/** The folder (ending in '/') holding tfjs-backend-wasm's .wasm files. */
export function wasmBinaryFolder(): string {
  let packageJson: string;
  try {
    packageJson = requireFrom(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  } catch {
    throw new Error(`@tensorflow/tfjs-backend-wasm is not installed next to ${import.meta.url}`);
  }
  return join(dirname(packageJson), 'dist') + '/';
}

/**
 * Threads the wasm backend uses when neither the option nor THFR_WASM_THREADS says: see docs/backends.md
 * ("wasm threads in Node") for the measurement behind it.
 */
export function defaultWasmThreads(): number {
  return 1;
}

export async function installWasm(options: { wasmPaths?: string; threads?: number }): Promise<Record<string, string | number | boolean>> {
  const threads = resolveWasmThreads(options.threads, defaultWasmThreads());
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  const folder = options.wasmPaths ?? wasmBinaryFolder();
  // Emscripten in Node reads a plain path with fs; a file: URL would be fetched.
  wasm.setWasmPaths(folder.startsWith('file:') ? new URL(folder).pathname : folder);
  configureWasmThreads(wasm, folder, threads);
  registerWasmTrainingKernels();
  return { wasmPaths: folder };
}

/** Threads of the active wasm backend's pool (1 for the single-threaded build). */
export async function wasmThreadsCount(): Promise<number> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as WasmPackage;
  return wasm.getThreadsCount();
}
