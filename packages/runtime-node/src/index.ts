/**
 * @thfr/runtime-node — chooses and initialises the tfjs backend in Node: WebGPU through Dawn,
 * tfjs-node(-gpu) when installed, wasm with thfr's training kernels, cpu.
 */
export { initRuntime } from './init-runtime.js';
export type { NodeRuntime, NodeRuntimeOptions } from './init-runtime.js';
export { installDawnWebGpu } from './webgpu-dawn.js';
export type { DawnAdapter } from './webgpu-dawn.js';
export { wasmBinaryFolder, defaultWasmThreads, wasmThreadsCount } from './wasm-node.js';
export { MAX_WASM_THREADS } from './wasm-threads.js';
export {
  checkTrainingSupport,
  assertTrainingSupport,
  describeBackend,
  formatBackendDescription,
  NODE_BACKEND_PRIORITY,
} from '@thfr/runtime-common';
export type { NodeBackendName, TrainingSupport, BackendDescription } from '@thfr/runtime-common';
