import { assertRank, tf, type Tensor3D } from '@thfr/tensor';
import { gaussianBlur } from './gaussian-blur.js';

/**
 * Per-position statistics of the anomaly maps of normal images: at every pixel, the mean and the standard
 * deviation of the map over those images. Plain arrays (no tensors), so a model can keep and save them.
 */
export interface MapPositionStatistics {
  height: number;
  width: number;
  /** How many normal maps they were measured on. */
  count: number;
  /** Row-major, height x width. */
  mean: Float32Array;
  /** Row-major, height x width; smoothed and floored (see positionStatistics), so always > 0. */
  std: Float32Array;
}

export interface PositionStatisticsOptions {
  /**
   * Gaussian sigma the standard deviation is smoothed with (scipy 'reflect' semantics, as the map's own blur);
   * 0 keeps the raw per-pixel estimate. A few dozen normal maps give a noisy estimate at each pixel, and dividing
   * by it amplifies that noise; the maps themselves are smooth at this scale. Default 2: on the real-photo textures
   * (32 normal maps) 0, 1 and 2 scored alike and 4 lost 0.7 points of image AUROC on ihc, where the spread follows
   * the decoder's fixed pattern closely (docs/benchmark.md, eighth session).
   */
  smoothSigma?: number;
  /** Floor of the standard deviation as a fraction of its mean over the map (guards flat regions). Default 0.05. */
  minStdRatio?: number;
}

/**
 * Measures MapPositionStatistics on normal images' anomaly maps (each height x width, row-major; at least two).
 * Asynchronous because the smoothing runs on the tensor backend and is read back without blocking (WebGPU).
 */
export async function positionStatistics(maps: readonly Float32Array[], height: number, width: number, options: PositionStatisticsOptions = {}): Promise<MapPositionStatistics> {
  const { smoothSigma = 2, minStdRatio = 0.05 } = options;
  const count = maps.length;
  if (count < 2) throw new Error(`positionStatistics: needs the maps of at least two normal images, got ${count}`);
  const pixels = height * width;
  maps.forEach((map, i) => {
    if (map.length !== pixels) throw new Error(`positionStatistics: map ${i} has ${map.length} values, expected ${height}x${width} = ${pixels}`);
  });
  if (!(smoothSigma >= 0)) throw new RangeError(`positionStatistics: smoothSigma must be >= 0, got ${smoothSigma}`);
  if (!(minStdRatio >= 0)) throw new RangeError(`positionStatistics: minStdRatio must be >= 0, got ${minStdRatio}`);
  // Two passes in float64: the maps' values sit far from zero (a sum of 1 - cosine terms), where the one-pass
  // formula loses the variance to cancellation.
  const mean = new Float64Array(pixels);
  for (const map of maps) for (let k = 0; k < pixels; k++) mean[k] += map[k];
  for (let k = 0; k < pixels; k++) mean[k] /= count;
  const variance = new Float64Array(pixels);
  for (const map of maps) {
    for (let k = 0; k < pixels; k++) {
      if (!Number.isFinite(map[k])) throw new Error(`positionStatistics: map ${maps.indexOf(map)} holds a non-finite value at pixel ${k}`);
      variance[k] += (map[k] - mean[k]) ** 2;
    }
  }
  let std: Float32Array = Float32Array.from(variance, (v) => Math.sqrt(v / (count - 1)));
  if (smoothSigma > 0) {
    const raw = std;
    const smoothed = tf.tidy(() => gaussianBlur(tf.tensor3d(raw, [1, height, width]), smoothSigma, 'positionStatistics std'));
    try {
      std = Float32Array.from(await smoothed.data());
    } finally {
      smoothed.dispose();
    }
  }
  let stdSum = 0;
  for (let k = 0; k < pixels; k++) stdSum += std[k];
  const floor = Math.max((minStdRatio * stdSum) / pixels, 1e-12);
  for (let k = 0; k < pixels; k++) std[k] = Math.max(std[k], floor);
  return { height, width, count, mean: Float32Array.from(mean), std };
}

/**
 * (map - mean) / std at every position: how unusual each pixel's value is for that position on normal images.
 * maps: [B, height, width]; returns a new tensor the caller owns.
 */
export function standardizeMaps(maps: Tensor3D, statistics: MapPositionStatistics): Tensor3D {
  assertRank(maps, 3, 'standardizeMaps maps');
  const [, height, width] = maps.shape;
  if (height !== statistics.height || width !== statistics.width) {
    throw new Error(`standardizeMaps: maps are ${height}x${width}, the position statistics ${statistics.height}x${statistics.width}`);
  }
  return tf.tidy(() => {
    const mean = tf.tensor3d(statistics.mean, [1, height, width]);
    const std = tf.tensor3d(statistics.std, [1, height, width]);
    return tf.div(tf.sub(maps, mean), std) as Tensor3D;
  });
}
