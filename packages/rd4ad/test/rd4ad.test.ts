import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { imagesToTensor } from '@thfr/detector';
import { RD4AD_DEFAULT_CONFIG, RD4AD_FAST_CONFIG, RD4AD_PAPER_CONFIG, Rd4adDetector, Rd4adNetwork, resolveRd4adConfig, trainRd4ad } from '../src/index.js';
import { loadRd4ad, RD4AD_METHOD, saveRd4ad } from '../src/node.js';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';

const backbone = tinyBackbone();
// Full code width: the default's 0.25 is sized for ResNet-50's 1024 channels, not this 16-channel toy backbone.
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
  it("has RD4AD's recipe and optimiser, and only the shared restoration fields", () => {
    for (const config of [RD4AD_DEFAULT_CONFIG, RD4AD_PAPER_CONFIG]) {
      expect(config).toMatchObject({ learningRate: 0.005, betas: [0.5, 0.999], localBottleneckBlocks: 3, lossForm: 'flattened' });
      expect(config).not.toHaveProperty('template');
      expect(config).not.toHaveProperty('bottleneck');
    }
    expect(RD4AD_PAPER_CONFIG).toMatchObject({ decoderBlocks: [3, 4, 6], epochs: 200, batchSize: 16, imageSize: 256, codeWidthRatio: 1 });
    expect(RD4AD_DEFAULT_CONFIG).toMatchObject({ decoderBlocks: [1, 1, 1], epochs: 20, batchSize: 4, imageSize: 256, codeWidthRatio: 0.25 });
    expect(RD4AD_FAST_CONFIG).toEqual({ ...RD4AD_DEFAULT_CONFIG, imageSize: 128, batchSize: 8 });
    expect(resolveRd4adConfig({ epochs: 3 }).epochs).toBe(3);
    // The recipe is RD4AD's default, not a lock: a caller can still train the per-position loss.
    expect(resolveRd4adConfig({ lossForm: 'position' }).lossForm).toBe('position');
  });

  it('reads a THFR-shaped config of RD4AD (older folders) and refuses other THFR variants and unknown fields by name', async () => {
    const thfrShaped = { ...RD4AD_DEFAULT_CONFIG, bottleneck: 'lbn', template: false, relation: false, topN: 1, bankRatio: 1, bankStorage: 'float32', compensationFuseLayers: 2, compensationResBlocks: 1 };
    expect(resolveRd4adConfig(thfrShaped)).toEqual(RD4AD_DEFAULT_CONFIG);
    expect(JSON.stringify(resolveRd4adConfig(thfrShaped))).toBe(JSON.stringify(RD4AD_DEFAULT_CONFIG)); // same key order
    expect(() => resolveRd4adConfig({ bottleneck: 'gl' })).toThrow(/'bottleneck' is fixed to "lbn".*got "gl"/);
    expect(() => resolveRd4adConfig({ template: true })).toThrow(/'template' is fixed to false/);
    expect(() => resolveRd4adConfig({ learningrate: 0.1 })).toThrow(/RD4AD config has no field 'learningrate'/);
    expect(() => resolveRd4adConfig({ epochs: 0 })).toThrow(/^RD4AD config 'epochs' must be a positive integer, got 0/);
    await expect(trainRd4ad(backbone, toyImages(1, 64, 1), { config: tiny })).rejects.toThrow(/trainRd4ad: need at least 2 normal training images, got 1/);
  });
});

describe('RD4AD network', () => {
  it('is the OCBE (3 blocks by default, after the multi-scale fusion) and the decoder, and restores every level', () => {
    const levels = [{ name: 'a', channels: 8, size: 16 }, { name: 'b', channels: 16, size: 8 }, { name: 'c', channels: 32, size: 4 }];
    const network = new Rd4adNetwork(levels, resolveRd4adConfig({ ...tiny, imageSize: 64 }));
    const modules = new Set(network.namedParameters().map(([n]) => n.split('.')[0]));
    expect([...modules].sort()).toEqual(['decoder', 'lbn']);
    expect(network.codeChannels).toBe(64); // 2 C_K
    const three = network.parameterCount();
    const one = new Rd4adNetwork(levels, resolveRd4adConfig({ ...tiny, localBottleneckBlocks: 1 }));
    expect(three).toBeGreaterThan(one.parameterCount()); // the two extra OCBE blocks exist
    const features = levels.map((l, k) => tf.randomUniform([2, l.size, l.size, l.channels], 0, 1, 'float32', k) as tf.Tensor4D);
    network.eval();
    const restored = network.forward(features);
    expect(restored.map((r) => r.shape)).toEqual(features.map((f) => f.shape));
    tf.dispose(restored);
    // Same seed, same weights: parameters are drawn from one seeded stream in module order.
    const again = new Rd4adNetwork(levels, resolveRd4adConfig({ ...tiny, imageSize: 64 }));
    const a = network.stateDict();
    for (const [name, v] of again.stateDict()) expectClose(v.dataSync(), a.get(name)!.dataSync(), 0, name);
    tf.dispose(features);
    [network, one, again].forEach((n) => n.dispose());
  });
});

describe('training, prediction, save/load', () => {
  it('learns, separates anomalies, predicts without leaks, and save -> load gives the same maps', async () => {
    const train = toyImages(8, 64, 5);
    const { model, lossHistory } = await trainRd4ad(backbone, train, { config: tiny });
    expect(model.network).toBeInstanceOf(Rd4adNetwork);
    expect(lossHistory).toHaveLength(tiny.epochs);
    expect(lossHistory[tiny.epochs - 1]).toBeLessThan(lossHistory[0]);
    expect(model.normalStatistics?.source).toBe('train-leave-one-out');

    const test = [...toyImages(3, 64, 9), ...toyImages(3, 64, 9, true)];
    const prediction = await model.predict(test);
    expect(Math.min(...prediction.scores.slice(3))).toBeGreaterThan(Math.max(...prediction.scores.slice(0, 3)));

    const x = imagesToTensor(test, 64);
    await expectNoLeak(async () => { const p = await model.predictTensors(x); tf.dispose([p.map, p.scores, ...p.levelMaps]); }, 2, 'predictTensors');
    x.dispose();

    const folder = join(dir, 'rd4ad');
    const manifest = await saveRd4ad(model, folder);
    expect(manifest.method).toBe('rd4ad');
    expect(Object.keys(manifest.config)).not.toContain('template');
    const loaded = await loadRd4ad(folder, backbone);
    const again = await loaded.predict(test);
    for (let i = 0; i < test.length; i++) expectClose(again.maps[i], prediction.maps[i], 1e-5, `map ${i} after load`);
    loaded.dispose();

    // A folder written when RD4AD was THFR's network in RD4AD's configuration: a THFR config, no method.
    const legacy = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    delete legacy.method;
    legacy.config = { ...legacy.config, bottleneck: 'lbn', template: false, relation: false, topN: 1, bankRatio: 1, bankStorage: 'float32', compensationFuseLayers: 2, compensationResBlocks: 1 };
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(legacy));
    expect(RD4AD_METHOD.recognizes(legacy)).toBe(true);
    const old = await loadRd4ad(folder, backbone);
    const oldPrediction = await old.predict(test);
    for (let i = 0; i < test.length; i++) expectClose(oldPrediction.maps[i], prediction.maps[i], 1e-5, `map ${i} of the older folder`);
    old.dispose();

    // A THFR model folder is refused by name.
    const thfr = { ...legacy, method: 'thfr', config: { ...legacy.config, bottleneck: 'gl', template: true } };
    expect(RD4AD_METHOD.recognizes(thfr)).toBe(false);
    await writeFile(join(folder, 'manifest.json'), JSON.stringify(thfr));
    await expect(loadRd4ad(folder, backbone)).rejects.toThrow(/holds a thfr model \(bottleneck 'gl', template true\), not RD4AD/);
    model.dispose();
  });

  it('fits and predicts through the detector contract, and refuses a model of another config', async () => {
    const detector = new Rd4adDetector(backbone, { config: { ...tiny, epochs: 2 } });
    expect(detector.fitted).toBe(false);
    const summary = await detector.fit(toyImages(4, 64, 2));
    expect(summary.epochs).toBe(2);
    expect(summary.lossHistory).toHaveLength(2);
    const prediction = await detector.predict(toyImages(2, 64, 7));
    expect(prediction.scores).toHaveLength(2);
    expect(prediction.extras).toEqual([{}, {}]);
    const other = new Rd4adDetector(backbone, { config: { ...tiny, epochs: 3 } });
    expect(() => other.attach(detector.model)).toThrow(/rd4ad: the model's config differs from the detector's/);
    detector.dispose();
    other.dispose();
  });
});
