import { tf } from '@thfr/tensor';
import { adamStepSimdFor, registerArrayAdamStep } from './adam-array-kernels.js';
import { registerWebGpuAdamStep } from './adam-webgpu.js';

export interface AdamStepOptions {
  /** wasm: register the step where it runs in WebAssembly SIMD on the heap (else wasm keeps tfjs' ops). Default true. */
  wasmSimd?: boolean;
}

/**
 * Registers FusedAdam's one-kernel step (@thfr/tensor's THFR_ADAM_STEP) for `backend` where it is faster than the
 * element-wise ops: webgpu (copies and one shader per bucket instead of ~17 shaders and a slice per variable), cpu
 * (one JavaScript pass, 7.5x faster on 18.7 M parameters) and wasm where its SIMD pass binds to the heap (19.5 M
 * parameters: ~70 ms against 270 ms for wasm's SIMD ops; a JavaScript pass took 600-800 ms, so without SIMD wasm keeps
 * the ops). What each runtime's initRuntime does for the backend it chose; returns whether it registered one.
 */
export function registerAdamStep(backend: string, options: AdamStepOptions = {}): boolean {
  if (backend === 'cpu') registerArrayAdamStep(backend);
  else if (backend === 'webgpu') return registerWebGpuAdamStep();
  else if (backend === 'wasm' && (options.wasmSimd ?? true) && adamStepSimdFor(tf.findBackend('wasm'))) registerArrayAdamStep(backend);
  else return false;
  return true;
}
