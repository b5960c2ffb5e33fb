import { tf, type Tensor } from '@thfr/tensor';

/** Summary of a set of scores of normal images. */
export interface ScoreStatistics {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
}

export type NormalizationMode = 'minmax' | 'zscore';

export interface ScoreNormalizerJSON {
  kind: 'thfr.ScoreNormalizer';
  version: 1;
  mode: NormalizationMode;
  image: ScoreStatistics;
  pixel: ScoreStatistics | null;
  /** Raw image-score threshold: the `thresholdQuantile` quantile of the normal image scores. */
  threshold: number;
  thresholdQuantile: number;
}

export interface ScoreNormalizerFitOptions {
  /** Anomaly maps of the same normal images, for pixel statistics. */
  pixelMaps?: ReadonlyArray<Float32Array>;
  /** 'minmax': (s - min) / (max - min) of the normal scores (normal images land in [0, 1]);
   *  'zscore': (s - mean) / std. Default 'minmax'. */
  mode?: NormalizationMode;
  /** Quantile of the normal image scores used as the decision threshold (NumPy linear method). Default 0.99. */
  thresholdQuantile?: number;
}

/**
 * Statistics of normal (validation) images, used to put scores of different models or categories
 * on one scale and to flag anomalies: `fit` on normal images, `normalize*` any score or map,
 * `isAnomalous(rawScore)`, and `toJSON` / `fromJSON` to ship it with a model. Holds no tensors.
 */
export class ScoreNormalizer {
  private constructor(private readonly state: ScoreNormalizerJSON) {}

  static fit(normalImageScores: ArrayLike<number>, options: ScoreNormalizerFitOptions = {}): ScoreNormalizer {
    const { mode = 'minmax', thresholdQuantile = 0.99 } = options;
    if (mode !== 'minmax' && mode !== 'zscore') throw new Error(`ScoreNormalizer.fit: mode must be 'minmax' or 'zscore', got ${String(mode)}`);
    if (!(thresholdQuantile >= 0 && thresholdQuantile <= 1)) throw new Error(`ScoreNormalizer.fit: thresholdQuantile must be in [0, 1], got ${thresholdQuantile}`);
    const image = statistics([normalImageScores], 'ScoreNormalizer.fit normal image scores');
    const pixel = options.pixelMaps ? statistics(options.pixelMaps, 'ScoreNormalizer.fit pixel maps') : null;
    const sorted = Float64Array.from(normalImageScores).sort();
    const position = thresholdQuantile * (sorted.length - 1);
    const lower = Math.floor(position);
    const upper = Math.min(lower + 1, sorted.length - 1);
    const threshold = sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    return new ScoreNormalizer({ kind: 'thfr.ScoreNormalizer', version: 1, mode, image, pixel, threshold, thresholdQuantile });
  }

  static fromJSON(json: unknown): ScoreNormalizer {
    const s = json as Partial<ScoreNormalizerJSON> | null;
    const isStats = (x: unknown) => x != null && ['count', 'min', 'max', 'mean', 'std'].every((k) => typeof (x as Record<string, unknown>)[k] === 'number');
    if (s?.kind !== 'thfr.ScoreNormalizer' || s.version !== 1 || (s.mode !== 'minmax' && s.mode !== 'zscore') || !isStats(s.image) || !(s.pixel === null || isStats(s.pixel)) || typeof s.threshold !== 'number' || typeof s.thresholdQuantile !== 'number') {
      throw new Error(`ScoreNormalizer.fromJSON: expected {kind: 'thfr.ScoreNormalizer', version: 1, mode, image, pixel, threshold, thresholdQuantile}, got ${JSON.stringify(json)?.slice(0, 200)}`);
    }
    return new ScoreNormalizer({ ...(s as ScoreNormalizerJSON) });
  }

  toJSON(): ScoreNormalizerJSON {
    return structuredClone(this.state);
  }

  get mode(): NormalizationMode {
    return this.state.mode;
  }
  get imageStatistics(): ScoreStatistics {
    return { ...this.state.image };
  }
  get pixelStatistics(): ScoreStatistics | null {
    return this.state.pixel && { ...this.state.pixel };
  }
  /** Raw image-score threshold. */
  get threshold(): number {
    return this.state.threshold;
  }
  /** The threshold on the normalised image-score scale. */
  get normalizedThreshold(): number {
    return this.normalizeImageScore(this.state.threshold);
  }

  isAnomalous(rawImageScore: number): boolean {
    return rawImageScore > this.state.threshold;
  }

  normalizeImageScore(score: number): number {
    const [offset, scale] = this.affine(this.state.image);
    return (score - offset) / scale;
  }

  /** Normalises a map with the pixel statistics (image statistics if no pixel maps were fitted). */
  normalizeMap(map: Float32Array): Float32Array {
    const [offset, scale] = this.affine(this.state.pixel ?? this.state.image);
    const out = new Float32Array(map.length);
    for (let i = 0; i < map.length; i++) out[i] = (map[i] - offset) / scale;
    return out;
  }

  /** As normalizeMap, on a tensor of maps; the caller owns the result. */
  normalizeMapTensor<T extends Tensor>(maps: T): T {
    const [offset, scale] = this.affine(this.state.pixel ?? this.state.image);
    return tf.tidy(() => tf.div(tf.sub(maps, offset), scale) as T);
  }

  private affine(stats: ScoreStatistics): [number, number] {
    const [offset, scale] = this.state.mode === 'minmax' ? [stats.min, stats.max - stats.min] : [stats.mean, stats.std];
    return [offset, scale > 0 ? scale : 1]; // constant normal scores: shift only
  }
}

function statistics(lists: ReadonlyArray<ArrayLike<number>>, what: string): ScoreStatistics {
  let count = 0;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const v = list[i];
      if (!Number.isFinite(v)) throw new Error(`${what}: expected finite values, found ${v} at index ${i}`);
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (count === 0) throw new Error(`${what}: expected at least one score`);
  const mean = sum / count;
  let squares = 0;
  for (const list of lists) for (let i = 0; i < list.length; i++) squares += (list[i] - mean) ** 2;
  return { count, min, max, mean, std: Math.sqrt(squares / count) };
}
