/**
 * @thfr/runtime-web — chooses and initialises the tfjs backend in a browser: WebGPU, WebGL2, wasm with
 * thfr's training kernels, cpu. Imports nothing Node-only.
 */
export { initRuntime } from './init-runtime.js';
export type { WebRuntime, WebRuntimeOptions } from './init-runtime.js';
export {
  checkTrainingSupport,
  assertTrainingSupport,
  describeBackend,
  formatBackendDescription,
  WEB_BACKEND_PRIORITY,
} from '@thfr/runtime-common';
export type { WebBackendName, TrainingSupport, BackendDescription } from '@thfr/runtime-common';
export { softwareRendererIn, probeWebGpuAdapter, probeWebGlRenderer } from './software-gpu.js';
export type { GpuProbe, AdapterLike } from './software-gpu.js';
