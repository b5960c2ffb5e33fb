import { expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { registerWasmBroadcastKernels } from '../src/index.js';

// What initRuntime does: the kernels are replaced before the wasm backend initialises (which binds tfjs' wasm
// functions through each kernel's setupFunc).
it('works when registered before the wasm backend initialises', async () => {
  expect(registerWasmBroadcastKernels()).toContain('Maximum');
  await tf.setBackend('wasm');
  const a = tf.tensor3d([1, 5, 3, 3, -1, 0], [1, 3, 2]);
  const b = tf.tensor3d([2, 4], [1, 1, 2]);
  expect(Array.from(tf.maximum(a, b).dataSync())).toEqual([2, 5, 3, 4, 2, 4]);
  expect(Array.from(tf.equal(a, tf.max(a, [1], true)).dataSync())).toEqual([0, 1, 1, 0, 0, 0]);
  tf.dispose([a, b]);
});
