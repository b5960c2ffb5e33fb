import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import type { FeatureExtractor } from '@thfr/backbone';
import { imagesToTensor } from '@thfr/detector';
import { PatchCore, adaptiveAveragePoolMatrix, coresetSize, locallyAwareFeatures, patchEmbedding, resolvePatchCoreConfig } from '../src/index.js';
import { loadPatchCore, savePatchCore } from '../src/node.js';
import { asyncOnlyBackbone, tinyBackbone, toyImages } from '@thfr/backbone/testing';

interface Reference {
  size: number; targetDim: number; levels: Array<[number, number]>;
  train: number[][]; test: number[][]; embedding: number[]; patchScores: number[]; maps: number[]; scores: number[];
}

/** A backbone that returns fixed features: image i (all pixels = i / 10) gets row i of `levels`. */
function fixedFeatureBackbone(ref: Reference, which: number[][], batch: number): FeatureExtractor {
  const stored = ref.levels.map(([s, c], l) => tf.tensor4d(which[l], [batch, s, s, c]));
  return {
    identity: { architecture: 'fixed-features', weights: 'reference.json', taps: ['a', 'b'] },
    levels: [{ name: 'a', stride: 4, channels: ref.levels[0][1] }, { name: 'b', stride: 8, channels: ref.levels[1][1] }],
    extract(images) {
      const ids = Array.from({ length: images.shape[0] }, (_, i) => Math.round(tf.tidy(() => tf.slice(images, [i, 0, 0, 0], [1, 1, 1, 1]).dataSync()[0]) * 10));
      return tf.tidy(() => stored.map((s) => tf.gather(s, tf.tensor1d(ids, 'int32')) as tf.Tensor4D));
    },
    dispose: () => tf.dispose(stored),
  };
}

const idImages = (count: number, size: number) => tf.tidy(() => tf.concat(Array.from({ length: count }, (_, i) => tf.fill([1, size, size, 3], i / 10)), 0) as tf.Tensor4D);

const backbone = tinyBackbone();
let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-patchcore-'));
});
afterAll(async () => {
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('patch features', () => {
  it('average pooling counts the zero padding, as torch AvgPool2d(3, 1, 1)', () => {
    const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
    const pooled = locallyAwareFeatures(x, 3);
    // Corner: 4 of 9 inside; edge: 6 of 9; centre: 9 of 9.
    expectClose(pooled.dataSync(), [4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => v / 9), 1e-6, 'pooled ones');
    tf.dispose([x, pooled]);
    expect(() => locallyAwareFeatures(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, 2)).toThrow(/odd positive integer, got 2/);
  });

  it('adaptive average pooling over channels matches torch adaptive_avg_pool1d bins', () => {
    const m = adaptiveAveragePoolMatrix(5, 3);
    // torch bins for 5 -> 3: [0,2), [1,4), [3,5).
    const x = tf.tensor2d([[1, 2, 3, 4, 5]]);
    const y = tf.matMul(x, m);
    expectClose(y.dataSync(), [1.5, 3, 4.5], 1e-6, 'pooled channels');
    tf.dispose([m, x, y]);
  });
});

describe('PatchCore against a torch + scipy reference', () => {
  it('gives the reference embedding, patch scores, maps and image scores', async () => {
    const ref = JSON.parse(await readFile(new URL('../fixtures/reference.json', import.meta.url), 'utf8')) as Reference;
    const trainBackbone = fixedFeatureBackbone(ref, ref.train, 3);
    const testBackbone = fixedFeatureBackbone(ref, ref.test, 2);
    const config = { imageSize: ref.size, layers: [0, 1], targetDim: ref.targetDim, coresetRatio: 1, sigma: 4 };
    const trained = new PatchCore(trainBackbone, config);
    const trainImages = idImages(3, ref.size);
    const summary = await trained.fit(trainImages);
    expect(summary).toMatchObject({ images: 3, patches: 3 * 64, bankSize: 3 * 64 });
    // Same bank, test features: a second model over the test backbone sharing the bank.
    const model = new PatchCore(testBackbone, config);
    model.setBank(tf.clone(trained.memoryBank!));
    const testImages = idImages(2, ref.size);
    const embedding = await model.embed(testImages);
    expectClose(embedding.features.dataSync(), ref.embedding, 1e-5, 'patch embedding');
    embedding.features.dispose();
    const prediction = await model.predict(testImages);
    expectClose(prediction.maps.flatMap((m) => Array.from(m)), ref.maps, 1e-4, 'anomaly maps');
    expectClose(prediction.scores, ref.scores, 1e-4, 'image scores');
    tf.dispose([trainImages, testImages]);
    for (const m of [trained, model, trainBackbone, testBackbone]) m.dispose();
  });
});

describe('PatchCore on toy images', () => {
  const train = toyImages(6, 64, 5);
  const test = [...toyImages(3, 64, 9), ...toyImages(3, 64, 9, true)];
  const config = { imageSize: 64, seed: 1, batchSize: 4 };

  it('separates anomalies, keeps ceil(r * N) patches, predicts without leaks, and save -> load gives the same maps', async () => {
    const model = new PatchCore(backbone, { ...config, coresetRatio: 0.25 });
    expect(model.layers).toEqual([1, 2]); // strides 8 and 16
    expect(model.featureDim).toBe(12 + 16);
    const phases = new Set<string>();
    const summary = await model.fit(train, { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['features', 'coreset']);
    expect(summary.patches).toBe(6 * 8 * 8);
    expect(summary.bankSize).toBe(Math.ceil(0.25 * 6 * 64));
    expect(model.memoryBank!.shape).toEqual([96, 28]);

    const prediction = await model.predict(test);
    expect(prediction.size).toBe(64);
    const normal = Math.max(...prediction.scores.slice(0, 3));
    const anomalous = Math.min(...prediction.scores.slice(3));
    expect(anomalous).toBeGreaterThan(normal);
    // The defect (x, y in [0.6, 0.8) of the image) is where the map peaks.
    const map = prediction.maps[3];
    let peak = 0;
    for (let i = 1; i < map.length; i++) if (map[i] > map[peak]) peak = i;
    const [py, px] = [Math.floor(peak / 64) / 64, (peak % 64) / 64];
    expect(px).toBeGreaterThan(0.45);
    expect(py).toBeGreaterThan(0.45);

    const x = imagesToTensor(test, 64);
    await expectNoLeak(async () => { const out = await model.predictTensors(x); tf.dispose([out.map, out.scores]); }, 2, 'predictTensors');
    await expectNoLeak(() => model.predict(x), 2, 'predict');
    x.dispose();

    await savePatchCore(model, join(dir, 'pc'));
    await savePatchCore(model, join(dir, 'pc')); // overwrite in place, atomically
    const loaded = await loadPatchCore(join(dir, 'pc'), backbone);
    const again = await loaded.predict(test);
    for (let i = 0; i < test.length; i++) {
      expect(again.scores[i]).toBeCloseTo(prediction.scores[i], 6);
      expectClose(again.maps[i], prediction.maps[i], 1e-6, `map ${i} after load`);
    }
    expect(loaded.fitSummary).toEqual(model.fitSummary);
    loaded.dispose();
    model.dispose();
  });

  it('fits and predicts on a backbone that only extracts asynchronously (as the ONNX one) with the same maps', async () => {
    const config = { imageSize: 64, coresetRatio: 0.5, batchSize: 3 };
    const [train, test] = [toyImages(4, 64, 4), [...toyImages(1, 64, 9), ...toyImages(1, 64, 9, true)]];
    const sync = new PatchCore(backbone, config);
    const async = new PatchCore(asyncOnlyBackbone(backbone), config);
    await sync.fit(train);
    await async.fit(train);
    const [expected, actual] = [await sync.predict(test), await async.predict(test)];
    for (let i = 0; i < test.length; i++) expectClose(actual.maps[i], expected.maps[i], 0, `map ${i}`);
    expect(actual.scores).toEqual(expected.scores);
    await expectNoLeak(() => async.predict(test), 2, 'PatchCore.predict on an async-only backbone');
    sync.dispose();
    async.dispose();
  });

  it('coreset sizes are ceil(r * N) for each ratio, and ratio 1 keeps every patch', async () => {
    expect([0.1, 0.25, 0.5, 1].map((r) => coresetSize(r, 30))).toEqual([3, 8, 15, 30]);
    expect(coresetSize(0.01, 384)).toBe(4);
    const model = new PatchCore(backbone, { ...config, coresetRatio: 1 });
    const summary = await model.fit(train.slice(0, 2));
    expect(summary.bankSize).toBe(128);
    model.dispose();
  });

  it('the reweighted image score (PatchCore eq. 7) is a down-weighted patch max and still separates', async () => {
    const plain = new PatchCore(backbone, { ...config, coresetRatio: 0.5 });
    const reweighted = new PatchCore(backbone, { ...config, coresetRatio: 0.5, imageScore: 'reweighted' });
    await plain.fit(train);
    await reweighted.fit(train);
    const a = await plain.predict(test);
    const b = await reweighted.predict(test);
    expect(Math.min(...b.scores.slice(3))).toBeGreaterThan(Math.max(...b.scores.slice(0, 3)));
    b.scores.forEach((s) => { expect(s).toBeGreaterThan(0); expect(s).toBeLessThan(1e6); });
    // Same maps: the reweighting changes only the image score.
    expectClose(b.maps[0], a.maps[0], 1e-6, 'map');
    plain.dispose();
    reweighted.dispose();
  });

  it('random-projection reduction gives targetDim features', async () => {
    const model = new PatchCore(backbone, { ...config, targetDim: 10, reduction: 'random-projection' });
    await model.fit(train.slice(0, 2));
    expect(model.memoryBank!.shape[1]).toBe(10);
    model.dispose();
  });

  it('errors are clear', async () => {
    expect(() => resolvePatchCoreConfig({ coresetRatio: 0 })).toThrow(/'coresetRatio' must be in \(0, 1\], got 0/);
    expect(() => resolvePatchCoreConfig({ neighborhood: 4 })).toThrow(/'neighborhood' must be an odd positive integer/);
    expect(() => new PatchCore(backbone, { layers: [1, 5] })).toThrow(/index 5 is out of range, the backbone has 3 levels/);
    const noStride16: FeatureExtractor = { ...backbone, levels: backbone.levels.slice(0, 2) };
    expect(() => new PatchCore(noStride16)).toThrow(/no levels at strides 8 and 16.*pass config.layers/);
    const model = new PatchCore(backbone, config);
    await expect(model.predict(test)).rejects.toThrow(/no memory bank; call fit\(images\)/);
    await expect(model.fit([])).rejects.toThrow(/no training images/);
    const wrongSize = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    await expect(model.fit(wrongSize)).rejects.toThrow(/images must be \[B, 64, 64, 3\].*got \[1, 32, 32, 3\]/);
    wrongSize.dispose();
    model.dispose();

    await expect(loadPatchCore(join(dir, 'nowhere'), backbone)).rejects.toThrow(/is not a saved PatchCore model/);
    const other = tinyBackbone([8, 12, 16], 99);
    await expect(loadPatchCore(join(dir, 'pc'), other)).rejects.toThrow(/was fitted with backbone .*seed:11.*given backbone is .*seed:99/);
    other.dispose();
    const manifestPath = join(dir, 'pc', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    await writeFile(manifestPath, JSON.stringify({ ...manifest, version: 7 }));
    await expect(loadPatchCore(join(dir, 'pc'), backbone)).rejects.toThrow(/format version 7; this @thfr\/patchcore reads version 1/);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const bankPath = join(dir, 'pc', 'memory-bank.bin');
    const bytes = await readFile(bankPath);
    bytes[10] ^= 0xff;
    await writeFile(bankPath, bytes);
    await expect(loadPatchCore(join(dir, 'pc'), backbone)).rejects.toThrow(/memory-bank.bin: checksum mismatch/);
    await writeFile(bankPath, bytes.subarray(0, 100));
    await expect(loadPatchCore(join(dir, 'pc'), backbone)).rejects.toThrow(/memory-bank.bin has 100 bytes, the manifest says \d+/);
  });
});
