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

export async function installWasm(options: { wasmPaths?: string; threads?: number }): Promise<Record<string, string | number | boolean>> {
  if (options.threads != null && options.threads > 1) {
    // tfjs forces WASM_HAS_MULTITHREAD_SUPPORT to false in Node (tfjs issue 3830); see README.
    throw new Error(`threads: ${options.threads} was asked for, but the wasm backend runs single-threaded in Node (see @thfr/runtime-node README)`);
  }
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as { setWasmPaths(prefix: string, usePlatformFetch?: boolean): void };
  const folder = options.wasmPaths ?? wasmBinaryFolder();
  // Emscripten in Node reads a plain path with fs; a file: URL would be fetched.
  wasm.setWasmPaths(folder.startsWith('file:') ? new URL(folder).pathname : folder);
  registerWasmTrainingKernels();
  return { wasmPaths: folder };
}
