import { registerArrayAdamStep } from './adam-array-kernels.js';
import { registerWebGpuAdamStep } from './adam-webgpu.js';

/**
 * Registers FusedAdam's one-kernel step (@thfr/tensor's THFR_ADAM_STEP) for `backend` where it is faster than the
 * element-wise ops: webgpu (copies and one shader per bucket instead of ~17 shaders and a slice per variable) and cpu
 * (one JavaScript pass, 7.5x faster on 18.7 M parameters). Not wasm: its SIMD element-wise ops take 270 ms for those
 * 18.7 M parameters against 600-800 ms for the JavaScript pass (docs/backends.md); registerArrayAdamStep('wasm')
 * is there for who wants the one kernel anyway. What each runtime's initRuntime does for the backend it chose;
 * returns whether it registered one.
 */
export function registerAdamStep(backend: string): boolean {
  if (backend === 'cpu') registerArrayAdamStep(backend);
  else if (backend === 'webgpu') return registerWebGpuAdamStep();
  else return false;
  return true;
}
