import { beforeAll, describe, expect, it } from 'vitest';
import { tf, type Tensor4D } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { anomalyMap, colormapRgb, cosineDistanceMap, disposeAnomalyMap, gaussianBlur, gaussianKernel1d, positionStatistics, reflectPad, renderHeatmap, ScoreNormalizer, standardizeLeaveOneOut, standardizeMaps } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';

describe.each(BACKENDS)('tensor ops on the %s backend', (backend) => {
  beforeAll(() => useBackend(backend));

  const levels = () => [tf.randomNormal([2, 8, 8, 16], 0, 1, 'float32', 1), tf.randomNormal([2, 4, 4, 32], 0, 1, 'float32', 2)] as Tensor4D[];

  it('anomalyMap, cosineDistanceMap and gaussianBlur leak no tensors', async () => {
    const features = levels();
    const restored = levels().map((t) => tf.tidy(() => tf.add(t, 0.1)) as Tensor4D);
    await expectNoLeak(() => disposeAnomalyMap(anomalyMap(features, restored, { outputSize: 16, sigma: 2 })), 3, 'anomalyMap');
    await expectNoLeak(() => disposeAnomalyMap(anomalyMap(features, restored, { outputSize: [16, 12], sigma: 0 })), 3, 'anomalyMap sigma 0');
    await expectNoLeak(() => cosineDistanceMap(features[0], restored[0]).dispose(), 3, 'cosineDistanceMap');
    const map = tf.ones([1, 5, 6]) as tf.Tensor3D;
    await expectNoLeak(() => gaussianBlur(map, 4).dispose(), 3, 'gaussianBlur');
    tf.dispose([...features, ...restored, map]);
  });

  it('positionStatistics and standardizeMaps leak no tensors, and a map equal to the normal mean standardizes to 0', async () => {
    const normals = [0, 1, 2, 3].map((i) => Float32Array.from({ length: 12 * 10 }, (_, k) => 0.5 + 0.1 * Math.sin(k * (i + 1))));
    await expectNoLeak(async () => { await positionStatistics(normals, 12, 10); }, 3, 'positionStatistics');
    await expectNoLeak(async () => { await standardizeLeaveOneOut(normals, 12, 10); }, 3, 'standardizeLeaveOneOut');
    const stats = await positionStatistics(normals, 12, 10);
    expect(Math.min(...stats.std)).toBeGreaterThan(0);
    const maps = tf.tensor3d([...stats.mean, ...stats.mean.map((v, k) => v + 2 * stats.std[k])], [2, 12, 10]);
    await expectNoLeak(() => standardizeMaps(maps, stats).dispose(), 3, 'standardizeMaps');
    const z = standardizeMaps(maps, stats);
    expectClose(z.dataSync(), [...new Array(120).fill(0), ...new Array(120).fill(2)], 0, 'z of mean and of mean + 2 std', 1e-4);
    tf.dispose([maps, z]);
  });

  it('positionStatistics and standardizeMaps name what is wrong: one map, a wrong size, NaN, mismatched maps', async () => {
    const map = new Float32Array(6).fill(1);
    await expect(positionStatistics([map], 2, 3)).rejects.toThrow(/at least two normal images, got 1/);
    await expect(standardizeLeaveOneOut([map, map], 2, 3)).rejects.toThrow(/standardizeLeaveOneOut: needs the maps of at least three normal images, got 2/);
    await expect(positionStatistics([map, new Float32Array(5)], 2, 3)).rejects.toThrow(/map 1 has 5 values, expected 2x3 = 6/);
    await expect(positionStatistics([map, Float32Array.of(1, 1, NaN, 1, 1, 1)], 2, 3)).rejects.toThrow(/map 1 holds a non-finite value at pixel 2/);
    await expect(positionStatistics([map, map], 2, 3, { meanPeriod: 2.5 })).rejects.toThrow(/meanPeriod must be a whole number of pixels \(0: none\), got 2.5/);
    const stats = await positionStatistics([map, map], 2, 3);
    // Equal maps: zero spread everywhere, so the floor (relative to a zero mean std) falls back to a tiny constant.
    expect(Math.min(...stats.std)).toBeGreaterThan(0);
    const wrong = tf.zeros([1, 3, 2]) as tf.Tensor3D;
    expect(() => standardizeMaps(wrong, stats)).toThrow(/maps are 3x2, the position statistics 2x3/);
    wrong.dispose();
  });

  it('anomalyMap returns owned tensors: map [B,H,W], one level map per level, scores = max of map', () => {
    const features = levels();
    const restored = levels().map((t) => tf.tidy(() => tf.mul(t, -1)) as Tensor4D);
    const result = anomalyMap(features, restored, { outputSize: [20, 24], sigma: 4 });
    expect(result.map.shape).toEqual([2, 20, 24]);
    expect(result.levelMaps.map((m) => m.shape)).toEqual([[2, 20, 24], [2, 20, 24]]);
    const map = result.map.arraySync();
    const max = map.map((image) => Math.max(...image.flat()));
    expectClose(result.scores.dataSync(), max, 0, 'scores', 1e-6);
    // Opposite features: distance 2 per level, 4 summed, and a blur of a constant is the constant.
    expectClose(result.map.dataSync(), new Float32Array(2 * 20 * 24).fill(4), 0, 'map of opposite features', 1e-5);
    disposeAnomalyMap(result);
    tf.dispose([...features, ...restored]);
  });

  it('cosineDistanceMap has finite gradients, also at zero vectors, matching finite differences', () => {
    const a = tf.tensor4d([0, 0, 0, 1, 2, 3], [1, 1, 2, 3]);
    const b = tf.tensor4d([1, 2, 3, -1, 0.5, 2], [1, 1, 2, 3]);
    const loss = (x: tf.Tensor) => tf.sum(cosineDistanceMap(x as Tensor4D, b));
    const g = tf.grad(loss)(a);
    const values = g.dataSync();
    expect(Array.from(values).every(Number.isFinite)).toBe(true);
    // Finite differences on the non-zero position (entries 3..5).
    const base = a.dataSync();
    for (let i = 3; i < 6; i++) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i] += 1e-2;
      minus[i] -= 1e-2;
      const numeric = tf.tidy(() => (loss(tf.tensor4d(plus, [1, 1, 2, 3])).dataSync()[0] - loss(tf.tensor4d(minus, [1, 1, 2, 3])).dataSync()[0]) / 2e-2);
      expect(Math.abs(numeric - values[i])).toBeLessThan(2e-3);
    }
    tf.dispose([a, b, g]);
  });

  it('gaussianBlur is differentiable (the gradient of the sum is 1 everywhere inside)', () => {
    const x = tf.randomUniform([1, 40, 40]) as tf.Tensor3D;
    const g = tf.grad((t: tf.Tensor) => tf.sum(gaussianBlur(t as tf.Tensor3D, 1)))(x);
    // Pixels farther than the radius (4) from the border contribute exactly one kernel's mass.
    const inner = tf.tidy(() => tf.slice(g, [0, 8, 8], [1, 24, 24]));
    expectClose(inner.dataSync(), new Float32Array(24 * 24).fill(1), 0, 'blur gradient', 1e-5);
    tf.dispose([x, g, inner]);
  });

  it('reflectPad follows scipy reflect, also when the radius exceeds the length', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const padded = reflectPad(x, 0, 5);
    // scipy reflect of abc: ... c b a | a b c | c b a a b ...
    expect(Array.from(padded.dataSync())).toEqual([2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2]);
    tf.dispose([x, padded]);
  });

  it('rejects mismatched inputs with clear errors', () => {
    const [f1, f2] = levels();
    expect(() => cosineDistanceMap(f1, f2)).toThrow(/cosineDistanceMap first input \[2, 8, 8, 16\] and second input \[2, 4, 4, 32\] must have the same shape/);
    expect(() => anomalyMap([f1, f2], [f1], { outputSize: 8 })).toThrow(/expected as many restored levels as feature levels/);
    expect(() => anomalyMap([f1, f2], [f1, f1], { outputSize: 8 })).toThrow(/anomalyMap level 1 \(features vs restored\)/);
    expect(() => anomalyMap([f1], [f1], { outputSize: 8, levelWeights: [1, 2] })).toThrow(/levelWeights must hold 1 finite numbers/);
    expect(() => anomalyMap([f1], [f1], { outputSize: 0 })).toThrow(/outputSize must be positive integers/);
    const map = tf.zeros([1, 4, 4]) as tf.Tensor3D;
    expect(() => gaussianBlur(map, -1)).toThrow(/sigma must be a finite number >= 0/);
    tf.dispose([f1, f2, map]);
  });
});

describe('gaussianKernel1d', () => {
  it('has scipy radius int(4 sigma + 0.5) and sums to 1', () => {
    expect(gaussianKernel1d(4).length).toBe(33);
    expect(gaussianKernel1d(2).length).toBe(17);
    expect(gaussianKernel1d(4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });
});

describe('ScoreNormalizer', () => {
  const normal = [1, 2, 3, 4, 5];

  it('fits normal statistics and a quantile threshold, and normalises scores, maps and tensors', () => {
    const n = ScoreNormalizer.fit(normal, { pixelMaps: [Float32Array.from([0, 2]), Float32Array.from([4])], thresholdQuantile: 0.9 });
    expect(n.imageStatistics).toEqual({ count: 5, min: 1, max: 5, mean: 3, std: Math.sqrt(2) });
    expect(n.threshold).toBeCloseTo(4.6, 12); // np.quantile([1..5], 0.9)
    expect(n.isAnomalous(4.7)).toBe(true);
    expect(n.isAnomalous(4.5)).toBe(false);
    expect(n.normalizeImageScore(3)).toBe(0.5);
    expect(Array.from(n.normalizeMap(Float32Array.from([0, 2, 8])))).toEqual([0, 0.5, 2]);
    const t = tf.tensor1d([0, 4]);
    const out = n.normalizeMapTensor(t);
    expect(Array.from(out.dataSync())).toEqual([0, 1]);
    tf.dispose([t, out]);
    const z = ScoreNormalizer.fit(normal, { mode: 'zscore' });
    expect(z.normalizeImageScore(3 + Math.sqrt(2))).toBeCloseTo(1, 12);
  });

  it('round-trips through JSON and rejects malformed JSON', () => {
    const n = ScoreNormalizer.fit(normal);
    const copy = ScoreNormalizer.fromJSON(JSON.parse(JSON.stringify(n)));
    expect(copy.toJSON()).toEqual(n.toJSON());
    expect(copy.normalizeImageScore(4)).toBe(n.normalizeImageScore(4));
    expect(() => ScoreNormalizer.fromJSON({ kind: 'thfr.ScoreNormalizer', version: 2 })).toThrow(/ScoreNormalizer.fromJSON: expected/);
    expect(() => ScoreNormalizer.fit([])).toThrow(/expected at least one score/);
    expect(() => ScoreNormalizer.fit([1, NaN])).toThrow(/found NaN at index 1/);
  });
});

describe('renderHeatmap', () => {
  it('maps the range ends to the colormap ends, clamps outside, alpha 255', () => {
    const rgba = renderHeatmap(Float32Array.from([0, 1, -5, 9]), 2, 2, { range: [0, 1], colormap: 'viridis' });
    expect(rgba.length).toBe(16);
    expect(Array.from(rgba.subarray(0, 4))).toEqual([...colormapRgb('viridis', 0), 255]);
    expect(Array.from(rgba.subarray(4, 8))).toEqual([...colormapRgb('viridis', 1), 255]);
    expect(Array.from(rgba.subarray(8, 12))).toEqual(Array.from(rgba.subarray(0, 4)));
    expect(Array.from(rgba.subarray(12, 16))).toEqual(Array.from(rgba.subarray(4, 8)));
    expect(colormapRgb('viridis', 0)).toEqual([68, 1, 84]); // matplotlib viridis(0) = #440154
    expect(colormapRgb('turbo', 1)).toEqual([122, 4, 3]); // matplotlib turbo(1) = #7a0403
  });

  it('blends over an RGB image with alpha and defaults the range to the map min/max', () => {
    const image = { width: 2, height: 1, data: Uint8Array.from([200, 100, 0, 0, 0, 0]) };
    const rgba = renderHeatmap(Float32Array.from([3, 7]), 2, 1, { image, alpha: 0.25 });
    const low = colormapRgb('turbo', 0);
    const high = colormapRgb('turbo', 1);
    // Uint8ClampedArray rounds half to even, as canvas ImageData does.
    const expected = Uint8ClampedArray.from([
      0.25 * low[0] + 150, 0.25 * low[1] + 75, 0.25 * low[2], 255,
      0.25 * high[0], 0.25 * high[1], 0.25 * high[2], 255,
    ]);
    expect(rgba).toEqual(expected);
  });

  it('rejects wrong sizes', () => {
    expect(() => renderHeatmap(new Float32Array(3), 2, 2)).toThrow(/map must hold width\*height = 4 values, got 3/);
    expect(() => renderHeatmap(new Float32Array(4), 2, 2, { image: { width: 2, height: 2, data: new Uint8Array(4) } })).toThrow(/image must be 2 x 2 RGB \(12 bytes\)/);
    expect(() => renderHeatmap(new Float32Array(4), 2, 2, { alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
  });
});
