import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { registerWasmTrainingKernels } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  expect(registerWasmTrainingKernels()).toContain('Identity');
});

describe('wasm Identity shares the input data', () => {
  it('tf.clone allocates no new buffer, keeps the values after the original is disposed, and frees on the last dispose', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const ids = backend.numDataIds();
    const y = tf.clone(x);
    expect(backend.numDataIds()).toBe(ids);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    // Ops on the clone write fresh outputs: the shared buffer is never overwritten.
    const z = tf.add(y, 1);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    z.dispose();
    expect(backend.numDataIds()).toBe(ids - 1);
  });

  it('gradients that save tensors (tf.customGrad) pass tfjs\' kernel leak check', () => {
    const square = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = tf.square(x);
      save([x, y]);
      return { value: y, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, tf.mul(saved, 2)) };
    }) as never) as (x: tf.Tensor) => tf.Tensor;
    const x = tf.tensor1d([1, -2, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(square(t)))(x);
    expect(Array.from(grad.dataSync())).toEqual([2, -4, 6]);
    tf.dispose([x, grad]);
  });
});
