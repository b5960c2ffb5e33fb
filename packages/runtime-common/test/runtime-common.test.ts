import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import {
  backendOrder,
  NODE_BACKEND_PRIORITY,
  WEB_BACKEND_PRIORITY,
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
  maxPoolInputGradient,
  checkTrainingSupport,
  describeBackend,
  formatBackendDescription,
} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let seed = 1;
const rand = (shape: number[]): tf.Tensor4D => tf.randomUniform(shape, -1, 1, 'float32', seed++) as tf.Tensor as tf.Tensor4D;

// The compositions are backend-neutral: here they run on cpu and are compared with cpu's own kernels.
describe('composed convolution gradients agree with tfjs cpu kernels (rtol 1e-5)', () => {
  const geometries: [number[], number[], number | [number, number], 'same' | 'valid'][] = [
    [[2, 7, 7, 3], [3, 3, 3, 4], 1, 'same'],
    [[1, 9, 8, 2], [3, 3, 2, 5], 2, 'same'],
    [[1, 10, 11, 3], [3, 3, 3, 2], 2, 'valid'],
    [[1, 6, 6, 4], [1, 1, 4, 3], 2, 'valid'],
    [[1, 8, 8, 2], [2, 2, 2, 3], [2, 1], 'same'],
    // Filters whose taps tile the input (the matMul path of the input gradient), square and not.
    [[2, 8, 8, 3], [2, 2, 3, 4], 2, 'valid'],
    [[2, 6, 5, 3], [1, 1, 3, 4], 1, 'same'],
    [[1, 6, 9, 2], [2, 3, 2, 3], [2, 3], 'valid'],
    // Same filter and stride but an odd input: the last row is read by no tap, so the general path.
    [[1, 7, 7, 2], [2, 2, 2, 3], 2, 'valid'],
  ];
  for (const [xs, ws, strides, pad] of geometries) {
    it(`conv2d x[${xs}] w[${ws}] strides ${strides} ${pad}`, () => {
      tf.tidy(() => {
        const x = rand(xs);
        const w = rand(ws);
        const y = tf.conv2d(x, w, strides, pad);
        const dy = rand(y.shape);
        const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', filterShape: ws }) as tf.Tensor;
        const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides, pad, dataFormat: 'NHWC', inputShape: xs }) as tf.Tensor;
        expectClose(conv2dFilterGradient(x, dy, ws as never, strides, pad).dataSync(), dw.dataSync(), 1e-5, 'filter gradient');
        expectClose(conv2dInputGradient(dy, w, xs as never, strides, pad).dataSync(), dx.dataSync(), 1e-5, 'input gradient');
      });
    });
  }
  it('depthwise (multiplier 2, stride 2) and maxPool (3x3 s2 same) gradients', () => {
    tf.tidy(() => {
      const x = rand([1, 9, 9, 3]);
      const w = rand([3, 3, 3, 2]);
      const y = tf.depthwiseConv2d(x, w, 2, 'same');
      const dy = rand(y.shape);
      const attrs = { strides: 2, pad: 'same', dilations: 1 };
      const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
      const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
      expectClose(depthwiseFilterGradient(x, dy, w.shape, 2, 'same').dataSync(), dw.dataSync(), 1e-5, 'depthwise filter gradient');
      expectClose(depthwiseInputGradient(dy, w, x.shape, 2, 'same').dataSync(), dx.dataSync(), 1e-5, 'depthwise input gradient');
      const r = tf.relu(x);
      const p = tf.maxPool(r, 3, 2, 'same');
      const dp = rand(p.shape);
      const expected = tf.engine().runKernel('MaxPoolGrad', { dy: dp, input: r, output: p }, { filterSize: 3, strides: 2, pad: 'same' }) as tf.Tensor;
      expectClose(maxPoolInputGradient(dp, r, p, 3, 2, 'same').dataSync(), expected.dataSync(), 0, 'maxPool gradient');
    });
  });
  it('name the op for unsupported input', () => {
    const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
    expect(() => conv2dFilterGradient(x, x, [3, 3, 2, 2], 1, 'same', undefined, 'NCHW')).toThrow("Conv2DBackpropFilter: only NHWC data is supported, got dataFormat 'NCHW'");
    expect(() => depthwiseFilterGradient(x, x, [3, 3, 2, 1], 1, 'same', undefined, 2)).toThrow('DepthwiseConv2dNativeBackpropFilter: dilations > 1 are not supported, got [2, 2]');
    x.dispose();
  });
  it('leak no tensors', async () => {
    const x = rand([1, 5, 5, 2]);
    const dy = rand([1, 3, 3, 3]);
    const w = rand([3, 3, 2, 3]);
    await expectNoLeak(() => tf.dispose([conv2dFilterGradient(x, dy, [3, 3, 2, 3], 2, 'same'), conv2dInputGradient(dy, w, [1, 5, 5, 2], 2, 'same')]));
    tf.dispose([x, dy, w]);
  });
});

describe('backend priority', () => {
  it('defaults, preferences and a forced backend', () => {
    expect(backendOrder(NODE_BACKEND_PRIORITY)).toEqual(['webgpu', 'tensorflow', 'wasm', 'cpu']);
    expect(backendOrder(WEB_BACKEND_PRIORITY, ['wasm', 'cpu', 'wasm'])).toEqual(['wasm', 'cpu']);
    expect(backendOrder(WEB_BACKEND_PRIORITY, ['webgpu'], 'cpu')).toEqual(['cpu']);
    expect(() => backendOrder(WEB_BACKEND_PRIORITY, ['tensorflow'])).toThrow("Unknown backend 'tensorflow' in prefer: [tensorflow]; known backends: webgpu, webgl, wasm, cpu");
  });
});

describe('describeBackend', () => {
  it('says whether the active backend can train', () => {
    const d = describeBackend({ note: 'test' });
    expect(d.name).toBe('cpu');
    expect(d.missingTrainingKernels).toEqual([]);
    expect(checkTrainingSupport('cpu').missing).toEqual([]);
    expect(formatBackendDescription(d)).toMatch(/^cpu \(float32, \d+ kernels, trains; note=test\)$/);
  });
});
