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
  /**
   * Pixels. When set, the mean at (y, x) is pooled over every position (y', x') with y' = y and x' = x modulo this
   * period (the per-pixel means averaged over each phase of the grid); the standard deviation stays per pixel. For a
   * texture, whose normal maps have no positional content besides the restoration network's periodic pattern (one
   * code cell), this measures the mean over every cell instead of at one pixel: a few dozen maps leave noise in a
   * per-pixel mean, and the division by a small std amplifies it. Default: none (the mean per pixel, which an object
   * layout needs: there a position's mean is the layout's content).
   */
  meanPeriod?: number;
}

/**
 * Measures MapPositionStatistics on normal images' anomaly maps (each height x width, row-major; at least two).
 * Asynchronous because the smoothing runs on the tensor backend and is read back without blocking (WebGPU).
 */
export async function positionStatistics(maps: readonly Float32Array[], height: number, width: number, options: PositionStatisticsOptions = {}): Promise<MapPositionStatistics> {
  const { smoothSigma, minStdRatio, meanPeriod } = checkInputs('positionStatistics', maps, height, width, options, 2);
  const count = maps.length;
  const pixels = height * width;
  // Two passes in float64: the maps' values sit far from zero (a sum of 1 - cosine terms), where the one-pass
  // formula loses the variance to cancellation.
  const mean = new Float64Array(pixels);
  for (const map of maps) for (let k = 0; k < pixels; k++) mean[k] += map[k];
  for (let k = 0; k < pixels; k++) mean[k] /= count;
  const variance = new Float64Array(pixels);
  for (const map of maps) for (let k = 0; k < pixels; k++) variance[k] += (map[k] - mean[k]) ** 2;
  const raw = Float32Array.from(variance, (v) => Math.sqrt(v / (count - 1)));
  const [std] = await smoothAndFloor([raw], height, width, smoothSigma, minStdRatio);
  return { height, width, count, mean: meanPeriod ? poolByPhase(mean, height, width, meanPeriod) : Float32Array.from(mean), std };
}

/**
 * Each normal map standardized by the statistics of the *other* maps (positionStatistics of all but it, with the
 * same options): what a held-out normal image of the same kind would get. Standardizing a map by statistics it
 * helped measure pulls its values toward 0 (with n maps, no pixel's z can exceed (n - 1) / sqrt(n)), so a threshold
 * set on those values would flag normal images. Needs at least three maps (two to measure each spread).
 */
export async function standardizeLeaveOneOut(maps: readonly Float32Array[], height: number, width: number, options: PositionStatisticsOptions = {}): Promise<Float32Array[]> {
  const { smoothSigma, minStdRatio, meanPeriod } = checkInputs('standardizeLeaveOneOut', maps, height, width, options, 3);
  const count = maps.length;
  const pixels = height * width;
  // Sums about a shift (the first map) keep float64 cancellation harmless when one map is taken out.
  const shift = maps[0];
  const sum = new Float64Array(pixels);
  const squares = new Float64Array(pixels);
  for (const map of maps) {
    for (let k = 0; k < pixels; k++) {
      const d = map[k] - shift[k];
      sum[k] += d;
      squares[k] += d * d;
    }
  }
  const out: Float32Array[] = [];
  // The spreads are smoothed in chunks, so the backend holds a bounded number of maps at once.
  const chunk = 16;
  for (let start = 0; start < count; start += chunk) {
    const indices = Array.from({ length: Math.min(chunk, count - start) }, (_, j) => start + j);
    const means = indices.map(() => new Float64Array(pixels));
    const raws = indices.map((i, j) => {
      const map = maps[i];
      const std = new Float32Array(pixels);
      for (let k = 0; k < pixels; k++) {
        const d = map[k] - shift[k];
        const m = (sum[k] - d) / (count - 1);
        const v = (squares[k] - d * d - (count - 1) * m * m) / (count - 2);
        means[j][k] = m + shift[k];
        std[k] = Math.sqrt(Math.max(v, 0));
      }
      return std;
    });
    const stds = await smoothAndFloor(raws, height, width, smoothSigma, minStdRatio);
    indices.forEach((i, j) => {
      const mean = meanPeriod ? poolByPhase(means[j], height, width, meanPeriod) : means[j];
      out.push(Float32Array.from(maps[i], (value, k) => (value - mean[k]) / stds[j][k]));
    });
  }
  return out;
}

function checkInputs(who: string, maps: readonly Float32Array[], height: number, width: number, options: PositionStatisticsOptions, least: number): Required<PositionStatisticsOptions> {
  const { smoothSigma = 2, minStdRatio = 0.05, meanPeriod = 0 } = options;
  if (maps.length < least) throw new Error(`${who}: needs the maps of at least ${least === 2 ? 'two' : 'three'} normal images, got ${maps.length}`);
  const pixels = height * width;
  maps.forEach((map, i) => {
    if (map.length !== pixels) throw new Error(`${who}: map ${i} has ${map.length} values, expected ${height}x${width} = ${pixels}`);
    const bad = map.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${who}: map ${i} holds a non-finite value at pixel ${bad}`);
  });
  if (!(smoothSigma >= 0)) throw new RangeError(`${who}: smoothSigma must be >= 0, got ${smoothSigma}`);
  if (!(minStdRatio >= 0)) throw new RangeError(`${who}: minStdRatio must be >= 0, got ${minStdRatio}`);
  if (!Number.isInteger(meanPeriod) || meanPeriod < 0) throw new RangeError(`${who}: meanPeriod must be a whole number of pixels (0: none), got ${meanPeriod}`);
  return { smoothSigma, minStdRatio, meanPeriod };
}

/** Each value replaced by the average of the values at its phase modulo period in both axes (PositionStatisticsOptions.meanPeriod). */
function poolByPhase(values: Float64Array, height: number, width: number, period: number): Float32Array {
  const sums = new Float64Array(period * period);
  const counts = new Float64Array(period * period);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const phase = (y % period) * period + (x % period);
      sums[phase] += values[y * width + x];
      counts[phase] += 1;
    }
  }
  const pooled = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const phase = (y % period) * period + (x % period);
      pooled[y * width + x] = sums[phase] / counts[phase];
    }
  }
  return pooled;
}

/** Smooths each spread with gaussianBlur (one batch on the backend) and floors it at minStdRatio x its mean. */
async function smoothAndFloor(raws: Float32Array[], height: number, width: number, smoothSigma: number, minStdRatio: number): Promise<Float32Array[]> {
  const pixels = height * width;
  let stds = raws;
  if (smoothSigma > 0) {
    const stacked = new Float32Array(raws.length * pixels);
    raws.forEach((raw, i) => stacked.set(raw, i * pixels));
    const smoothed = tf.tidy(() => gaussianBlur(tf.tensor3d(stacked, [raws.length, height, width]), smoothSigma, 'position statistics std'));
    try {
      const values = await smoothed.data();
      stds = raws.map((_, i) => Float32Array.from(values.subarray(i * pixels, (i + 1) * pixels)));
    } finally {
      smoothed.dispose();
    }
  }
  for (const std of stds) {
    let sum = 0;
    for (let k = 0; k < pixels; k++) sum += std[k];
    const floor = Math.max((minStdRatio * sum) / pixels, 1e-12);
    for (let k = 0; k < pixels; k++) std[k] = Math.max(std[k], floor);
  }
  return stds;
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
