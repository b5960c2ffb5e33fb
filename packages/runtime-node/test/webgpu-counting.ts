/**
 * Counters for the webgpu tests: compute shaders dispatched (at the WebGPU API, which tfjs' programs and thfr's
 * multi-output kernels both go through), thfr GEMM programs run (at the backend's runWebGPUProgram), and one fused
 * batch-norm training step (forward and backward kernels) on seeded inputs.
 */
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD, type Tensor } from '@thfr/tensor';
import { seededUniform, seedOf } from './op-suite.js';

/** Compute shaders dispatched while `fn` runs (and its results are read), counted at the WebGPU API. */
export async function countShaders(fn: () => Tensor[]): Promise<{ count: number; outputs: Float32Array[] }> {
  const proto = (globalThis as { GPUComputePassEncoder?: { prototype: { dispatchWorkgroups: (...args: unknown[]) => void } } }).GPUComputePassEncoder!.prototype;
  const original = proto.dispatchWorkgroups;
  let count = 0;
  proto.dispatchWorkgroups = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  try {
    const out = fn();
    const outputs = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(out);
    return { count, outputs };
  } finally {
    proto.dispatchWorkgroups = original;
  }
}

/** GEMM programs run on webgpu so far (counted at the backend's runWebGPUProgram, by shader key). */
export let gemmRuns = 0;
const counted = new WeakSet<object>();
export function countGemmRuns(): void {
  const backend = tf.findBackend('webgpu') as unknown as { runWebGPUProgram: (program: { shaderKey: string }, ...rest: unknown[]) => unknown };
  if (counted.has(backend)) return;
  counted.add(backend);
  const original = backend.runWebGPUProgram.bind(backend);
  backend.runWebGPUProgram = (program, ...rest) => {
    if (program.shaderKey.startsWith('thfrGemm')) gemmRuns++;
    return original(program, ...rest);
  };
}

/** A tensor of seeded uniform values (op-suite's seededUniform, seeded by `name`). */
export const seededInput = (name: string, shape: number[]) => tf.tensor(seededUniform(seedOf(name), shape.reduce((a, b) => a * b, 1)), shape);

/** seededInput times `scale`. */
export const seededTensor = (name: string, shape: number[], scale = 1) => tf.tidy(() => tf.mul(seededInput(name, shape), scale));

/** The fused batch norm's forward and backward kernels on seeded inputs of `shape` ([N, H, W, C]): their 7 outputs. */
export function batchNormForwardBackward(shape: number[], relu: boolean): Tensor[] {
  const channels = shape[3];
  const x = seededTensor('bn/x', shape, 3);
  const input = tf.add(x, 1.5);
  const gamma = seededTensor('bn/gamma', [channels]);
  const beta = seededTensor('bn/beta', [channels]);
  const runningMean = seededTensor('bn/mean', [channels]);
  const runningVar = tf.tidy(() => tf.add(seededTensor('bn/var', [channels]), 1));
  const dy = seededTensor('bn/dy', shape);
  const attrs = { epsilon: 1e-5, momentum: 0.1, relu };
  const forward = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN, { x: input, gamma, beta, runningMean, runningVar }, attrs) as Tensor[];
  const backward = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN_GRAD, { dy, x: input, stats: forward[1], gamma, y: forward[0] }, attrs) as Tensor[];
  tf.dispose([x, input, gamma, beta, runningMean, runningVar, dy]);
  return [...forward, ...backward];
}
