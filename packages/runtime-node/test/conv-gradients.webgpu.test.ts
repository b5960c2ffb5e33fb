/**
 * thfr's webgpu convolution gradients (@thfr/runtime-common) against the cpu backend's. The split-K
 * Conv2DBackpropFilter on every path of the kernel: 1x1 stride-1 convs (no patches), kxk and strided convs (the im2col
 * shader), row counts that are not a multiple of the slab (zero rows), several chunks (a tiny maxChunkBytes). The
 * composed Conv2DBackpropInput on the same geometries (matMul where the filter tiles the input, else a forward conv).
 * Runs on Dawn (SwiftShader without a GPU).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { registerWebGpuConvFilterGradient, registerWebGpuConvInputGradient } from '@thfr/runtime-common';
import { initRuntime } from '../src/index.js';
import { seededUniform, seedOf } from './op-suite.js';
import { startWebGpuOrReason } from './webgpu-swiftshader.js';

let unavailable = '';
let restore: (() => void) | undefined;

beforeAll(async () => {
  unavailable = await startWebGpuOrReason(initRuntime);
});

afterAll(() => restore?.());

interface Geometry { x: [number, number, number, number]; filter: [number, number, number, number]; stride: number; pad: 'same' | 'valid' | number }

const GEOMETRIES: Record<string, Geometry> = {
  '1x1 s1 (the input is the patch matrix), 128 rows': { x: [2, 8, 8, 5], filter: [1, 1, 5, 7], stride: 1, pad: 'valid' },
  '3x3 s1 same, 128 rows': { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same' },
  '3x3 s2 same, 50 rows (padded to a slab)': { x: [2, 9, 9, 4], filter: [3, 3, 4, 6], stride: 2, pad: 'same' },
  '3x3 s1 valid, explicit pad 1, odd sizes': { x: [3, 7, 5, 2], filter: [3, 3, 2, 3], stride: 1, pad: 1 },
  '2x2 s2 valid (tiles the input)': { x: [2, 8, 8, 6], filter: [2, 2, 6, 4], stride: 2, pad: 'valid' },
  '1x1 s2 (ResNet downsample)': { x: [2, 8, 8, 4], filter: [1, 1, 4, 8], stride: 2, pad: 'valid' },
};

/** dL/dfilter (or dL/dx) of sum(conv(x, filter) * r) on the current backend. */
async function gradient(name: string, g: Geometry, wrt: 'filter' | 'x' = 'filter'): Promise<Float32Array> {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(seededUniform(seedOf(`${name}/x`), size(g.x)), g.x);
  const w = tf.tensor4d(seededUniform(seedOf(`${name}/w`), size(g.filter)), g.filter);
  const loss = (input: tf.Tensor4D, f: tf.Tensor4D) => {
    const y = tf.conv2d(input, f, g.stride, g.pad);
    return tf.sum(tf.mul(y, tf.tensor(seededUniform(seedOf(`${name}/r`), y.size), y.shape)));
  };
  const grad = wrt === 'filter' ? tf.grad((f: tf.Tensor) => loss(x, f as tf.Tensor4D))(w) : tf.grad((input: tf.Tensor) => loss(input as tf.Tensor4D, w))(x);
  const values = (await grad.data()) as Float32Array;
  tf.dispose([x, w, grad]);
  return values;
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  return worst / scale;
}

describe('split-K Conv2DBackpropFilter on webgpu', () => {
  for (const [slabs, options] of [['slabs of 64 rows, one chunk', { rowsPerSlab: 64 }], ['slabs of 16 rows, chunks of 2 KiB', { rowsPerSlab: 16, maxChunkBytes: 2048 }]] as const) {
    for (const [name, g] of Object.entries(GEOMETRIES)) {
      it(`${name}: ${slabs}, equals cpu within 1e-5`, async (ctx) => {
        if (unavailable) return ctx.skip(unavailable);
        await tf.setBackend('cpu');
        const expected = await gradient(name, g);
        await tf.setBackend('webgpu');
        restore = registerWebGpuConvFilterGradient(options);
        try {
          const before = tf.memory().numTensors;
          const actual = await gradient(name, g);
          expect(tf.memory().numTensors).toBe(before);
          expect(actual.length).toBe(expected.length);
          expect(maxRelativeError(actual, expected)).toBeLessThan(1e-5);
        } finally {
          restore();
          restore = undefined;
        }
      });
    }
  }

  it('puts the kernel it replaced back when restored', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const installed = tf.getKernel('Conv2DBackpropFilter', 'webgpu')!.kernelFunc;
    const put = registerWebGpuConvFilterGradient();
    const ours = tf.getKernel('Conv2DBackpropFilter', 'webgpu')!.kernelFunc;
    expect(ours).not.toBe(installed);
    put();
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')!.kernelFunc).toBe(installed);
  });

  it('rejects bad options', () => {
    expect(() => registerWebGpuConvFilterGradient({ rowsPerSlab: 0, backendName: 'nowhere' })).toThrow(/rowsPerSlab/);
    expect(() => registerWebGpuConvFilterGradient({ maxChunkBytes: -1, backendName: 'nowhere' })).toThrow(/maxChunkBytes/);
  });
});

describe('composed Conv2DBackpropInput on webgpu', () => {
  for (const [name, g] of Object.entries(GEOMETRIES)) {
    it(`${name}: equals cpu within 1e-5`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      await tf.setBackend('cpu');
      const expected = await gradient(name, g, 'x');
      await tf.setBackend('webgpu');
      const put = registerWebGpuConvInputGradient();
      try {
        const before = tf.memory().numTensors;
        const actual = await gradient(name, g, 'x');
        expect(tf.memory().numTensors).toBe(before);
        expect(actual.length).toBe(expected.length);
        expect(maxRelativeError(actual, expected)).toBeLessThan(1e-5);
      } finally {
        put();
      }
    });
  }
});

describe('initRuntime on webgpu', () => {
  it("runs a conv's gradients on thfr's kernels (split-K matMul, flipped-filter conv) and submits every 64 dispatches", async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    await tf.setBackend('webgpu');
    expect(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')).toBe(64);
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 3, 4], -1, 1) as tf.Tensor4D;
    const info = await tf.profile(async () => {
      const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, w]);
      await Promise.all(grads.map((g) => g.data()));
      tf.dispose(grads);
    });
    const names = info.kernels.map((k) => k.name);
    // tfjs' own kernels are single programs: these nested kernels only run inside thfr's.
    expect(names).toContain('BatchMatMul');
    expect(names).toContain('Reverse');
    tf.dispose([x, w]);
  });
});
