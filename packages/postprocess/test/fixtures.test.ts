// Cross-checks against fixtures/postprocess-fixtures.json (torch F.cosine_similarity /
// F.interpolate and scipy.ndimage.gaussian_filter), on the cpu and wasm backends.
import { readFileSync } from 'node:fs';
import { describe, expect, it, beforeAll } from 'vitest';
import { tf } from '@thfr/tensor';
import { expectClose } from '@thfr/tensor/testing';
import { anomalyMap, cosineDistanceMap, disposeAnomalyMap, gaussianBlur, colormapTable, positionStatistics, standardizeLeaveOneOut, standardizeMaps } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';

interface BilinearCase { shape: [number, number, number]; size: [number, number]; x: number[]; expected: number[] }
interface PositionCase {
  count: number; height: number; width: number; smoothSigma: number; minStdRatio: number; meanPeriod: number;
  normals: number[]; test: number[]; mean: number[]; std: number[]; standardized: number[]; leaveOneOut: number[];
}
interface BlurCase { shape: [number, number, number]; sigma: number; x: number[]; expected: number[] }

const fx = JSON.parse(readFileSync(new URL('../fixtures/postprocess-fixtures.json', import.meta.url), 'utf8'));

describe.each(BACKENDS)('on the %s backend', (backend) => {
  beforeAll(() => useBackend(backend));

  it('cosineDistanceMap equals torch 1 - F.cosine_similarity (zero, parallel, opposite vectors) within 1e-6', () => {
    const { shape, a, b, expected } = fx.cosine;
    const out = tf.tidy(() => cosineDistanceMap(tf.tensor4d(a, shape), tf.tensor4d(b, shape)));
    expect(out.shape).toEqual(shape.slice(0, 3));
    expectClose(out.dataSync(), expected, 0, 'cosine distance', 1e-6);
    out.dispose();
  });

  it.each((fx.bilinear as BilinearCase[]).map((c) => [`${c.shape} -> ${c.size}`, c] as const))('resizeBilinear(halfPixelCenters) equals torch F.interpolate bilinear for %s within 1e-5', (_label, c) => {
    const { shape, size, x, expected } = c;
    const out = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(x, [...shape, 1]), size, false, true));
    expectClose(out.dataSync(), expected, 0, 'bilinear', 1e-5);
    out.dispose();
  });

  it.each((fx.blur as BlurCase[]).map((c) => [`${c.shape} sigma ${c.sigma}`, c] as const))('gaussianBlur equals scipy gaussian_filter(mode=reflect) for %s within 1e-5', (_label, c) => {
    const { shape, sigma, x, expected } = c;
    const out = tf.tidy(() => gaussianBlur(tf.tensor3d(x, shape), sigma));
    expect(out.shape).toEqual(shape);
    expectClose(out.dataSync(), expected, 0, `blur sigma ${sigma}`, 1e-5);
    out.dispose();
  });

  it.each(['anomalyMap_sigma4', 'anomalyMap_sigma0'])('anomalyMap equals the torch + scipy pipeline (%s) within 1e-5', (key) => {
    const c = fx[key];
    const make = (levels: { shape: number[]; values: number[] }[]) => levels.map((l) => tf.tensor4d(l.values, l.shape as [number, number, number, number]));
    const features = make(c.features);
    const restored = make(c.restored);
    const result = anomalyMap(features, restored, { outputSize: c.size, sigma: c.sigma, levelWeights: c.weights });
    expect(result.map.shape).toEqual([2, 32, 32]);
    expect(result.levelMaps.map((m) => m.shape)).toEqual([[2, 32, 32], [2, 32, 32], [2, 32, 32]]);
    expectClose(result.map.dataSync(), c.map, 0, 'anomaly map', 1e-5);
    expectClose(result.scores.dataSync(), c.scores, 0, 'image scores', 1e-5);
    if (c.sigma === 0) {
      const sum = tf.tidy(() => tf.addN(result.levelMaps));
      expectClose(sum.dataSync(), c.map, 0, 'sum of level maps', 1e-5);
      sum.dispose();
    }
    disposeAnomalyMap(result);
    tf.dispose([...features, ...restored]);
  });

  it.each((fx.positionStatistics as PositionCase[]).map((c) => [`${c.count} maps ${c.height}x${c.width}, smoothing ${c.smoothSigma}, floor ${c.minStdRatio}, mean period ${c.meanPeriod || 'none'}`, c] as const))(
    'positionStatistics, standardizeMaps and standardizeLeaveOneOut equal numpy mean (pooled by phase) / std(ddof=1) + scipy gaussian_filter for %s',
    async (_label, c) => {
      const pixels = c.height * c.width;
      const normals = Array.from({ length: c.count }, (_, i) => Float32Array.from(c.normals.slice(i * pixels, (i + 1) * pixels)));
      const options = { smoothSigma: c.smoothSigma, minStdRatio: c.minStdRatio, meanPeriod: c.meanPeriod };
      const stats = await positionStatistics(normals, c.height, c.width, options);
      expect(stats.count).toBe(c.count);
      expectClose(stats.mean, c.mean, 0, 'mean', 1e-5);
      expectClose(stats.std, c.std, 0, 'std', 1e-5);
      const test = tf.tensor3d(c.test, [2, c.height, c.width]);
      const out = standardizeMaps(test, stats);
      expectClose(out.dataSync(), c.standardized, 0, 'standardized', 1e-4);
      tf.dispose([test, out]);
      const loo = await standardizeLeaveOneOut(normals, c.height, c.width, options);
      expect(loo).toHaveLength(c.count);
      expectClose(loo.flatMap((m) => [...m]), c.leaveOneOut, 0, 'leave-one-out standardized', 1e-4);
    },
  );
});

describe('colormaps', () => {
  it.each(['turbo', 'viridis'] as const)('%s table is matplotlib\'s, rounded to 8 bits', (name) => {
    const table = colormapTable(name);
    const reference = (fx.colormaps[name] as number[]).map((v) => v * 255);
    expectClose(table, reference, 0, `${name} vs matplotlib`, 0.5 + 1e-9);
  });
});
