/**
 * WebGPU kernels chosen per call shape by timing (@thfr/runtime-common's KernelTuner, initRuntime's 'auto'): the tiled
 * GEMM against the kernels registered before it (Conv2D, BatchMatMul, Conv2DBackpropInput), the split batch-norm sums
 * against the whole ones. Before a shape is timed it runs the baseline; after tunePendingKernels it runs the variant
 * chosen, which agrees with the cpu backend. Runs on Dawn (SwiftShader without a GPU): which variant SwiftShader
 * finds faster says nothing about a GPU, so the checks follow whatever was chosen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, tunePendingKernels, type Tensor } from '@thfr/tensor';
import { expectClose } from '@thfr/tensor/testing';
import { KernelTuner, registerBatchNormKernels, registerWebGpuBatchNormKernels, registerWebGpuKernelChoices, registerWebGpuTiledGemm } from '@thfr/runtime-common';
import { initRuntime } from '../src/index.js';
import { prepareSwiftShader, startWebGpuOrReason } from './webgpu-swiftshader.js';
import { batchNormForwardBackward, countGemmRuns, countShaders, gemmRuns, seededInput } from './webgpu-counting.js';

let unavailable = '';

beforeAll(async () => {
  unavailable = await startWebGpuOrReason(initRuntime);
  if (unavailable) return;
  registerBatchNormKernels('cpu');
  countGemmRuns();
});

const input = seededInput;

/** The op's values on `backend`, and whether a GEMM program ran. */
async function runOn(backend: string, op: () => Tensor): Promise<{ values: Float32Array; usedGemm: boolean }> {
  tf.setBackend(backend);
  const before = gemmRuns;
  const out = tf.tidy(op);
  const values = (await out.data()) as Float32Array;
  out.dispose();
  tf.setBackend('webgpu');
  return { values, usedGemm: gemmRuns > before };
}

const OPS: Record<string, { kernelName: string; op: () => Tensor }> = {
  'conv 3x3': { kernelName: 'Conv2D', op: () => tf.conv2d(input('x', [2, 9, 7, 8]) as tf.Tensor4D, input('w', [3, 3, 8, 12]) as tf.Tensor4D, 1, 'same') },
  'matMul': { kernelName: 'BatchMatMul', op: () => tf.matMul(input('a', [40, 24]), input('b', [24, 36])) },
  'input gradient, stride 2': {
    kernelName: 'Conv2DBackpropInput',
    op: () => tf.conv2dTranspose(input('dy', [2, 5, 4, 12]) as tf.Tensor4D, input('w', [3, 3, 8, 12]) as tf.Tensor4D, [2, 9, 7, 8], 2, 'same'),
  },
};

describe('the tiled GEMM chosen per shape by timing', () => {
  let restore: (() => void) | undefined;
  afterAll(() => restore?.());

  it('runs the kernel registered before until a shape is timed, then the variant chosen, equal to cpu', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    restore = registerWebGpuTiledGemm({ minMultiplyAdds: 1, tuner });
    for (const [name, { kernelName, op }] of Object.entries(OPS)) {
      const expected = await runOn('cpu', op);
      const untimed = await runOn('webgpu', op);
      expect(untimed.usedGemm, `${name}: no GEMM before timing`).toBe(false);
      expectClose(untimed.values, expected.values, 1e-5, `${name} before timing`, 1e-6);
      expect(tuner.pendingCount, name).toBeGreaterThanOrEqual(1);
      const before = tf.memory().numTensors;
      const made = await tuner.tune();
      expect(tf.memory().numTensors, `${name}: the timing leaves no tensor`).toBe(before);
      const choice = made.find((c) => c.kernelName === kernelName);
      expect(choice, `${name}: a ${kernelName} choice among ${made.map((c) => c.kernelName)}`).toBeDefined();
      expect(Object.keys(choice!.milliseconds).sort(), name).toEqual(['fallback', 'gemm']);
      expect(choice!.differences.gemm, name).toBeLessThan(1e-5);
      const timed = await runOn('webgpu', op);
      expect(timed.usedGemm, `${name}: chose ${choice!.chosen}`).toBe(choice!.chosen === 'gemm');
      expectClose(timed.values, expected.values, 1e-5, `${name} after timing`, 1e-6);
    }
    expect(tuner.pendingCount).toBe(0);
  });
});

describe('the split batch-norm sums chosen per shape by timing', () => {
  afterAll(() => {
    if (!unavailable) registerWebGpuBatchNormKernels();
  });

  // 3 x 20 x 20 = 1,200 rows in chunks of 256: 5 chunks.
  const SHAPE = [3, 20, 20, 19];

  it('sums whole rows until timed, then splits the kernels where the split was faster (one shader more each)', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    registerWebGpuBatchNormKernels('webgpu');
    const whole = await countShaders(() => batchNormForwardBackward(SHAPE, true));
    const tuner = new KernelTuner({ callsInFlight: 2, rounds: 1 });
    registerWebGpuBatchNormKernels('webgpu', { splitRows: 256, tuner });
    const untimed = await countShaders(() => batchNormForwardBackward(SHAPE, true));
    expect(untimed.count).toBe(whole.count);
    expect(tuner.pendingCount).toBe(2);
    const made = await tuner.tune();
    expect(made.map((c) => c.kernelName).sort()).toEqual(['ThfrBatchNormTrain', 'ThfrBatchNormTrainGrad']);
    for (const choice of made) {
      expect(Object.keys(choice.milliseconds).sort()).toEqual(['split', 'whole']);
      expect(choice.differences.split).toBeLessThan(1e-4);
    }
    const splits = made.filter((c) => c.chosen === 'split').length;
    const timed = await countShaders(() => batchNormForwardBackward(SHAPE, true));
    expect(timed.count).toBe(whole.count + splits);
    timed.outputs.forEach((values, i) => expectClose(values, whole.outputs[i], 1e-5, `output ${i} against the whole-row sums`, 1e-7));
  });
});

describe('registerWebGpuKernelChoices', () => {
  it('puts the kernels found back and unregisters its tuner on restore', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const GEMM_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'BatchMatMul'];
    const kernelsFound = GEMM_KERNELS.map((name) => tf.getKernel(name, 'webgpu')!.kernelFunc);
    const registration = registerWebGpuKernelChoices({ tiledGemm: 'auto', tuner: { callsInFlight: 1, rounds: 1 } });
    expect(GEMM_KERNELS.map((name) => tf.getKernel(name, 'webgpu')!.kernelFunc)).not.toEqual(kernelsFound);
    await runOn('webgpu', OPS['conv 3x3'].op);
    expect(registration.tuner!.pendingCount).toBe(0); // under the default 2^22 multiply-adds: not the GEMM's
    const conv = () => tf.conv2d(input('x', [8, 32, 32, 32]) as tf.Tensor4D, input('w', [3, 3, 32, 64]) as tf.Tensor4D, 1, 'same');
    await runOn('webgpu', conv);
    expect(registration.tuner!.pendingCount).toBe(1);
    registration.restore();
    expect(await tunePendingKernels()).toBe(0);
    GEMM_KERNELS.forEach((name, i) => expect(tf.getKernel(name, 'webgpu')!.kernelFunc, name).toBe(kernelsFound[i]));
    const before = gemmRuns;
    await runOn('webgpu', conv);
    expect(gemmRuns).toBe(before);
  });
});

describe('initRuntime with webgpu kernels on auto', () => {
  it('registers a tuner that tunePendingKernels drives and says so in the description', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const runtime = await initRuntime({ prefer: ['webgpu'], dawnOptions: prepareSwiftShader(), webgpuTiledGemm: 'auto', webgpuSplitBatchNorm: 'auto', kernelTuning: { callsInFlight: 2, rounds: 1 } });
    expect(runtime.description.details).toMatchObject({ tiledGemm: 'auto', splitBatchNorm: 'auto' });
    const tuner = runtime.kernelTuner!;
    expect(tuner).toBeInstanceOf(KernelTuner);
    // Above the GEMM's default 2^22 multiply-adds: 8 x 32 x 32 outputs x 64 channels x 3 x 3 x 32.
    const out = tf.conv2d(input('x', [8, 32, 32, 32]) as tf.Tensor4D, input('w', [3, 3, 32, 64]) as tf.Tensor4D, 1, 'same');
    await out.data();
    tf.dispose(out);
    expect(tuner.pendingCount).toBe(1);
    expect(await tunePendingKernels()).toBe(1);
    expect(tuner.choices().map((c) => c.kernelName)).toEqual(['Conv2D']);
    await expect(initRuntime({ prefer: ['webgpu'], dawnOptions: prepareSwiftShader(), webgpuSplitBatchNorm: true, fusedBatchNorm: false }))
      .rejects.toThrow(/split batch-norm sums are a variant of the fused batch norm/);
  });

});
