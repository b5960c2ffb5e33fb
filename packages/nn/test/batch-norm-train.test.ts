import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { registerBatchNormKernels, registerWasmTrainingKernels } from '@thfr/runtime-common';
import { BatchNorm2d, hasFusedBatchNorm } from '../src/index.js';

const FUSED = [THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD];
const unregister = (backend: string) => FUSED.forEach((name) => tf.getKernel(name, backend) && tf.unregisterKernel(name, backend));

/** One training step of a BatchNorm2d (optionally + ReLU): output, new running statistics, gradients of sum(y r). */
function step(relu: boolean): Record<string, Float32Array> {
  const bn = new BatchNorm2d(5, { momentum: 0.2 });
  bn.gamma.assign(tf.tensor1d([0.5, -1.2, 2, 0.1, 1]));
  bn.beta.assign(tf.tensor1d([0.3, 0, -0.7, 1, 0.2]));
  bn.train();
  const x = tf.add(tf.mul(tf.randomUniform([3, 4, 6, 5], -1, 1, 'float32', 11), 2), 0.8) as tf.Tensor4D;
  const r = tf.randomUniform([3, 4, 6, 5], -1, 1, 'float32', 12);
  const f = (input: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
    // Through the layer's own parameters: swap them in for the differentiated copies.
    const saved = [bn.gamma, bn.beta];
    Object.assign(bn, { gamma, beta });
    try {
      return tf.sum(tf.mul(bn.forward(input as tf.Tensor4D, relu), r));
    } finally {
      Object.assign(bn, { gamma: saved[0], beta: saved[1] });
    }
  };
  const [dx, dGamma, dBeta] = tf.grads(f)([x, bn.gamma, bn.beta]);
  const y = tf.tidy(() => {
    bn.eval();
    return bn.forward(x, relu);
  });
  const out = {
    dx: dx.dataSync() as Float32Array, dGamma: dGamma.dataSync() as Float32Array, dBeta: dBeta.dataSync() as Float32Array,
    runningMean: bn.runningMean.dataSync() as Float32Array, runningVar: bn.runningVar.dataSync() as Float32Array, evalY: y.dataSync() as Float32Array,
  };
  tf.dispose([x, r, dx, dGamma, dBeta, y]);
  bn.dispose();
  return out;
}

let withoutRelu: Record<string, Float32Array> | undefined;

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`fused training batch norm on ${backend}`, () => {
    beforeAll(async () => {
      registerWasmTrainingKernels();
      await tf.setBackend(backend);
    });
    afterAll(() => unregister(backend));

    for (const relu of [false, true]) {
      it(`equals the composed ops${relu ? ' with the ReLU fused' : ''}: gradients and running statistics (rtol 1e-5)`, () => {
        unregister(backend);
        expect(hasFusedBatchNorm()).toBe(false);
        const composed = step(relu);
        registerBatchNormKernels(backend);
        expect(hasFusedBatchNorm()).toBe(true);
        const fused = step(relu);
        for (const key of Object.keys(composed)) expectClose(fused[key], composed[key], 1e-5, `${backend} ${key}`);
        // The ReLU closes some outputs, so the masked gradient is exercised: it differs from the unmasked one.
        if (relu) expect(Math.max(...composed.dGamma.map((v, c) => Math.abs(v - withoutRelu!.dGamma[c])))).toBeGreaterThan(1e-2);
        else withoutRelu = composed;
      });
    }

    it('the fused ReLU gives the composed training output, with +0 (never -0) where it closes', () => {
      const x = tf.add(tf.mul(tf.randomUniform([2, 5, 5, 3], -1, 1, 'float32', 21), 3), 0.5) as tf.Tensor4D;
      const forward = () => {
        const bn = new BatchNorm2d(3);
        bn.train();
        const y = tf.tidy(() => bn.forward(x, true).dataSync() as Float32Array);
        bn.dispose();
        return y;
      };
      unregister(backend);
      const composed = forward();
      registerBatchNormKernels(backend);
      const fused = forward();
      expectClose(fused, composed, 1e-5, `${backend} training y`);
      const closed = fused.filter((v) => v <= 0);
      expect(closed.length).toBeGreaterThan(10);
      expect(closed.every((v) => Object.is(v, 0))).toBe(true);
      x.dispose();
    });

    it('runs one kernel forwards and one backwards per layer, and leaks nothing', async () => {
      registerBatchNormKernels(backend);
      const bn = new BatchNorm2d(4);
      bn.train();
      const x = tf.randomUniform([2, 3, 3, 4], -1, 1, 'float32', 5) as tf.Tensor4D;
      const profile = await tf.profile(() => {
        const g = tf.grads((input: tf.Tensor) => tf.sum(bn.forward(input as tf.Tensor4D, true)))([x]);
        tf.dispose(g);
      });
      const names = profile.kernels.map((k) => k.name);
      expect(names.filter((n) => n === THFR_BATCH_NORM_TRAIN)).toHaveLength(1);
      expect(names.filter((n) => n === THFR_BATCH_NORM_TRAIN_GRAD)).toHaveLength(1);
      // No ReLU kernels and no moments: the fused kernels did that work.
      expect(names.filter((n) => ['Relu', 'Step', 'Mean', 'Sub', 'Rsqrt'].includes(n))).toEqual([]);
      await expectNoLeak(() => {
        const g = tf.grads((input: tf.Tensor) => tf.sum(bn.forward(input as tf.Tensor4D, true)))([x]);
        tf.dispose(g);
      }, 3, 'a fused batch-norm training step');
      tf.dispose(x);
      bn.dispose();
    });
  });
}
