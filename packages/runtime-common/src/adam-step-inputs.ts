/** THFR_ADAM_STEP's inputs and attributes, checked: what every backend's implementation reads first. */
import { tf, THFR_ADAM_STEP, adamStepGradName, adamStepParamName, type AdamStepAttrs } from '@thfr/tensor';

import type { TensorInfo } from './composed-kernel.js';

const sizeOf = (info: TensorInfo): number => tf.util.sizeFromShape(info.shape);

/** The attributes, with `count` checked. */
export function adamStepAttrs(attrs: Record<string, unknown> | undefined): AdamStepAttrs {
  const stepAttrs = attrs as unknown as AdamStepAttrs;
  if (!Number.isInteger(stepAttrs?.count) || stepAttrs.count < 1) throw new Error(`${THFR_ADAM_STEP}: attr 'count' must be a positive integer, got ${stepAttrs?.count}`);
  return stepAttrs;
}

/** The kernel's inputs by role, checked: float32 everywhere, each gradient the size of its parameter, moments [T]. */
export function adamStepInputs(inputs: Record<string, TensorInfo>, count: number) {
  const params = Array.from({ length: count }, (_, i) => inputs[adamStepParamName(i)]);
  const grads = Array.from({ length: count }, (_, i) => inputs[adamStepGradName(i)]);
  const { m, v, accBeta1, accBeta2 } = inputs;
  const named: Array<[string, TensorInfo | undefined]> = [['m', m], ['v', v], ['accBeta1', accBeta1], ['accBeta2', accBeta2],
    ...params.map((p, i) => [adamStepParamName(i), p] as [string, TensorInfo]), ...grads.map((g, i) => [adamStepGradName(i), g] as [string, TensorInfo])];
  for (const [name, info] of named) {
    if (info == null) throw new Error(`${THFR_ADAM_STEP}: input '${name}' is missing (count ${count})`);
    if (info.dtype !== 'float32') throw new Error(`${THFR_ADAM_STEP}: '${name}' must be float32, got ${info.dtype}`);
  }
  const total = params.reduce((a, p) => a + sizeOf(p), 0);
  grads.forEach((g, i) => {
    if (sizeOf(g) !== sizeOf(params[i])) throw new Error(`${THFR_ADAM_STEP}: '${adamStepGradName(i)}' has shape [${g.shape}], expected ${sizeOf(params[i])} values ('${adamStepParamName(i)}' is [${params[i].shape}])`);
  });
  for (const [name, info] of [['m', m], ['v', v]] as const) {
    if (sizeOf(info) !== total) throw new Error(`${THFR_ADAM_STEP}: '${name}' has shape [${info.shape}], expected [${total}] (the parameters' total size)`);
  }
  return { params, grads, m, v, accBeta1, accBeta2, total };
}
