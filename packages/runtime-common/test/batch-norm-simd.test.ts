import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { batchNormSimdFor, registerBatchNormKernels } from '../src/index.js';

/** Shapes (channels last): whole 4-lane rows, channels repeated to 12 and 20 values, and one the JavaScript loops take. */
const SHAPES: Array<{ shape: number[]; simd: boolean }> = [
  { shape: [2, 8, 8, 256], simd: true },
  { shape: [3, 5, 4, 6], simd: true },
  { shape: [3, 4, 6, 5], simd: true },
  { shape: [4, 3], simd: true },
  { shape: [1, 1, 3, 5], simd: false }, // 15 values: no whole row of lcm(5, 4) = 20
];

type Outputs = Record<string, Float32Array>;

/** One forward and one backward kernel call on fixed values (a large mean, so the shifted moments matter). */
function run(shape: number[], relu: boolean): Outputs {
  const channels = shape[shape.length - 1];
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const x = tf.tensor(Float32Array.from({ length: n }, (_, i) => 40 + Math.sin(i * 1.7) * 3 + (i % channels)), shape);
    const dy = tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.9)), shape);
    const gamma = tf.tensor1d(Float32Array.from({ length: channels }, (_, c) => 0.5 + (c % 7) * 0.3 - (c % 3 === 0 ? 1.5 : 0)));
    const beta = tf.tensor1d(Float32Array.from({ length: channels }, (_, c) => (c % 5) * 0.2 - 0.4));
    const runningMean = tf.zeros([channels]);
    const runningVar = tf.ones([channels]);
    const attrs = { epsilon: 1e-5, momentum: 0.1, relu };
    const [y, stats, newRunningMean, newRunningVar] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN, { x, gamma, beta, runningMean, runningVar }, attrs as never) as tf.Tensor[];
    const [dx, dGamma, dBeta] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN_GRAD, { dy, x, stats, gamma, y }, { epsilon: 1e-5, relu } as never) as tf.Tensor[];
    const out: Outputs = {};
    Object.entries({ y, stats, newRunningMean, newRunningVar, dx, dGamma, dBeta }).forEach(([k, t]) => (out[k] = t.dataSync() as Float32Array));
    return out;
  });
}

/** Counts the SIMD module's pass calls and its scratch allocations while `fn` runs. */
function counting<T>(fn: () => T): { result: T; passes: number; mallocs: number; frees: number } {
  const heap = batchNormSimdFor(tf.backend())!;
  const { exports, malloc, free } = heap;
  let passes = 0;
  let mallocs = 0;
  let frees = 0;
  heap.exports = Object.fromEntries(Object.entries(exports).map(([k, f]) => [k, (...args: number[]) => (passes++, (f as (...a: number[]) => void)(...args))])) as unknown as typeof exports;
  heap.malloc = (bytes) => (mallocs++, malloc(bytes));
  heap.free = (pointer) => (frees++, free(pointer));
  try {
    return { result: fn(), passes, mallocs, frees };
  } finally {
    Object.assign(heap, { exports, malloc, free });
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});
afterAll(() => registerBatchNormKernels('wasm'));

describe('training batch norm in WebAssembly SIMD on the wasm heap', () => {
  it('binds to tfjs-wasm in Node (SIMD engine, unshared heap)', () => {
    expect(batchNormSimdFor(tf.backend())).toBeDefined();
    expect(batchNormSimdFor({})).toBeUndefined();
  });

  for (const { shape, simd } of SHAPES) {
    for (const relu of [false, true]) {
      it(`[${shape}]${relu ? ' + ReLU' : ''}: the JavaScript reference's outputs within 1e-6 of their largest value${simd ? '' : ' (its own loops: no whole SIMD row)'}`, () => {
        registerBatchNormKernels('wasm', { wasmSimd: false });
        const reference = counting(() => run(shape, relu));
        expect(reference.passes).toBe(0);
        registerBatchNormKernels('wasm');
        const fast = counting(() => run(shape, relu));
        expect(fast.passes).toBe(simd ? 4 : 0);
        expect(fast.frees).toBe(fast.mallocs);
        for (const [key, expected] of Object.entries(reference.result)) {
          const { maxRel } = closeness(fast.result[key], expected);
          expect(maxRel, `${key}`).toBeLessThan(1e-6);
        }
        if (relu) {
          // The ReLU closes some outputs, with +0, and masks their gradient.
          const closed = Array.from(fast.result.y).filter((v) => v === 0);
          expect(closed.length).toBeGreaterThan(0);
          expect(closed.every((v) => Object.is(v, 0))).toBe(true);
        }
      });
    }
  }

  it('passes NaN through y and closes it under the ReLU, as the reference does', () => {
    registerBatchNormKernels('wasm');
    const y = tf.tidy(() => {
      const x = tf.tensor2d([[1, 2, 3, 4], [2, 1, 0, 5]]);
      const gamma = tf.tensor1d([1, 1, Number.NaN, 1]);
      const [out] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN, { x, gamma, beta: tf.zeros([4]), runningMean: tf.zeros([4]), runningVar: tf.ones([4]) }, { epsilon: 1e-5, momentum: 0.1, relu: true } as never) as tf.Tensor[];
      return out.dataSync();
    });
    expect(Array.from(y.filter((_, i) => i % 4 === 2))).toEqual([0, 0]);
  });

  it('leaks no tensors and frees its scratch', async () => {
    registerBatchNormKernels('wasm');
    await expectNoLeak(() => run([2, 4, 4, 8], true), 3, 'the SIMD batch norm');
    const { mallocs, frees } = counting(() => run([2, 4, 4, 8], false));
    expect(mallocs).toBe(2);
    expect(frees).toBe(2);
  });
});
