/**
 * thfr's register-tiled WebGPU GEMM (@thfr/runtime-common's registerWebGpuTiledGemm) against the cpu backend:
 * Conv2D and FusedConv2D as an implicit im2col (strides, padding, dilation, channel counts that are and are not a
 * multiple of 4, sizes that do not fill a tile), Conv2DBackpropInput gathering dy (strides whose taps skip pixels), BatchMatMul in all four orientations with and without a broadcast
 * operand, both tiles (128 and 64), the fallbacks, gradients through the registered kernels, and no leaked tensors.
 * Every product here is above minMultiplyAdds = 1 so that the GEMM runs; each check also confirms that it did (the
 * GEMM's shader key in tfjs' pipeline cache). Runs on Dawn (SwiftShader without a GPU).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, type Tensor } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { registerWebGpuTiledGemm } from '@thfr/runtime-common';
import { initRuntime } from '../src/index.js';
import { prepareSwiftShader, startWebGpuOrReason } from './webgpu-swiftshader.js';
import { countGemmRuns, gemmRuns, seededInput } from './webgpu-counting.js';

let unavailable = '';
let restore: (() => void) | undefined;

beforeAll(async () => {
  unavailable = await startWebGpuOrReason(initRuntime);
  if (unavailable) return;
  restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1 });
  countGemmRuns();
});

afterAll(() => restore?.());

const input = seededInput;

/**
 * Runs `op` on cpu, then on webgpu, each in a tidy (so `op` makes its inputs with `input`, on the backend it runs on);
 * the largest difference relative to the cpu's largest value.
 */
async function compare(op: () => Tensor): Promise<{ relative: number; shape: number[]; usedGemm: boolean }> {
  tf.setBackend('cpu');
  const expected = tf.tidy(op);
  const want = (await expected.data()) as Float32Array;
  tf.setBackend('webgpu');
  const before = gemmRuns;
  const got = tf.tidy(op);
  const have = (await got.data()) as Float32Array;
  const usedGemm = gemmRuns > before;
  expect(got.shape).toEqual(expected.shape);
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Math.abs(want[i] - have[i]));
  }
  const shape = got.shape;
  tf.dispose([expected, got]);
  return { relative: worst / scale, shape, usedGemm };
}

interface ConvCase { x: number[]; filter: number[]; stride: number | [number, number]; pad: 'same' | 'valid' | number; dilation?: number }

const CONVS: Record<string, ConvCase> = {
  '3x3 s1 same, 8 channels (one tap per 4 columns)': { x: [2, 9, 7, 8], filter: [3, 3, 8, 12], stride: 1, pad: 'same' },
  '3x3 s2 same, 3 channels (a tap per column)': { x: [2, 11, 10, 3], filter: [3, 3, 3, 5], stride: 2, pad: 'same' },
  '7x7 s2 pad 3, the ResNet stem': { x: [1, 20, 20, 3], filter: [7, 7, 3, 16], stride: 2, pad: 3 },
  '1x1 s1, 130 outputs x 70 channels (partial tiles)': { x: [1, 10, 13, 20], filter: [1, 1, 20, 70], stride: 1, pad: 'valid' },
  '1x1 s2 (ResNet downsample)': { x: [2, 8, 8, 12], filter: [1, 1, 12, 16], stride: 2, pad: 'valid' },
  '2x2 s2 valid': { x: [2, 8, 8, 6], filter: [2, 2, 6, 10], stride: 2, pad: 'valid' },
  '3x3 dilation 2, same': { x: [1, 12, 12, 4], filter: [3, 3, 4, 6], stride: 1, pad: 'same', dilation: 2 },
  'stride [1, 2], 5 channels': { x: [1, 9, 9, 5], filter: [3, 2, 5, 7], stride: [1, 2], pad: 'valid' },
  '3x3 s1, 300 rows x 200 channels (partial tiles)': { x: [3, 10, 10, 16], filter: [3, 3, 16, 200], stride: 1, pad: 'same' },
};

describe('register-tiled GEMM on webgpu (Dawn): equal to cpu', () => {
  /** A test that `op` ran on the GEMM and matches cpu within `tolerance` relative. */
  const itMatchesCpu = (title: string, op: () => Tensor, tolerance = 1e-5) => it(title, async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const { relative, usedGemm } = await compare(op);
    expect(usedGemm).toBe(true);
    expect(relative).toBeLessThan(tolerance);
  });

  for (const [name, c] of Object.entries(CONVS)) {
    itMatchesCpu(`Conv2D ${name}`, () => tf.conv2d(input(`${name}/x`, c.x) as tf.Tensor4D, input(`${name}/w`, c.filter) as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1));
  }

  // Conv2DBackpropInput (dx of conv(x, w)) as tf.conv2dTranspose(dy, w, x's shape): the GEMM gathers dy.
  const INPUT_GRADIENTS: Record<string, ConvCase> = {
    '3x3 s1 same, 8 output channels': { x: [2, 9, 7, 6], filter: [3, 3, 6, 8], stride: 1, pad: 'same' },
    '3x3 s2 same (taps that no output feeds)': { x: [2, 11, 10, 4], filter: [3, 3, 4, 12], stride: 2, pad: 'same' },
    '3x3 s2 explicit pad 1, 5 output channels (a tap per column)': { x: [1, 16, 16, 6], filter: [3, 3, 6, 5], stride: 2, pad: 1 },
    '1x1 s1, partial tiles': { x: [1, 10, 13, 70], filter: [1, 1, 70, 20], stride: 1, pad: 'valid' },
    '1x1 s2 (ResNet downsample)': { x: [2, 8, 8, 12], filter: [1, 1, 12, 16], stride: 2, pad: 'valid' },
    '7x7 s2 pad 3': { x: [1, 20, 20, 3], filter: [7, 7, 3, 16], stride: 2, pad: 3 },
    'stride [1, 2], valid, odd sizes': { x: [1, 9, 9, 5], filter: [3, 2, 5, 7], stride: [1, 2], pad: 'valid' },
    '2x2 s2 valid (tiles: thfr\'s matMul path)': { x: [2, 8, 8, 6], filter: [2, 2, 6, 10], stride: 2, pad: 'valid' },
  };
  for (const [name, c] of Object.entries(INPUT_GRADIENTS)) {
    const dyShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.filter as [number, number, number, number], c.stride, 1, c.pad as 'same').outShape;
    itMatchesCpu(`Conv2DBackpropInput ${name}`, () => tf.conv2dTranspose(input(`${name}/dy`, dyShape) as tf.Tensor4D, input(`${name}/w`, c.filter) as tf.Tensor4D, c.x as [number, number, number, number], c.stride, c.pad));
  }

  for (const activation of ['relu', 'linear'] as const) {
    itMatchesCpu(`FusedConv2D with bias, ${activation}`, () => tf.fused.conv2d({
      x: input('fused/x', [2, 9, 9, 8]) as tf.Tensor4D, filter: input('fused/w', [3, 3, 8, 20]) as tf.Tensor4D, bias: input('fused/b', [20]), strides: 1, pad: 'same', activation,
    }));
  }

  const MATMULS: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
    { a: [3, 37, 29], b: [3, 29, 45], transposeA: false, transposeB: false },
    { a: [3, 29, 37], b: [3, 29, 45], transposeA: true, transposeB: false },
    { a: [3, 37, 29], b: [3, 45, 29], transposeA: false, transposeB: true },
    { a: [2, 29, 37], b: [2, 45, 29], transposeA: true, transposeB: true },
    { a: [4, 33, 17], b: [1, 17, 40], transposeA: false, transposeB: false },
    { a: [1, 33, 17], b: [4, 17, 40], transposeA: false, transposeB: false },
    { a: [300, 260], b: [260, 140], transposeA: false, transposeB: false },
    { a: [2, 3, 20, 8], b: [2, 3, 8, 12], transposeA: false, transposeB: false },
  ];
  for (const mm of MATMULS) {
    itMatchesCpu(`BatchMatMul ${mm.a.join('x')}${mm.transposeA ? 'ᵀ' : ''} · ${mm.b.join('x')}${mm.transposeB ? 'ᵀ' : ''}`,
      () => tf.matMul(input(`mm/${mm.a}`, mm.a), input(`mm/${mm.b}`, mm.b), mm.transposeA, mm.transposeB));
  }

  // The cases above are small enough for the 64 tile (2 values per thread and slab); the 128 tile loads 4, which for
  // convolutions is the one-decode-per-4-columns path (channels in fours; other convolutions keep the 64 tile).
  for (const [name, c] of Object.entries({ ...CONVS, ...INPUT_GRADIENTS })) {
    it(`the 128 tile: ${name}`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      restore?.();
      restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1, minWorkgroups: 1 });
      try {
        const dyShape = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.filter as [number, number, number, number], c.stride, c.dilation ?? 1, c.pad as 'same').outShape;
        for (const op of [
          () => tf.conv2d(input(`${name}/x`, c.x) as tf.Tensor4D, input(`${name}/w`, c.filter) as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation ?? 1),
          ...(c.dilation ? [] : [() => tf.conv2dTranspose(input(`${name}/dy`, dyShape) as tf.Tensor4D, input(`${name}/w`, c.filter) as tf.Tensor4D, c.x as [number, number, number, number], c.stride, c.pad)]),
        ]) {
          const { relative, usedGemm } = await compare(op);
          expect(usedGemm).toBe(true);
          expect(relative).toBeLessThan(1e-5);
        }
      } finally {
        restore();
        restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1 });
      }
    });
  }

  it('both tiles give the same floats (the sums run in the same order)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    tf.setBackend('webgpu');
    const a = input('tiles/a', [300, 96]);
    const b = input('tiles/b', [96, 260]);
    const small = (await tf.matMul(a, b).data()) as Float32Array; // 3 x 3 workgroups of 128: below 128 → tile 64
    restore?.();
    restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1, minWorkgroups: 1 });
    const large = (await tf.matMul(a, b).data()) as Float32Array;
    restore();
    restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1 });
    tf.dispose([a, b]);
    expect(Array.from(large)).toEqual(Array.from(small));
  });

  it('gradients through the registered kernels equal cpu (conv2d, conv2dTranspose, matMul)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const loss = (xs: Tensor, ws: Tensor, ups: Tensor, ms: Tensor) => {
      const y = tf.relu(tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, 1, 'same'));
      const z = tf.conv2dTranspose(y as tf.Tensor4D, ups as tf.Tensor4D, [2, 16, 16, 4], 2, 'valid');
      const pooled = tf.reshape(tf.mean(z, [1, 2]), [2, 4]);
      return tf.sum(tf.square(tf.matMul(tf.concat([pooled, pooled], 1), ms)));
    };
    const gradients = (): Tensor => {
      const g = tf.grads(loss)([input('grad/x', [2, 8, 8, 6]), input('grad/w', [3, 3, 6, 8]), input('grad/up', [2, 2, 4, 8]), input('grad/m', [8, 5])]);
      return tf.concat(g.map((t) => tf.reshape(t, [-1])));
    };
    const { relative, usedGemm } = await compare(gradients);
    expect(usedGemm).toBe(true);
    expect(relative).toBeLessThan(1e-4);
  });

  it('falls back to tfjs where it does not apply: a PReLU activation, products under minMultiplyAdds', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    tf.setBackend('webgpu');
    const x = input('fallback/x', [1, 6, 6, 4]);
    const w = input('fallback/w', [3, 3, 4, 4]);
    const alpha = input('fallback/alpha', [4]);
    const before = gemmRuns;
    const p = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: alpha });
    await p.data();
    expect(gemmRuns).toBe(before);
    // Registered again over itself with a threshold above this conv: the fallback is tfjs' kernel, not the GEMM
    // registered first (whose threshold would take it).
    const again = registerWebGpuTiledGemm({ minMultiplyAdds: 1 << 30 });
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    await y.data();
    again();
    expect(gemmRuns).toBe(before);
    const z = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    await z.data();
    expect(gemmRuns).toBe(before + 1);
    tf.dispose([x, w, alpha, p, y, z]);
  });

  it('repeated calls leak no tensors', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    tf.setBackend('webgpu');
    const x = input('leak/x', [1, 8, 8, 8]);
    const w = input('leak/w', [3, 3, 8, 8]);
    await expectNoLeak(async () => {
      const y = tf.tidy(() => tf.matMul(tf.reshape(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), [64, 8]), tf.reshape(w, [72, 8]), false, true));
      await y.data();
      y.dispose();
    });
    tf.dispose([x, w]);
  });
  it("initRuntime({ webgpuTiledGemm: true }) registers it (last: it stays registered)", async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    restore?.();
    restore = undefined;
    const x = input('init/x', [1, 32, 32, 64]);
    const w = input('init/w', [3, 3, 64, 64]); // 1,024 x 64 x 576 = 37.7 M multiply-adds: above the default threshold
    const before = gemmRuns;
    await tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').data();
    expect(gemmRuns).toBe(before);
    await initRuntime({ prefer: ['webgpu'], dawnOptions: prepareSwiftShader(), webgpuTiledGemm: true });
    countGemmRuns();
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    await y.data();
    expect(gemmRuns).toBe(before + 1);
    tf.dispose([x, w, y]);
  });
});
