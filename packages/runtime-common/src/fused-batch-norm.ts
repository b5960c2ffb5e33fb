import { registerBatchNormKernels, type BatchNormKernelOptions } from './batch-norm-kernels.js';
import { registerWebGpuBatchNormKernels } from './batch-norm-webgpu.js';

/**
 * Registers the fused training batch norm for `backend` where thfr has it (cpu, wasm, webgpu): what each runtime's
 * initRuntime does for the backend it chose. Returns whether it did (other backends keep the composed ops).
 */
export function registerFusedBatchNorm(backend: string, options: BatchNormKernelOptions = {}): boolean {
  if (backend === 'cpu' || backend === 'wasm') registerBatchNormKernels(backend, options);
  else if (backend === 'webgpu') registerWebGpuBatchNormKernels();
  else return false;
  return true;
}

