import { describe, expect, it, beforeAll } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, assertShape, assertFinite, TensorStore, selectBackend, BackendSelectionError, missingKernels, MissingKernelError, assertKernels } from '../src/index.js';
import { expectNoLeak, expectClose } from '../src/testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('gradients', () => {
  it('are registered for conv2d, so grad of sum(conv2d(x, w)) wrt w is sum of x windows', () => {
    const x = tf.ones([1, 4, 4, 1]);
    const w = tf.ones([3, 3, 1, 1]);
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid")))(w);
    // Each of the 4 valid outputs sees every filter tap once: gradient = 4 everywhere.
    expect(Array.from(g.dataSync())).toEqual(new Array(9).fill(4));
    tf.dispose([x, w, g]);
  });
});

describe('shape assertions', () => {
  it('name the tensor and both shapes', () => {
    const t = tf.zeros([2, 3]);
    expect(() => assertShape(t, [2, 4], 'features.I1')).toThrow('features.I1: expected shape [2, 4], got [2, 3]');
    expect(() => assertShape(t, [null, 3], 'x')).not.toThrow();
    t.dispose();
  });
  it('find NaN and report its index', () => {
    const t = tf.tensor([1, 2, NaN, 4]);
    expect(() => assertFinite(t, 'weights conv1')).toThrow(/weights conv1: expected finite values, found NaN at flat index 2/);
    t.dispose();
  });
});

describe('TensorStore', () => {
  it('owns its tensors across tidy and releases them on dispose', () => {
    const before = tf.memory().numTensors;
    const store = new TensorStore('bank');
    tf.tidy(() => {
      store.set('a', tf.ones([2]));
    });
    expect(store.get('a').isDisposed).toBe(false);
    store.set('a', tf.zeros([2])); // replaces and disposes the old one
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(() => store.get('b')).toThrow("bank: no tensor named 'b' (have: a)");
    store.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('selectBackend', () => {
  it('skips failing candidates and reports why', async () => {
    const choice = await selectBackend([
      { name: 'webgpu', init: () => { throw new Error('no adapter found'); } },
      { name: 'imaginary', init: () => false },
      { name: 'cpu', init: () => true },
    ]);
    expect(choice.backend).toBe('cpu');
    expect(choice.skipped).toEqual([
      { name: 'webgpu', reason: 'no adapter found' },
      { name: 'imaginary', reason: 'not available in this environment' },
    ]);
  });
  it('throws one error that lists every reason', async () => {
    const error = await selectBackend([
      { name: 'a', init: () => { throw new Error('reason A'); } },
      { name: 'b', init: () => false },
    ]).catch((e) => e);
    expect(error).toBeInstanceOf(BackendSelectionError);
    expect(error.message).toContain('a: reason A');
    expect(error.message).toContain('b: not available');
    await tf.setBackend('cpu');
  });
});

describe('kernel coverage', () => {
  it('lists kernels a backend lacks and raises an error naming op and backend', () => {
    expect(missingKernels(['Conv2D', 'NoSuchKernel'], 'cpu')).toEqual(['NoSuchKernel']);
    expect(() => assertKernels(['NoSuchKernel'], 'training', 'cpu')).toThrow(MissingKernelError);
    expect(() => assertKernels(['NoSuchKernel'], 'training', 'cpu')).toThrow("The 'cpu' backend has no kernel for 'NoSuchKernel', needed for training");
  });
});

describe('testing helpers', () => {
  it('expectNoLeak catches a leak', async () => {
    const leaked: tf.Tensor[] = [];
    await expect(expectNoLeak(() => leaked.push(tf.ones([1])), 2, 'leaky')).rejects.toThrow('leaky leaked 2 tensors');
    await expectNoLeak(() => { tf.tidy(() => { tf.add(tf.ones([1]), 1); }); }, 2);
    tf.dispose(leaked);
  });
  it('expectClose reports the worst element', () => {
    expect(() => expectClose([1, 2, 3], [1, 2, 3.5], 1e-3, 'tap')).toThrow(/tap: relative error .* at 2: 3 vs 3.5/);
    expect(expectClose([1, 2, 3], [1, 2, 3], 0, 'same').maxAbs).toBe(0);
  });
});
