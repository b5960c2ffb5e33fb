import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, MissingKernelError } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { registerArrayAdamStep, registerWasmTrainingKernels } from '@thfr/runtime-common';
import { initRuntime, assertTrainingSupport, checkTrainingSupport } from '../src/index.js';
import { defineOpSuite } from './suite-runner.js';
import { seededUniform, seedOf } from './op-suite.js';

beforeAll(async () => {
  const { backend } = await initRuntime({ prefer: ['wasm'] });
  expect(backend).toBe('wasm');
  // initRuntime registers it on wasm where its SIMD pass binds (here, in Node); registered again in case it did not.
  registerArrayAdamStep('wasm');
});

describe('op suite on wasm (with thfr training kernels)', () => {
  defineOpSuite(() => 'wasm', 'wasm (tfjs-backend-wasm 4.22 + @thfr/runtime-common training kernels)');
});

function rand(shape: number[], salt: string): tf.Tensor {
  return tf.tensor(seededUniform(seedOf(salt), shape.reduce((a, b) => a * b, 1)), shape);
}

/** Gradients of sum(f(x, w) * r) on a backend, as arrays. */
async function grads(backend: string, f: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor, xs: number[], ws: number[], salt: string) {
  await tf.setBackend(backend);
  const x = rand(xs, `${salt}x`) as tf.Tensor4D;
  const w = rand(ws, `${salt}w`) as tf.Tensor4D;
  const y = f(x, w);
  const r = rand(y.shape, `${salt}r`);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)))([x, w]);
  const out = { dx: await dx.data(), dw: await dw.data() };
  tf.dispose([x, w, y, r, dx, dw]);
  await tf.setBackend('wasm');
  return out;
}

describe('composed wasm training kernels beyond the suite', () => {
  // Odd sizes, stride 2 with leftover rows, explicit padding, 1x1 and 5x5 filters, stride [1, 2].
  const convs: [string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor, number[], number[]][] = [
    ['conv 5x5 s2 same, odd input', (x, w) => tf.conv2d(x, w, 2, 'same'), [1, 11, 13, 3], [5, 5, 3, 4]],
    ['conv 3x3 s2 valid, leftover row', (x, w) => tf.conv2d(x, w, 2, 'valid'), [2, 10, 10, 3], [3, 3, 3, 2]],
    ['conv 1x1 s2 (shortcut)', (x, w) => tf.conv2d(x, w, 2, 'same'), [1, 8, 8, 5], [1, 1, 5, 7]],
    ['conv 3x3 strides [1, 2] explicit pad', (x, w) => tf.conv2d(x, w, [1, 2], [[0, 0], [2, 0], [1, 1], [0, 0]]), [1, 7, 9, 2], [3, 3, 2, 3]],
    ['depthwise 3x3 s1 same, multiplier 2', (x, w) => tf.depthwiseConv2d(x, w, 1, 'same'), [1, 7, 7, 3], [3, 3, 3, 2]],
    ['depthwise 3x3 s2 same', (x, w) => tf.depthwiseConv2d(x, w, 2, 'same'), [2, 8, 8, 4], [3, 3, 4, 1]],
    ['depthwise 5x5 s2 valid', (x, w) => tf.depthwiseConv2d(x, w, 2, 'valid'), [1, 11, 11, 2], [5, 5, 2, 1]],
  ];
  for (const [name, f, xs, ws] of convs) {
    it(`${name}: gradients match cpu's own kernels (rtol 1e-4)`, async () => {
      const expected = await grads('cpu', f, xs, ws, name);
      const actual = await grads('wasm', f, xs, ws, name);
      expectClose(actual.dx, expected.dx, 1e-4, `${name} dx`);
      expectClose(actual.dw, expected.dw, 1e-4, `${name} dw`);
    });
  }

  it('unsortedSegmentSum (gather gradient) matches cpu, dropping out-of-range ids', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const x = rand([6, 3, 2], 'seg');
      const ids = tf.tensor1d([0, 2, 2, 4, 1, 0], 'int32');
      const s = tf.unsortedSegmentSum(x, ids, 4);
      const out = { shape: s.shape, values: await s.data() };
      tf.dispose([x, ids, s]);
      return out;
    };
    const expected = await run('cpu');
    const actual = await run('wasm');
    expect(actual.shape).toEqual([4, 3, 2]);
    expectClose(actual.values, expected.values, 1e-6, 'unsortedSegmentSum');
  });

  it('leak no tensors and leave their inputs intact', async () => {
    const x = rand([1, 6, 6, 3], 'leak x') as tf.Tensor4D;
    const w = rand([3, 3, 3, 4], 'leak w') as tf.Tensor4D;
    const before = await x.data();
    await expectNoLeak(() => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
      tf.dispose([dx, dw]);
    }, 3, 'conv2d gradients on wasm');
    expectClose(await x.data(), before, 0, 'x after backprop');
    tf.dispose([x, w]);
  });
});

describe('missing kernels', () => {
  it('are named with the backend and the op when training is not possible', () => {
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    try {
      const support = checkTrainingSupport('wasm');
      expect(support.missing).toContainEqual({ kernel: 'Conv2DBackpropFilter', neededBy: ['conv2d', 'conv2dTranspose'] });
      expect(() => assertTrainingSupport('wasm')).toThrow(MissingKernelError);
      expect(() => assertTrainingSupport('wasm')).toThrow(/'wasm' backend has no kernel for 'Conv2DBackpropFilter', needed for training \(ops: conv2d, conv2dTranspose\)/);
    } finally {
      registerWasmTrainingKernels();
    }
    expect(checkTrainingSupport('wasm').missing).toEqual([]);
  });
});
