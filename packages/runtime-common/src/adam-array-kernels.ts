/**
 * @thfr/tensor's THFR_ADAM_STEP for the cpu and wasm backends: one pass over the bucket on the backend's own buffers
 * where tfjs' element-wise ops took ~17 kernels, each a pass, plus a concat and a split. cpu runs adamStepValues
 * (7.5x faster than the ops); wasm runs the same pass in WebAssembly SIMD on its heap (wasm/adam-step.wat, 3-4x faster
 * than wasm's own SIMD ops, where JavaScript was 2-3x slower than them), or adamStepValues where the engine lacks SIMD.
 * The floats are those of tf.train.adam on these backends, bit for bit. WebGPU's is in adam-webgpu.ts.
 */
import { THFR_ADAM_STEP, adamStepConstants, adamStepGradName, adamStepParamName, adamStepValues, type AdamStepConstants } from '@thfr/tensor';

import { adamStepAttrs, adamStepInputs } from './adam-step-inputs.js';
import { allocate, read, type KernelArgs, type TensorInfo } from './array-kernel-io.js';
import { replaceKernel } from './replace-kernel.js';
import { adamStepWasmBase64 } from './wasm/adam-step-wasm.js';
import { wasmHeapModule } from './wasm-heap-module.js';

interface AdamStepExports {
  adamStep(p: number, g: number, m: number, v: number, newM: number, newV: number, newP: number, n: number, ...constants: number[]): void;
}

/** The SIMD Adam step on `backend`'s heap, or undefined (not tfjs-wasm, no SIMD, a threaded build). */
export function adamStepSimdFor(backend: unknown) {
  return wasmHeapModule<AdamStepExports>(backend, 'adam-step.wat', adamStepWasmBase64);
}

/** The constants in the order of adam-step.wat's parameters. */
function constantArguments(c: AdamStepConstants): number[] {
  return [c.beta1, c.beta2, c.oneMinusBeta1, c.oneMinusBeta2, c.negativeLearningRate, c.epsilon, c.correction1, c.correction2];
}

function adamStep({ inputs, attrs, backend }: KernelArgs): TensorInfo[] {
  const k = THFR_ADAM_STEP;
  const stepAttrs = adamStepAttrs(attrs);
  const { params, grads, m, v, accBeta1, accBeta2, total } = adamStepInputs(inputs, stepAttrs.count);
  // Outputs first: on wasm a growing heap detaches the views of inputs taken before.
  const outputs = allocate(backend, [[total], [total], ...params.map((p) => p.shape)]);
  const [newM, newV, ...newParams] = outputs.arrays();
  const simd = adamStepSimdFor(backend);
  if (simd) {
    const at = (view: Float32Array, what: string) => simd.pointer(view, what);
    const constants = constantArguments(adamStepConstants(read(backend, accBeta1, k, 'accBeta1')[0], read(backend, accBeta2, k, 'accBeta2')[0], stepAttrs));
    const [mIn, vIn] = [at(read(backend, m, k, 'm'), 'm'), at(read(backend, v, k, 'v'), 'v')];
    const [mOut, vOut] = [at(newM, 'newM'), at(newV, 'newV')];
    let offset = 0;
    params.forEach((param, i) => {
      const values = read(backend, param, k, adamStepParamName(i));
      simd.exports.adamStep(
        at(values, adamStepParamName(i)), at(read(backend, grads[i], k, adamStepGradName(i)), adamStepGradName(i)),
        mIn + offset * 4, vIn + offset * 4, mOut + offset * 4, vOut + offset * 4, at(newParams[i], `new ${adamStepParamName(i)}`), values.length, ...constants,
      );
      offset += values.length;
    });
    return outputs.infos();
  }
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
