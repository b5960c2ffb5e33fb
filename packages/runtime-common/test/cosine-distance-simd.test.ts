import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD, cosineDistanceGradValues, cosineDistanceValues } from '@thfr/tensor';
import { closeness, expectNoLeak } from '@thfr/tensor/testing';
import { cosineDistanceSimdFor, registerCosineDistanceKernels } from '../src/index.js';

/** Channels-last shapes: SIMD rows of 4 to 262,144 values; 6 channels go to the reference loops. */
const SHAPES: Array<{ shape: number[]; simd: boolean }> = [
  { shape: [2, 8, 8, 256], simd: true },
  { shape: [1, 4, 4, 1024], simd: true },
  { shape: [5, 4], simd: true },
  { shape: [2, 262144], simd: true }, // one cosine per sample over a whole level (RD4AD's flattened loss): blocked sums
  { shape: [2, 3, 6], simd: false },
];

function inputs(shape: number[]): { a: Float32Array; b: Float32Array; dy: Float32Array } {
  const n = shape.reduce((p, q) => p * q, 1);
  const rows = n / shape[shape.length - 1];
  // Features of a ReLU network: non-negative with a large common part, so the cosines sit near 1 as in a normal map.
  const a = Float32Array.from({ length: n }, (_, i) => Math.max(0, 0.8 + Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.3)));
  const b = Float32Array.from({ length: n }, (_, i) => a[i] * (1 + 0.1 * Math.sin(i * 2.1)) + 0.05 * Math.cos(i * 0.7));
  // Row 0 of a is zero: the clamp.
  a.fill(0, 0, shape[shape.length - 1]);
  const dy = Float32Array.from({ length: rows }, (_, r) => Math.cos(r * 0.9));
  return { a, b, dy };
}

/** The kernels' outputs on the active (wasm) backend, and how many times the SIMD module ran. */
function run(shape: number[]): { distance: Float32Array; da: Float32Array; db: Float32Array; passes: number } {
  const heap = cosineDistanceSimdFor(tf.backend())!;
  const { exports } = heap;
  let passes = 0;
  heap.exports = { forward: (...args) => (passes++, exports.forward(...args)), backward: (...args) => (passes++, exports.backward(...args)) };
  try {
    const v = inputs(shape);
    const out = tf.tidy(() => {
      const a = tf.tensor(v.a, shape);
      const b = tf.tensor(v.b, shape);
      const dy = tf.tensor(v.dy, shape.slice(0, -1));
      const distance = tf.engine().runKernel(THFR_COSINE_DISTANCE, { a, b }, { epsilon: 1e-8 } as never) as tf.Tensor;
      const [da, db] = tf.engine().runKernel(THFR_COSINE_DISTANCE_GRAD, { a, b, dy }, { epsilon: 1e-8 } as never) as tf.Tensor[];
      expect(distance.shape).toEqual(shape.slice(0, -1));
      return [distance, da, db].map((t) => t.dataSync() as Float32Array);
    });
    return { distance: out[0], da: out[1], db: out[2], passes };
  } finally {
    heap.exports = exports;
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
});
afterAll(() => registerCosineDistanceKernels('wasm'));

describe('fused cosine distance in WebAssembly SIMD on the wasm heap', () => {
  it('binds to tfjs-wasm in Node and registers only where the backend reads arrays', () => {
    expect(cosineDistanceSimdFor(tf.backend())).toBeDefined();
    expect(cosineDistanceSimdFor({})).toBeUndefined();
    expect(registerCosineDistanceKernels('webgpu')).toEqual([]);
  });

  for (const { shape, simd } of SHAPES) {
    it(`[${shape}]: equals the reference arithmetic (float64 sums)${simd ? '' : ', in the reference loops (channels not a multiple of 4)'}`, () => {
      registerCosineDistanceKernels('wasm');
      const fast = run(shape);
      expect(fast.passes).toBe(simd ? 2 : 0);
      const v = inputs(shape);
      const channels = shape[shape.length - 1];
      const distance = cosineDistanceValues(v.a, v.b, channels, 1e-8);
      const { da, db } = cosineDistanceGradValues(v.a, v.b, v.dy, channels, 1e-8);
      expect(distance[0]).toBe(1); // the zero row
      // The distances near 0 (cosines near 1) keep their absolute accuracy: float32 lane sums lose ~1e-7 of the cosine.
      expect(closeness(fast.distance, distance).maxAbs).toBeLessThan(1e-6);
      // The zero row's gradient is -dy b / eps (~1e8): compare the others among themselves.
      const rest = (x: Float32Array) => x.subarray(channels);
      expect(closeness(rest(fast.da), rest(da)).maxRel).toBeLessThan(1e-5);
      expect(closeness(rest(fast.db), rest(db)).maxRel).toBeLessThan(1e-5);
      expect(closeness(fast.da.subarray(0, channels), da.subarray(0, channels)).maxRel).toBeLessThan(1e-6);
      expect(Array.from(fast.db.subarray(0, channels)).every((x) => x === 0)).toBe(true); // b's gradient is -dy a / eps = 0
    });
  }

  it('names the tensor and what was expected on bad input', () => {
    registerCosineDistanceKernels('wasm');
    const a = tf.zeros([2, 4]);
    const b = tf.zeros([2, 8]);
    const dy = tf.zeros([3]);
    expect(() => tf.engine().runKernel(THFR_COSINE_DISTANCE, { a, b }, { epsilon: 1e-8 } as never)).toThrow(/a \[2, 4\] and b \[2, 8\] must have the same shape/);
    expect(() => tf.engine().runKernel(THFR_COSINE_DISTANCE, { a, b: a }, { epsilon: 0 } as never)).toThrow(/epsilon must be a positive number/);
    expect(() => tf.engine().runKernel(THFR_COSINE_DISTANCE_GRAD, { a, b: a, dy }, { epsilon: 1e-8 } as never)).toThrow(/dy \[3\] must hold one value per position/);
    tf.dispose([a, b, dy]);
  });

  it('leaks no tensors', async () => {
    registerCosineDistanceKernels('wasm');
    await expectNoLeak(() => run([2, 4, 4, 8]), 3, 'the SIMD cosine distance');
  });
});
