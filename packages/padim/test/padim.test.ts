import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { asyncOnlyBackbone, tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { imagesToTensor } from '@thfr/detector';
import { invertSpdBatch, Padim } from '../src/index.js';
import { loadPadim, PADIM_METHOD, savePadim } from '../src/node.js';

const backbone = tinyBackbone();
let dir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-padim-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('invertSpdBatch', () => {
  it('inverts symmetric positive definite matrices (A * inv(A) = I)', () => {
    const d = 5;
    const random = Array.from({ length: 2 * d * d }, (_, i) => Math.sin(i * 1.7) * 0.8);
    const a = new Float32Array(2 * d * d);
    for (let p = 0; p < 2; p++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < d; k++) s += random[p * d * d + i * d + k] * random[p * d * d + j * d + k];
      a[p * d * d + i * d + j] = s;
    }
    const inv = invertSpdBatch(a, 2, d);
    for (let p = 0; p < 2; p++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += a[p * d * d + i * d + k] * inv[p * d * d + k * d + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 4);
    }
    expect(() => invertSpdBatch(new Float32Array([-1]), 1, 1)).toThrow(/not positive definite/);
  });
});

describe('Padim', () => {
  it('gives the Mahalanobis distance of each position to its Gaussian, separates anomalies, saves and loads', async () => {
    const model = PADIM_METHOD.create(backbone, { config: { imageSize: 64, layers: [0, 1], channels: 6, sigma: 0, batchSize: 3 } });
    const train = toyImages(6, 64, 4);
    const phases = new Set<string>();
    const summary = await model.fit(train, { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['features', 'covariance']);
    expect(summary).toMatchObject({ images: 6, channels: 6, positions: 16 * 16 });

    // Independent check at one position: plain-JS mean, covariance + eps I, and (x - mu)^T inv (x - mu).
    const test = [...toyImages(2, 64, 9), ...toyImages(2, 64, 9, true)];
    const trainX = await (await model.embed(imagesToTensor(train, 64))).array();
    const testX = await (await model.embed(imagesToTensor(test, 64))).array();
    const position = 37;
    const d = 6;
    const rows = trainX.map((img) => img[position]);
    const mu = Array.from({ length: d }, (_, c) => rows.reduce((s, r) => s + r[c], 0) / rows.length);
    const cov = new Float32Array(d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i * d + j] = rows.reduce((s, r) => s + (r[i] - mu[i]) * (r[j] - mu[j]), 0) / (rows.length - 1) + (i === j ? 0.01 : 0);
    const inv = invertSpdBatch(cov, 1, d);
    const prediction = await model.predict(test);
    const [h, w] = model.grid!;
    const rawMaps = await tf.tidy(() => {
      const x = tf.tensor3d(testX.flat(2), [test.length, h * w, d]);
      const stats = model.statistics!;
      const diff = tf.transpose(tf.sub(x, stats.mean), [1, 0, 2]);
      return tf.transpose(tf.sqrt(tf.sum(tf.mul(tf.matMul(diff, stats.precision), diff), 2)));
    }).array() as number[][];
    for (let b = 0; b < test.length; b++) {
      const delta = testX[b][position].map((v, c) => v - mu[c]);
      let q = 0;
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) q += delta[i] * inv[i * d + j] * delta[j];
      expect(rawMaps[b][position]).toBeCloseTo(Math.sqrt(q), 3);
    }
    expect(prediction.size).toBe(64);
    expect(Math.min(...prediction.scores.slice(2))).toBeGreaterThan(Math.max(...prediction.scores.slice(0, 2)));

    const x = imagesToTensor(test, 64);
    await expectNoLeak(() => model.predict(x), 2, 'Padim.predict');
    x.dispose();

    await savePadim(model, join(dir, 'padim'));
    const loaded = await loadPadim(join(dir, 'padim'), backbone);
    const again = await loaded.predict(test);
    for (let i = 0; i < test.length; i++) expectClose(again.maps[i], prediction.maps[i], 1e-5, `map ${i} after load`);
    expect(PADIM_METHOD.recognizes({ format: 'thfr-padim' })).toBe(true);
    const fast = PADIM_METHOD.create(backbone, { preset: 'fast', config: { channels: 6 } });
    expect(fast.config).toMatchObject({ imageSize: 128, channels: 6 });
    fast.dispose();
    expect(() => PADIM_METHOD.create(backbone, { preset: 'quick' })).toThrow("padim: unknown preset 'quick': choose one of default, fast, paper");
    loaded.dispose();
    model.dispose();
  });

  it('fits and predicts on a backbone that only extracts asynchronously (as the ONNX one) with the same maps', async () => {
    const config = { imageSize: 64, layers: [0, 1], channels: 6, sigma: 0, batchSize: 3 };
    const [train, test] = [toyImages(4, 64, 4), [...toyImages(1, 64, 9), ...toyImages(1, 64, 9, true)]];
    const sync = new Padim(backbone, config);
    const async = new Padim(asyncOnlyBackbone(backbone), config);
    await sync.fit(train);
    await async.fit(train);
    const [expected, actual] = [await sync.predict(test), await async.predict(test)];
    for (let i = 0; i < test.length; i++) expectClose(actual.maps[i], expected.maps[i], 0, `map ${i}`);
    await expectNoLeak(() => async.predict(test), 2, 'PaDiM.predict on an async-only backbone');
    sync.dispose();
    async.dispose();
  });

  it('refuses too few images, an unfitted predict and a foreign backbone', async () => {
    const model = new Padim(backbone, { imageSize: 64, layers: [0, 1], channels: 4 });
    await expect(model.fit(toyImages(1, 64, 1))).rejects.toThrow(/at least 2 normal images/);
    await expect(model.predict(toyImages(1, 64, 1))).rejects.toThrow(/not fitted/);
    await model.fit(toyImages(3, 64, 1));
    await savePadim(model, join(dir, 'p2'));
    await expect(loadPadim(join(dir, 'p2'), tinyBackbone([8, 12, 16], 99))).rejects.toThrow(/was fitted with backbone/);
    model.dispose();
  });
});
