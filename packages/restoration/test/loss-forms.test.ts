import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { registerCosineDistanceKernels } from '@thfr/runtime-common';
import { mergeAndCheckConfig, restorationLoss, type RestorationConfig } from '../src/index.js';

const fixture = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'loss-forms.json'), 'utf8')) as {
  features: Array<{ shape: number[]; values: number[] }>;
  restored: Array<{ shape: number[]; values: number[] }>;
  flattened: number;
  position: number;
};
const toTensors = (list: Array<{ shape: number[]; values: number[] }>) => list.map((t) => tf.tensor4d(t.values, t.shape as [number, number, number, number]));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('restoration loss forms against PyTorch (fixtures/make_loss_fixtures.py)', () => {
  it("'position' is paper eq. 3 (per-position cosine) and 'flattened' is RD4AD's loss_function", async () => {
    const features = toTensors(fixture.features);
    const restored = toTensors(fixture.restored);
    const position = restorationLoss(features, restored, 'position');
    const flattened = restorationLoss(features, restored, 'flattened');
    expect((await position.data())[0]).toBeCloseTo(fixture.position, 5);
    expect((await flattened.data())[0]).toBeCloseTo(fixture.flattened, 5);
    expect(Math.abs(fixture.position - fixture.flattened)).toBeGreaterThan(0.01); // the two forms differ here
    await expectNoLeak(() => tf.dispose([restorationLoss(features, restored, 'flattened'), restorationLoss(features, restored)]));
    tf.dispose([...features, ...restored, position, flattened]);
  });

  it.each(['cpu', 'wasm'])('with the fused cosine kernels on %s: the same losses, and the gradients of the composed ops', async (backend) => {
    await tf.setBackend(backend);
    const features = toTensors(fixture.features);
    const restored = toTensors(fixture.restored);
    const lossAndGradient = (form: 'position' | 'flattened') => {
      const value = restorationLoss(features, restored, form);
      const g = tf.grads((...r: tf.Tensor[]) => restorationLoss(features, r as tf.Tensor4D[], form))(restored);
      const out = { loss: value.dataSync()[0], gradients: g.map((t) => t.dataSync() as Float32Array) };
      tf.dispose([value, ...g]);
      return out;
    };
    const composed = { position: lossAndGradient('position'), flattened: lossAndGradient('flattened') };
    expect(registerCosineDistanceKernels(backend)).toEqual([THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]);
    try {
      for (const form of ['position', 'flattened'] as const) {
        const fused = lossAndGradient(form);
        expect(fused.loss).toBeCloseTo(fixture[form], 5);
        fused.gradients.forEach((g, i) => expectClose(g, composed[form].gradients[i], 1e-5, `${form} loss gradient, level ${i}`));
      }
      const profile = await tf.profile(() => restorationLoss(features, restored, 'flattened'));
      expect(profile.kernels.filter((k) => k.name === THFR_COSINE_DISTANCE)).toHaveLength(features.length);
      (profile.result as tf.Tensor).dispose();
    } finally {
      for (const name of [THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]) tf.unregisterKernel(name, backend);
      tf.dispose([...features, ...restored]);
      await tf.setBackend('cpu');
    }
  });

  it('the config names a bad form and a bad OCBE depth, with the method it belongs to', () => {
    const base: RestorationConfig = {
      imageSize: 128, lossForm: 'flattened', localBottleneckBlocks: 1, decoderBlocks: [1, 1, 1], decoderWidthRatio: 0.5, bottleneckWidthRatio: 1,
      codeWidthRatio: 0.25, sigma: 4, mapNormalization: 'none', epochs: 2, batchSize: 4, learningRate: 0.005, betas: [0.5, 0.999], seed: 0,
    };
    expect(mergeAndCheckConfig({}, base, 'RD4AD')).toEqual(base);
    expect(mergeAndCheckConfig({ epochs: undefined, sigma: 2 }, base, 'RD4AD')).toEqual({ ...base, sigma: 2 });
    expect(() => mergeAndCheckConfig({ lossForm: 'l2' as never }, base, 'THFR')).toThrow(/^THFR config 'lossForm' must be 'position' or 'flattened', got 'l2'/);
    expect(() => mergeAndCheckConfig({ localBottleneckBlocks: 0 }, base, 'RD4AD')).toThrow(/^RD4AD config 'localBottleneckBlocks' must be a positive integer, got 0/);
    expect(() => mergeAndCheckConfig({ imageSize: 100 }, base, 'RD4AD')).toThrow(/'imageSize' must be a multiple of 32 .*got 100/);
    expect(() => mergeAndCheckConfig({ mapNormalization: 'global' as never }, base, 'THFR')).toThrow(/^THFR config 'mapNormalization' must be one of 'none', 'per-position', 'texture', got 'global'/);
  });
});
