/**
 * thfr's webgpu kernels that write several outputs from one shader (@thfr/runtime-common's webgpu-internals.ts): the
 * Adam step (THFR_ADAM_STEP, run by @thfr/nn's FusedAdam) and the fused batch norm's multi-output shaders. Each is
 * checked against the path it replaces (tfjs' element-wise ops; one tfjs program per output) and the cpu backend, and
 * by counting the compute shaders it dispatches (GPUComputePassEncoder.dispatchWorkgroups, which both tfjs' programs
 * and these kernels go through). Runs on Dawn (SwiftShader without a GPU).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf, THFR_ADAM_STEP, type Tensor } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { FusedAdam } from '@thfr/nn';
import { registerBatchNormKernels, registerWebGpuBatchNormKernels } from '@thfr/runtime-common';
import { initRuntime } from '../src/index.js';
import { seededUniform, seedOf } from './op-suite.js';
import { startWebGpuOrReason } from './webgpu-swiftshader.js';
import { batchNormForwardBackward, countShaders, seededTensor } from './webgpu-counting.js';

let unavailable = '';

beforeAll(async () => {
  unavailable = await startWebGpuOrReason(initRuntime);
  registerBatchNormKernels('cpu');
});

afterAll(() => {
  if (!unavailable) registerWebGpuBatchNormKernels();
});

const tensor = seededTensor;

const SHAPES = [[3, 3, 4, 6], [6], [17, 5], [1], [2, 2, 6, 3]];
const variablesOn = (backend: string, tag: string) => {
  tf.setBackend(backend);
  return SHAPES.map((shape, i) => tf.variable(tensor(`w${i}`, shape), true, `${tag}-${backend}-${i}`));
};

/** Five Adam steps on fixed gradients (a different set per step); returns the values, then m and v per variable. */
async function adamRun(backend: string, optimizer: 'fused' | 'fused-ops' | 'tfjs', bucketSize?: number, skip = -1): Promise<Float32Array[]> {
  const tag = `${optimizer}-${bucketSize}-${skip}`;
  const variables = variablesOn(backend, tag);
  const fused = optimizer === 'tfjs' ? undefined : new FusedAdam(variables, { learningRate: 0.01, bucketSize, stepKernel: optimizer === 'fused' });
  const adam = optimizer === 'tfjs' ? tf.train.adam(0.01, 0.9, 0.999) : undefined;
  for (let step = 0; step < 5; step++) {
    const grads: Record<string, Tensor> = {};
    variables.forEach((v, i) => {
      if (i !== skip) grads[v.name] = tensor(`g${step}/${i}`, v.shape, 3);
    });
    if (fused) fused.applyGradients(grads);
    else adam!.applyGradients(grads as tf.NamedTensorMap as never);
    tf.dispose(Object.values(grads));
  }
  const weights = fused ? await fused.getWeights() : await adam!.getWeights();
  const values = await Promise.all([...variables, ...weights.slice(1).map((w) => w.tensor)].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([...variables, ...weights.map((w) => w.tensor)]);
  fused?.dispose();
  adam?.dispose();
  tf.setBackend('webgpu');
  return values;
}

function expectAllClose(actual: Float32Array[], expected: Float32Array[], rtol: number, what: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expectClose(a, expected[i], rtol, `${what}, tensor ${i}`, 1e-7));
}

describe('THFR_ADAM_STEP on webgpu (FusedAdam)', () => {
  for (const bucketSize of [undefined, 100]) {
    const buckets = bucketSize ? 'buckets of 100 values' : 'one bucket';
    it(`gives tf.train.adam's values and moments over 5 steps, ${buckets}: the same floats as the element-wise ops, within 1e-6 of the cpu backend`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      expect(tf.getKernel(THFR_ADAM_STEP, 'webgpu')).toBeDefined();
      const kernel = await adamRun('webgpu', 'fused', bucketSize);
      expectAllClose(kernel, await adamRun('webgpu', 'fused-ops', bucketSize), 0, 'kernel against FusedAdam\'s ops on webgpu');
      expectAllClose(kernel, await adamRun('cpu', 'tfjs'), 1e-6, 'kernel against tf.train.adam on cpu');
    });
  }

  it('leaves a variable without a gradient as it is (that bucket takes the element-wise ops), as tf.train.adam', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    // The values only: tf.train.adam keeps no moments for a variable that never had a gradient.
    const values = (all: Float32Array[]) => all.slice(0, SHAPES.length);
    const fused = values(await adamRun('webgpu', 'fused', 100, 2));
    expectAllClose(fused, values(await adamRun('cpu', 'tfjs', undefined, 2)), 1e-6, 'variable 2 without gradients');
    expectClose(fused[2], seededUniform(seedOf('w2'), fused[2].length), 0, 'variable 2');
  });

  it('dispatches one shader per bucket (plus the two accβ updates) instead of ~17 per bucket, and leaks nothing', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    for (const [stepKernel, expected] of [[true, 2 + 3], [false, undefined]] as const) {
      const variables = variablesOn('webgpu', `count-${stepKernel}`);
      const user = tensor('w0', SHAPES[0]);
      const optimizer = new FusedAdam(variables, { learningRate: 0.01, bucketSize: 100, stepKernel });
      const grads = Object.fromEntries(variables.map((v, i) => [v.name, tensor(`g/${i}`, v.shape)]));
      const step = () => {
        optimizer.applyGradients(grads);
        return [variables[0].clone()];
      };
      const { count } = await countShaders(step);
      // Buckets of 100 values: [216] [6, 85, 1] [24]: 3 buckets.
      if (expected !== undefined) expect(count).toBe(expected);
      else expect(count).toBeGreaterThan(3 * 10);
      await expectNoLeak(async () => {
        optimizer.applyGradients(grads);
        await variables[0].data();
      }, 3, `FusedAdam step (stepKernel ${stepKernel})`);
      // New buffers for the new values: a tensor holding the initial values is not written through.
      expectClose(await user.data(), seededUniform(seedOf('w0'), user.size), 0, 'the initial values');
      tf.dispose([...variables, user, ...Object.values(grads)]);
      optimizer.dispose();
    }
  });

  it('names the input that does not fit', (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const [m, v, p, g] = [tf.zeros([6]), tf.zeros([6]), tf.zeros([2, 3]), tf.zeros([5])];
    const accBeta1 = tf.scalar(0.9);
    const accBeta2 = tf.scalar(0.999);
    const attrs = { count: 1, learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
    expect(() => tf.engine().runKernel(THFR_ADAM_STEP, { m, v, accBeta1, accBeta2, param0: p, grad0: g }, attrs as never)).toThrow(/'grad0' has shape \[5\], expected 6 values/);
    expect(() => tf.engine().runKernel(THFR_ADAM_STEP, { m: tf.zeros([4]), v, accBeta1, accBeta2, param0: p, grad0: tf.zeros([6]) }, attrs as never)).toThrow(/'m' has shape \[4\], expected \[6\]/);
    expect(() => tf.engine().runKernel(THFR_ADAM_STEP, { m, v, accBeta1, accBeta2, param0: p }, attrs as never)).toThrow(/input 'grad0' is missing/);
    tf.dispose([m, v, p, g, accBeta1, accBeta2]);
  });
});

describe('the fused batch norm\'s multi-output shaders on webgpu', () => {
  // 19 channels: three workgroups of 8, the last one partly empty; 4 x 6 x 5 rows.
  const SHAPE = [4, 6, 5, 19];
  const run = (relu: boolean, shape = SHAPE) => () => batchNormForwardBackward(shape, relu);

  for (const relu of [false, true]) {
    it(`writes the same floats as one program per output, in 4 shaders instead of 7, within 1e-4 of the cpu backend${relu ? ' (with ReLU)' : ''}`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: false });
      const perOutput = await countShaders(run(relu));
      registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true });
      const multi = await countShaders(run(relu));
      // The inputs' own shaders (scaling, shifting) are the same in both runs.
      expect(perOutput.count - multi.count).toBe(3);
      multi.outputs.forEach((values, i) => expectClose(values, perOutput.outputs[i], 0, `output ${i}`));
      tf.setBackend('cpu');
      const cpu = await countShaders(run(relu));
      tf.setBackend('webgpu');
      expect(cpu.count).toBe(0);
      multi.outputs.forEach((values, i) => expectClose(values, cpu.outputs[i], 1e-4, `output ${i} against cpu`, 1e-6));
      await expectNoLeak(async () => {
        const out = run(relu)();
        await out[0].data();
        tf.dispose(out);
      }, 3, 'the multi-output batch norm');
    });
  }

  // 3 x 20 x 20 = 1,200 rows in chunks of 256: 5 chunks, the last one of 176 rows.
  const SPLIT_SHAPE = [3, 20, 20, 19];
  for (const relu of [false, true]) {
    it(`split over row chunks: one more shader each way, the same floats with one program per output, within 1e-4 of cpu${relu ? ' (with ReLU)' : ''}`, async (ctx) => {
      if (unavailable) return ctx.skip(unavailable);
      try {
        registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true });
        const whole = await countShaders(run(relu, SPLIT_SHAPE));
        registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true, splitRows: 256 });
        const split = await countShaders(run(relu, SPLIT_SHAPE));
        registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: false, splitRows: 256 });
        const splitPerOutput = await countShaders(run(relu, SPLIT_SHAPE));
        // Forward: partials, combine (+ running), y; backward: partials, sums, dx. One program per output: 2 running
        // updates and 2 sums instead of one shader each.
        expect(split.count - whole.count).toBe(2);
        expect(splitPerOutput.count - split.count).toBe(3);
        split.outputs.forEach((values, i) => expectClose(values, splitPerOutput.outputs[i], 0, `output ${i}, one program per output`));
        split.outputs.forEach((values, i) => expectClose(values, whole.outputs[i], 1e-5, `output ${i} against the whole-row reduction`, 1e-7));
        tf.setBackend('cpu');
        const cpu = await countShaders(run(relu, SPLIT_SHAPE));
        tf.setBackend('webgpu');
        split.outputs.forEach((values, i) => expectClose(values, cpu.outputs[i], 1e-4, `output ${i} against cpu`, 1e-6));
        registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true, splitRows: 256 });
        await expectNoLeak(async () => {
          const out = run(relu, SPLIT_SHAPE)();
          await out[0].data();
          tf.dispose(out);
        }, 3, 'the split batch norm');
      } finally {
        registerWebGpuBatchNormKernels('webgpu');
      }
    });
  }

  it('does not split under 4 chunks, and refuses a negative chunk size', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    try {
      registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true });
      const whole = await countShaders(run(false, SPLIT_SHAPE));
      registerWebGpuBatchNormKernels('webgpu', { multiOutputShaders: true, splitRows: 400 }); // 3 chunks
      const three = await countShaders(run(false, SPLIT_SHAPE));
      expect(three.count).toBe(whole.count);
      three.outputs.forEach((values, i) => expectClose(values, whole.outputs[i], 0, `output ${i}`));
      expect(() => registerWebGpuBatchNormKernels('webgpu', { splitRows: -1 })).toThrow(/splitRows must be a non-negative integer/);
    } finally {
      registerWebGpuBatchNormKernels('webgpu');
    }
  });
});
