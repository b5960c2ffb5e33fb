// config.mapNormalization 'per-position' (and 'texture'): the statistics training measures, the maps predict returns, and how a
// model folder keeps them (and reads folders saved before they existed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { imagesToTensor, trainThfr, type ThfrConfig, type ThfrModel } from '../src/index.js';
import { loadModel, saveModel } from '../src/node.js';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { positionStatistics } from '@thfr/postprocess';
import { codeCellPixels } from '@thfr/restoration';

const backbone = tinyBackbone();
const tiny: Partial<ThfrConfig> = { imageSize: 64, decoderBlocks: [1, 1, 1], epochs: 2, batchSize: 4, seed: 5, templateMinAlignment: 0 };
const train = toyImages(8, 64, 21);
const test = [...toyImages(2, 64, 22), ...toyImages(2, 64, 22, true)];
let dir: string;
let model: ThfrModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'thfr-map-normalization-'));
  model = (await trainThfr(backbone, train, { config: { ...tiny, mapNormalization: 'per-position' } })).model;
});
afterAll(async () => {
  model.dispose();
  backbone.dispose();
  await rm(dir, { recursive: true, force: true });
});

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe("mapNormalization 'per-position'", () => {
  it("measures the statistics on the training images' leave-one-out maps, and calibrates on each standardized by the others'", async () => {
    const stats = model.mapStatistics!;
    expect(stats).toBeDefined();
    expect([stats.height, stats.width, stats.count]).toEqual([64, 64, 8]);
    // Recompute them here from the papers' maps of the training images, each without itself as template.
    const raw = await model.predict(train, { rawMap: true, excludeTemplates: train.map((_, i) => i) });
    const mean = new Float64Array(64 * 64);
    for (const map of raw.maps) map.forEach((v, k) => { mean[k] += v / raw.maps.length; });
    expect(maxAbsDifference(stats.mean, mean)).toBeLessThan(1e-5);
    expect(Math.min(...stats.std)).toBeGreaterThan(0);
    // The threshold comes from the same maps, each standardized by the other seven's statistics (as a held-out
    // normal image would be): its image scores' max is the largest such z. In-sample z would be lower.
    const others = await Promise.all(raw.maps.map((_, i) => positionStatistics(raw.maps.filter((__, j) => j !== i), 64, 64)));
    const largestZ = (own: boolean) => Math.max(...raw.maps.map((map, i) => {
      const s = own ? stats : others[i];
      return Math.max(...Float32Array.from(map, (v, k) => (v - s.mean[k]) / s.std[k]));
    }));
    expect(model.normalStatistics!.imageScore.max).toBeCloseTo(largestZ(false), 3);
    expect(largestZ(true)).toBeLessThan(largestZ(false));
  });

  it('predict returns (papers map - mean) / std and its max as the score; rawMap returns the papers map', async () => {
    const stats = model.mapStatistics!;
    const standardized = await model.predict(test);
    const raw = await model.predict(test, { rawMap: true });
    for (let i = 0; i < test.length; i++) {
      const expected = Float32Array.from(raw.maps[i], (v, k) => (v - stats.mean[k]) / stats.std[k]);
      expect(maxAbsDifference(standardized.maps[i], expected)).toBeLessThan(1e-3);
      expect(standardized.scores[i]).toBeCloseTo(Math.max(...standardized.maps[i]), 5);
      expect(raw.scores[i]).toBeCloseTo(Math.max(...raw.maps[i]), 5);
    }
    // The standardization changes the maps (a test that passes whatever predict returns would not).
    expect(maxAbsDifference(standardized.maps[0], raw.maps[0])).toBeGreaterThan(0.1);
    const x = imagesToTensor(test, 64);
    await expectNoLeak(async () => { const p = await model.predictTensors(x); tf.dispose([p.map, p.scores, ...p.levelMaps]); }, 2, 'predictTensors, per-position');
    x.dispose();
  });

  it('a saved model keeps them in map-statistics.bin; a damaged or missing file is refused by name', async () => {
    const folder = join(dir, 'model');
    await saveModel(model, folder);
    expect((await stat(join(folder, 'map-statistics.bin'))).size).toBe(64 * 64 * 8);
    const loaded = await loadModel(folder, backbone);
    expect(loaded.config.mapNormalization).toBe('per-position');
    expect(maxAbsDifference(loaded.mapStatistics!.std, model.mapStatistics!.std)).toBe(0);
    const [a, b] = [await model.predict(test), await loaded.predict(test)];
    expect(maxAbsDifference(a.scores, b.scores)).toBeLessThan(1e-5);
    loaded.dispose();

    const manifestPath = join(folder, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    const { mapStatistics, ...without } = manifest;
    await writeFile(manifestPath, JSON.stringify(without));
    await expect(loadModel(folder, backbone)).rejects.toThrow(/mapNormalization is 'per-position' but the manifest names no mapStatistics file/);
    await writeFile(manifestPath, JSON.stringify({ ...manifest, mapStatistics: { ...mapStatistics, height: 32 } }));
    await expect(loadModel(folder, backbone)).rejects.toThrow(/mapStatistics are 32x64, the model's maps 64x64/);
    await writeFile(manifestPath, JSON.stringify(manifest));
    const bytes = await readFile(join(folder, 'map-statistics.bin'));
    bytes[10] ^= 0xff;
    await writeFile(join(folder, 'map-statistics.bin'), bytes);
    await expect(loadModel(folder, backbone)).rejects.toThrow(/map-statistics.bin: checksum mismatch/);
  });

  it("a folder saved before mapNormalization existed loads as 'none' and predicts the papers' map", async () => {
    const folder = join(dir, 'older');
    await saveModel(model, folder);
    const manifestPath = join(folder, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    delete manifest.config.mapNormalization;
    delete manifest.mapStatistics;
    await writeFile(manifestPath, JSON.stringify(manifest));
    const loaded = await loadModel(folder, backbone);
    expect(loaded.config.mapNormalization).toBe('none');
    expect(loaded.mapStatistics).toBeUndefined();
    const [raw, old] = [await model.predict(test, { rawMap: true }), await loaded.predict(test)];
    expect(maxAbsDifference(raw.scores, old.scores)).toBeLessThan(1e-5);
    loaded.dispose();
  });

  it("'none' measures nothing and saves no statistics; a per-position model without statistics refuses to predict", async () => {
    const plain = (await trainThfr(backbone, train, { config: { ...tiny, epochs: 1, mapNormalization: 'none' } })).model;
    expect(plain.mapStatistics).toBeUndefined();
    await saveModel(plain, join(dir, 'plain'));
    await expect(stat(join(dir, 'plain', 'map-statistics.bin'))).rejects.toThrow(/ENOENT/);
    plain.dispose();
    const stats = model.mapStatistics;
    model.mapStatistics = undefined;
    try {
      await expect(model.predict(test)).rejects.toThrow(/mapNormalization is 'per-position' but the model has no map statistics/);
      expect((await model.predict(test, { rawMap: true })).scores).toHaveLength(test.length);
    } finally {
      model.mapStatistics = stats;
    }
  });
});

describe("mapNormalization 'texture'", () => {
  it('keeps the per-position std and pools the mean over the code grid\'s phases; the network and its training are the same', async () => {
    const texture = await trainThfr(backbone, train, { config: { ...tiny, mapNormalization: 'texture' } });
    try {
      const [pixel, pooled] = [model.mapStatistics!, texture.model.mapStatistics!];
      // The map does not change training: same seed, same network, so the same raw maps and the same spread.
      expect(maxAbsDifference(pooled.std, pixel.std)).toBeLessThan(1e-5);
      const period = codeCellPixels(texture.model.levels, 64);
      expect(period).toBe(2 * 64 / texture.model.levels[texture.model.levels.length - 1].size);
      expect(period).toBeGreaterThan(1);
      expect(period).toBeLessThan(64);
      // The mean at each pixel is the per-pixel means averaged over the pixels of its phase modulo the period.
      const sums = new Float64Array(period * period);
      const counts = new Float64Array(period * period);
      const phase = (k: number) => (Math.floor(k / 64) % period) * period + ((k % 64) % period);
      pixel.mean.forEach((v, k) => { sums[phase(k)] += v; counts[phase(k)] += 1; });
      expect(maxAbsDifference(pooled.mean, Float32Array.from(pixel.mean, (_, k) => sums[phase(k)] / counts[phase(k)]))).toBeLessThan(1e-5);
      expect(maxAbsDifference(pooled.mean, pixel.mean)).toBeGreaterThan(1e-4); // pooling moved it
      // predict standardizes by these; a saved folder keeps them (the format is the per-position one).
      const raw = await texture.model.predict(test, { rawMap: true });
      const standardized = await texture.model.predict(test);
      expect(maxAbsDifference(standardized.maps[0], Float32Array.from(raw.maps[0], (v, k) => (v - pooled.mean[k]) / pooled.std[k]))).toBeLessThan(1e-3);
      const folder = join(dir, 'texture');
      await saveModel(texture.model, folder);
      const loaded = await loadModel(folder, backbone);
      expect(loaded.config.mapNormalization).toBe('texture');
      expect(maxAbsDifference(loaded.mapStatistics!.mean, pooled.mean)).toBe(0);
      expect(maxAbsDifference((await loaded.predict(test)).scores, standardized.scores)).toBeLessThan(1e-5);
      loaded.dispose();
    } finally {
      texture.model.dispose();
    }
  });
});
