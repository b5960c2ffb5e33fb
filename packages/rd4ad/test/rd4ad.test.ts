import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { imagesToTensor, trainThfr } from '@thfr/model';
import { saveModel } from '@thfr/model/node';
import { RD4AD_DEFAULT_CONFIG, RD4AD_PAPER_CONFIG, isRd4adConfig, resolveRd4adConfig, trainRd4ad } from '../src/index.js';
import { loadRd4ad, saveRd4ad } from '../src/node.js';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';

const backbone = tinyBackbone();
// Full code width: DEFAULT_CONFIG's 0.25 is sized for ResNet-50's 1024 channels, not this 16-channel toy backbone.
const tiny = { imageSize: 64, epochs: 8, batchSize: 4, seed: 3, codeWidthRatio: 1 };
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-rd4ad-'));
});
afterAll(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('RD4AD config', () => {
  it('is THFR with the local bottleneck, no template and RD4AD\'s optimiser', () => {
    for (const config of [RD4AD_DEFAULT_CONFIG, RD4AD_PAPER_CONFIG]) {
      expect(config).toMatchObject({ bottleneck: 'lbn', template: false, learningRate: 0.005, betas: [0.5, 0.999], localBottleneckBlocks: 3, lossForm: 'flattened' });
      expect(isRd4adConfig(config)).toBe(true);
    }
    expect(RD4AD_PAPER_CONFIG).toMatchObject({ decoderBlocks: [3, 4, 6], epochs: 200, batchSize: 16, imageSize: 256 });
    expect(resolveRd4adConfig({ epochs: 3 }).epochs).toBe(3);
    // The recipe is RD4AD's default, not a lock: a caller can still train the literal eq. 3 loss.
    expect(resolveRd4adConfig({ lossForm: 'position' }).lossForm).toBe('position');
  });

  it('rejects architecture overrides and too few images by name', async () => {
    expect(() => resolveRd4adConfig({ bottleneck: 'gl' } as never)).toThrow(/'bottleneck' is fixed to "lbn".*got "gl"/);
    expect(() => resolveRd4adConfig({ template: true } as never)).toThrow(/'template' is fixed to false/);
    expect(() => resolveRd4adConfig({ epochs: 0 })).toThrow(/'epochs' must be a positive integer, got 0/);
    await expect(trainRd4ad(backbone, toyImages(1, 64, 1), { config: tiny })).rejects.toThrow(/need at least 2 normal training images, got 1/);
  });
});

describe('training, prediction, save/load', () => {
  it('learns, separates anomalies, predicts without leaks, and save -> load gives the same maps', async () => {
    const train = toyImages(8, 64, 5);
    const { model, lossHistory } = await trainRd4ad(backbone, train, { config: tiny });
    expect(isRd4adConfig(model.config)).toBe(true);
    expect(model.bank).toBeUndefined();
    const modules = new Set(model.network.namedParameters().map(([n]) => n.split('.')[0]));
    expect([...modules].sort()).toEqual(['decoder', 'lbn']);
    expect(lossHistory).toHaveLength(tiny.epochs);
    expect(lossHistory[tiny.epochs - 1]).toBeLessThan(lossHistory[0]);

    const test = [...toyImages(3, 64, 9), ...toyImages(3, 64, 9, true)];
    const prediction = await model.predict(test);
    expect(Math.min(...prediction.scores.slice(3))).toBeGreaterThan(Math.max(...prediction.scores.slice(0, 3)));
    expect(Array.from(prediction.templateIndices)).toEqual([-1, -1, -1, -1, -1, -1]);

    const x = imagesToTensor(test, 64);
    await expectNoLeak(async () => { const p = await model.predictTensors(x); tf.dispose([p.map, p.scores, ...p.levelMaps]); }, 2, 'predictTensors');
    x.dispose();

    await saveRd4ad(model, join(dir, 'rd4ad'));
    const loaded = await loadRd4ad(join(dir, 'rd4ad'), backbone);
    const again = await loaded.predict(test);
    for (let i = 0; i < test.length; i++) expectClose(again.maps[i], prediction.maps[i], 1e-5, `map ${i} after load`);
    loaded.dispose();
    model.dispose();
  });

  it('refuses to save or load a THFR model of another variant as RD4AD', async () => {
    const { model } = await trainThfr(backbone, toyImages(4, 64, 2), { config: { ...tiny, epochs: 1 } });
    await expect(saveRd4ad(model, join(dir, 'x'))).rejects.toThrow(/the model is not RD4AD \(bottleneck 'gl', template true\)/);
    await saveModel(model, join(dir, 'thfr'));
    model.dispose();
    await expect(loadRd4ad(join(dir, 'thfr'), backbone)).rejects.toThrow(/holds a THFR model \(bottleneck 'gl', template true\), not RD4AD/);
  });
});
