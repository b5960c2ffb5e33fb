/**
 * @thfr/tensor's THFR_ADAM_STEP for the cpu and wasm backends: adamStepValues on the backend's own buffers (one pass
 * over the bucket where tfjs' element-wise ops took ~17 kernels, each a pass, plus a concat and a split). The floats are
 * those of tf.train.adam on these backends (see adamStepValues). On cpu it is 7.5x faster than the ops; on wasm 2-3x
 * slower than wasm's SIMD ops, so registerAdamStep (initRuntime) leaves wasm out. WebGPU's is in adam-webgpu.ts.
 */
import { THFR_ADAM_STEP, adamStepGradName, adamStepParamName, adamStepValues } from '@thfr/tensor';

import { adamStepAttrs, adamStepInputs } from './adam-step-inputs.js';
import { allocate, read, type KernelArgs, type TensorInfo } from './array-kernel-io.js';
import { replaceKernel } from './replace-kernel.js';

function adamStep({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
  const k = THFR_ADAM_STEP;
  const stepAttrs = adamStepAttrs(attrs);
  const { params, grads, m, v, accBeta1, accBeta2, total } = adamStepInputs(inputs, stepAttrs.count);
  // Outputs first: on wasm a growing heap detaches the views of inputs taken before.
  const outputs = allocate(backend, [[total], [total], ...params.map((p) => p.shape)]);
  const [newM, newV, ...newParams] = outputs.arrays();
  adamStepValues(
    params.map((p, i) => read(backend, p, k, adamStepParamName(i))), grads.map((g, i) => read(backend, g, k, adamStepGradName(i))),
    read(backend, m, k, 'm'), read(backend, v, k, 'v'), read(backend, accBeta1, k, 'accBeta1')[0], read(backend, accBeta2, k, 'accBeta2')[0],
    stepAttrs, { newM, newV, newParams },
  );
  return outputs.infos();
}

/** Backends whose buffers this kernel reads in place. */
export const ARRAY_ADAM_STEP_BACKENDS = ['cpu', 'wasm'] as const;

/** Registers THFR_ADAM_STEP for `backendName` ('cpu' or 'wasm'; idempotent). @thfr/nn's FusedAdam uses it when present. */
export function registerArrayAdamStep(backendName: (typeof ARRAY_ADAM_STEP_BACKENDS)[number]): void {
  if (!(ARRAY_ADAM_STEP_BACKENDS as readonly string[]).includes(backendName)) {
    throw new Error(`registerArrayAdamStep: '${backendName}' is not one of ${ARRAY_ADAM_STEP_BACKENDS.join(', ')} (webgpu: registerWebGpuAdamStep)`);
  }
  replaceKernel(THFR_ADAM_STEP, backendName, adamStep);
}
