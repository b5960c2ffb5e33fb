/**
 * tfjs-backend-wasm's threaded SIMD build in Node.
 *
 * tfjs 4.22 turns it off in Node (flag WASM_HAS_MULTITHREAD_SUPPORT is false when IS_NODE, tfjs issue 3830)
 * and would not work if the flag were simply set: its init() hands Emscripten the pthread worker script and
 * the main script as Blob URLs (URL.createObjectURL), which Node's worker_threads cannot start. This module
 * builds the same Emscripten module itself:
 * - the worker script (`wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`, exported as a string) is written
 *   to a file (a `.cjs` in the OS temp folder, named by its content hash) and returned by `locateFile`;
 * - the main script given to each worker (`mainScriptUrlOrBlob`) is the package's own
 *   `wasm-out/tfjs-backend-wasm-threaded-simd.js`, a plain path the worker reads with fs;
 * - tfjs caps the thread pool at `emscripten_num_logical_cores() / 2` (that is `os.cpus().length / 2` in
 *   Node), read once by a C++ static initialiser; `os.cpus` is made to report 2 x threads while the module
 *   instantiates, so the pool gets the count asked for (at most 8: tfjs's own upper bound).
 * Then a `wasm` backend factory is registered that wraps this module in tfjs' own `BackendWasm`, so every
 * wasm kernel (and thfr's training kernels, registered by name) works unchanged.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire as requireFrom } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { tf } from '@thfr/tensor';

/** tfjs' C++ side clamps the pool to [1, 8] threads (8 pthread workers are created up front). */
export const MAX_WASM_THREADS = 8;

/** The exports of @tensorflow/tfjs-backend-wasm used here. */
export interface WasmPackage {
  BackendWasm: new (module: unknown) => unknown;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
  setWasmPaths(prefix: string, usePlatformFetch?: boolean): void;
}

type EmscriptenModule = {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => unknown;
  tfjs?: Record<string, unknown>;
};
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

interface Installed {
  threads: number;
  /** The factory tfjs registered itself (single-threaded build), to put back. */
  original: () => unknown;
}
let installed: Installed | undefined;

function packageFolder(): string {
  return dirname(requireFrom(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** Writes the pthread worker script to a file once per content (atomic: write then rename) and returns its path. */
function workerScriptFile(pkg: string): string {
  const { wasmWorkerContents } = requireFrom(import.meta.url)(join(pkg, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The script is one line: its only newlines are escapes ("\n") turned into newlines by the template
  // literal it is exported in; tfjs undoes that the same way before making its Blob.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = join(os.tmpdir(), `thfr-tfjs-wasm-${hash}.worker.cjs`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== source) {
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, file);
  }
  return file;
}

/** Instantiates the threaded SIMD module with a pool of `threads` threads. */
async function instantiateThreaded(pkg: string, wasmFolder: string, threads: number): Promise<EmscriptenModule> {
  const mainScript = join(pkg, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const factory = requireFrom(import.meta.url)(mainScript) as Factory;
  const worker = workerScriptFile(pkg);
  const folder = wasmFolder.startsWith('file:') ? new URL(wasmFolder).pathname : wasmFolder;
  const mutableOs = os as { cpus: () => os.CpuInfo[] };
  const cpus = mutableOs.cpus;
  // See the header: the pool size is min(asked, cores / 2), with cores read while the module starts.
  mutableOs.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(real.length, 1)]);
  };
  try {
    return await factory({
      locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : join(folder, 'tfjs-backend-wasm-threaded-simd.wasm')),
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    mutableOs.cpus = cpus;
  }
}

/** The same bridge tfjs' init() adds to its module. */
function addBridge(module: EmscriptenModule): EmscriptenModule {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** tfjs' priority for the wasm backend (base.ts). */
const WASM_PRIORITY = 2;

/**
 * Makes the registered `wasm` backend use `threads` threads: > 1 registers the threaded SIMD build
 * (see the header), 1 puts tfjs' own single-threaded factory back. A backend already created under the
 * name `wasm` with another thread count is disposed (its tensors with it).
 */
export function configureWasmThreads(wasm: WasmPackage, wasmFolder: string, threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`wasm threads must be a whole number >= 1, got ${threads}`);
  const count = Math.min(threads, MAX_WASM_THREADS);
  const current = installed?.threads ?? 1;
  if (count === current) return;
  const factory = tf.findBackendFactory('wasm');
  if (!factory) throw new Error('@tensorflow/tfjs-backend-wasm registered no "wasm" backend');
  const original = installed?.original ?? factory;
  tf.removeBackend('wasm');
  if (count === 1) {
    tf.registerBackend('wasm', original as never, WASM_PRIORITY);
    installed = undefined;
    return;
  }
  const pkg = packageFolder();
  tf.registerBackend(
    'wasm',
    async () => {
      const module = addBridge(await instantiateThreaded(pkg, wasmFolder, count));
      wasm.setThreadsCount(count);
      return new wasm.BackendWasm(module) as never;
    },
    WASM_PRIORITY,
  );
  installed = { threads: count, original };
}

/** Threads asked for the wasm backend: option, else env THFR_WASM_THREADS, else the default. */
export function resolveWasmThreads(option: number | undefined, fallback: number): number {
  if (option != null) return option;
  const env = process.env.THFR_WASM_THREADS;
  if (env == null || env === '') return fallback;
  if (env === 'auto') return fallback;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) throw new Error(`THFR_WASM_THREADS=${env}: expected a whole number >= 1 or "auto"`);
  return n;
}
