import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { WASM_BROADCAST_KERNELS, registerWasmBroadcastKernels } from '../src/index.js';

/** Shape pairs that take tfjs' slow generic loop (and two that it handles already: equal shapes, a scalar). */
const SHAPES: Array<[number[], number[]]> = [
  [[2, 3, 4, 5], [2, 1, 1, 5]], // kept-dims reduction against its input: the max gradient's case
  [[2, 1, 1, 5], [2, 3, 4, 5]], // the small one first
  [[3, 1], [1, 4]], // both expand
  [[5], [2, 3, 5]], // ranks differ
  [[4, 6], [4, 6]],
  [[4, 6], []],
];

/** Values with ties, signed zeros, infinities and NaN, so that every comparison and min/max case occurs. */
function values(shape: number[], seed: number): tf.Tensor {
  const special = [0, -0, 1, -1, 2, 0.5, Infinity, -Infinity, NaN, 3, -2.5, 1];
  const n = tf.util.sizeFromShape(shape);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => special[(i * 7 + seed * 5) % special.length]), shape);
}

const ops: Record<(typeof WASM_BROADCAST_KERNELS)[number], (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  Equal: tf.equal, NotEqual: tf.notEqual, Greater: tf.greater, GreaterEqual: tf.greaterEqual, Less: tf.less, LessEqual: tf.lessEqual,
  Maximum: tf.maximum, Minimum: tf.minimum, Pow: tf.pow, Mod: tf.mod, FloorDiv: tf.floorDiv, Atan2: tf.atan2,
};

/** Every kernel on every shape pair, as plain arrays. */
function runAll(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [name, op] of Object.entries(ops)) {
    SHAPES.forEach(([sa, sb], k) => {
      const result = tf.tidy(() => op(values(sa, k), values(sb, k + 1)));
      expect(result.shape, `${name} ${k}`).toEqual(tf.backend_util.assertAndGetBroadcastShape(sa, sb));
      out.set(`${name} [${sa}] vs [${sb}]`, Array.from(result.dataSync()));
      result.dispose();
    });
  }
  // tf.max's gradient: Equal against the kept-dims maximum, cast, multiplied by dy.
  const x = tf.tensor4d(Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => (i * 37) % 11), [2, 3, 4, 5]);
  const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.max(t, [1, 2], true), tf.reshape(tf.range(1, 11), [2, 1, 1, 5]))))(x);
  out.set('max gradient', Array.from(grad.dataSync()));
  tf.dispose([x, grad]);
  return out;
}

let before: Map<string, number[]>;

beforeAll(async () => {
  await tf.setBackend('wasm');
  before = runAll();
  expect(registerWasmBroadcastKernels()).toEqual([...WASM_BROADCAST_KERNELS]);
});

describe('wasm broadcasting binary kernels', () => {
  it("give tfjs' own results bit for bit (NaN, signed zeros, infinities and ties included)", () => {
    const after = runAll();
    for (const [what, expected] of before) {
      const got = after.get(what)!;
      expect(got.length, what).toBe(expected.length);
      got.forEach((v, i) => expect(Object.is(v, expected[i]), `${what}[${i}]: ${v} vs ${expected[i]}`).toBe(true));
    }
    // The max gradient is not trivial: ties share the gradient, as in tfjs.
    expect(before.get('max gradient')!.filter((v) => v !== 0).length).toBeGreaterThan(10);
  });

  it('expands broadcast float32 operands once (one nested Multiply), also after registering twice; nothing else', async () => {
    const multiplies = async (f: () => tf.Tensor) => (await tf.profile(() => tf.dispose(f()))).kernels.filter((k) => k.name === 'Multiply').length;
    const a = values([2, 3, 4, 5], 0);
    const b = values([2, 1, 1, 5], 1);
    const i = tf.tensor2d([[1, 5], [3, 3]], [2, 2], 'int32');
    const j = tf.tensor2d([[3], [3]], [2, 1], 'int32');
    expect(await multiplies(() => tf.equal(a, b))).toBe(1);
    expect(await multiplies(() => tf.maximum(b, tf.reshape(a, [2, 3, 4, 5])))).toBe(1);
    registerWasmBroadcastKernels();
    expect(await multiplies(() => tf.greater(a, b))).toBe(1);
    expect(await multiplies(() => tf.equal(a, a))).toBe(0);
    expect(await multiplies(() => tf.equal(a, tf.scalar(1)))).toBe(0);
    expect(await multiplies(() => tf.equal(i, j))).toBe(0);
    tf.dispose([a, b, i, j]);
  });

  it('repeated calls leak no tensors or buffers', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const a = values([2, 3, 4, 5], 0);
    const b = values([2, 1, 1, 5], 1);
    tf.dispose(tf.equal(a, b));
    const tensors = tf.memory().numTensors;
    const ids = backend.numDataIds();
    for (let i = 0; i < 3; i++) tf.dispose([tf.equal(a, b), tf.maximum(b, a), tf.pow(a, b)]);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(ids);
    tf.dispose([a, b]);
  });

  it('leaves int32 operands to tfjs', () => {
    const a = tf.tensor2d([[1, 5], [3, 3]], [2, 2], 'int32');
    const b = tf.tensor2d([[3], [3]], [2, 1], 'int32');
    expect(Array.from(tf.maximum(a, b).dataSync())).toEqual([3, 5, 3, 3]);
    expect(Array.from(tf.equal(a, b).dataSync())).toEqual([0, 0, 1, 1]);
    tf.dispose([a, b]);
  });
});
