import { tf, type Tensor2D, type Tensor3D, type Tensor4D } from '@thfr/tensor';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';
import { gaussianBlur } from '@thfr/postprocess';
import {
  inputBatch, inputCount, predictInBatches, SeededRandom, throwIfAborted,
  type AnomalyDetector, type DetectorFitOptions, type DetectorFitSummary, type DetectorInput, type DetectorPrediction, type DetectorPredictOptions,
} from '@thfr/detector';
import { padimLayers, resolvePadimConfig, type PadimConfig } from './config.js';
import { invertSpdBatch } from './gaussian-stats.js';

export interface PadimFitSummary extends DetectorFitSummary {
  /** Map positions (h * w) and channels per position. */
  positions: number;
  channels: number;
}

/**
 * PaDiM (Defard et al., ICPR 2020 workshops) on thfr's shared parts: backbone levels upsampled to the
 * shallowest one's grid and concatenated, a seeded random subset of channels, and per map position a
 * multivariate Gaussian (mean, covariance + epsilon I) of the normal images' features. The anomaly map
 * is the Mahalanobis distance of each position to its Gaussian, upsampled and blurred; score = its max.
 */
export class Padim implements AnomalyDetector {
  readonly method = 'padim';
  readonly config: PadimConfig;
  readonly layers: number[];
  /** The kept channels of the concatenated features, ascending. */
  readonly channels: Int32Array;
  fitSummary?: PadimFitSummary;
  private mean?: Tensor2D; // [P, d]
  private precision?: tf.Tensor3D; // [P, d, d]
  private gridSize?: [number, number];

  constructor(readonly backbone: FeatureExtractor, config: Partial<PadimConfig> = {}, channels?: Int32Array) {
    this.config = resolvePadimConfig(config);
    this.layers = padimLayers(backbone.levels, this.config.layers);
    const total = this.layers.reduce((s, l) => s + backbone.levels[l].channels, 0);
    const d = Math.min(this.config.channels, total);
    this.channels = channels ?? new SeededRandom(this.config.seed).permutation(total).slice(0, d).sort();
  }

  get imageSize(): number { return this.config.imageSize; }
  get batchSize(): number { return this.config.batchSize; }
  get fitted(): boolean { return this.mean !== undefined; }
  get grid(): [number, number] | undefined { return this.gridSize; }

  /**
   * Per-position features [B, P, d] of a batch [B, size, size, 3] (the caller owns them). Async so that backbones
   * that only run asynchronously (onnxruntime) serve too (`extractFeatures`).
   */
  async embed(images: Tensor4D): Promise<tf.Tensor3D> {
    const levels = await extractFeatures(this.backbone, images);
    try {
      return tf.tidy(() => {
        const [b, h, w] = levels[this.layers[0]].shape;
        this.gridSize = [h, w];
        const parts = this.layers.map((l) => (levels[l].shape[1] === h ? levels[l] : tf.image.resizeNearestNeighbor(levels[l], [h, w])));
        const all = tf.concat(parts, 3);
        return tf.reshape(tf.gather(all, tf.tensor1d(this.channels, 'int32'), 3), [b, h * w, this.channels.length]) as tf.Tensor3D;
      });
    } finally {
      tf.dispose(levels);
    }
  }

  async fit(images: DetectorInput, options: DetectorFitOptions = {}): Promise<PadimFitSummary> {
    const count = inputCount(images);
    if (count < 2) throw new Error(`PaDiM.fit: need at least 2 normal images for a covariance, got ${count}`);
    const started = performance.now();
    let sum: tf.Tensor2D | undefined; // [P, d]
    let outer: tf.Tensor3D | undefined; // [P, d, d]
    try {
      for (let start = 0; start < count; start += this.config.batchSize) {
        throwIfAborted(options.signal);
        const end = Math.min(count, start + this.config.batchSize);
        const batch = inputBatch(images, start, end, this.imageSize, 'PaDiM.fit images');
        let x: tf.Tensor3D;
        try {
          x = await this.embed(batch);
        } finally {
          batch.dispose();
        }
        const [s, o] = tf.tidy(() => {
          const byPosition = tf.transpose(x, [1, 0, 2]); // [P, B, d]
          return [tf.sum(x, 0) as Tensor2D, tf.matMul(byPosition, byPosition, true, false) as tf.Tensor3D];
        });
        x.dispose();
        const [nextSum, nextOuter] = [sum ? tf.add(sum, s) as Tensor2D : s, outer ? tf.add(outer, o) as tf.Tensor3D : o];
        if (sum) tf.dispose([sum, s]);
        if (outer) tf.dispose([outer, o]);
        [sum, outer] = [nextSum, nextOuter];
        await sum.data(); // lets a GPU backend finish the batch before the next one is queued
        options.onProgress?.({ phase: 'features', done: end, total: count });
      }
      const d = this.channels.length;
      const mean = tf.div(sum!, count) as Tensor2D;
      const covariance = tf.tidy(() => {
        const m = tf.expandDims(mean, 2); // [P, d, 1]
        const centred = tf.sub(outer!, tf.mul(tf.matMul(m, m, false, true), count));
        return tf.add(tf.div(centred, count - 1), tf.mul(tf.eye(d), this.config.epsilon)) as tf.Tensor3D;
      });
      const positions = mean.shape[0];
      options.onProgress?.({ phase: 'covariance', done: 0, total: positions });
      const inverse = invertSpdBatch((await covariance.data()) as Float32Array, positions, d);
      covariance.dispose();
      this.setStatistics(mean, tf.tensor3d(inverse, [positions, d, d]), this.gridSize!);
      options.onProgress?.({ phase: 'covariance', done: positions, total: positions });
      this.fitSummary = { images: count, seconds: (performance.now() - started) / 1000, backend: tf.getBackend(), positions, channels: d };
      return this.fitSummary;
    } finally {
      tf.dispose([sum ?? [], outer ?? []]);
    }
  }

  /** Installs fitted or loaded statistics (takes ownership): mean [P, d], precision [P, d, d]. */
  setStatistics(mean: Tensor2D, precision: tf.Tensor3D, grid: [number, number]): void {
    const d = this.channels.length;
    if (mean.shape[1] !== d || precision.shape[1] !== d || precision.shape[0] !== mean.shape[0] || mean.shape[0] !== grid[0] * grid[1]) {
      tf.dispose([mean, precision]);
      throw new Error(`PaDiM statistics: expected mean [${grid[0] * grid[1]}, ${d}] and precision [P, ${d}, ${d}], got [${mean.shape}] and [${precision.shape}]`);
    }
    this.disposeStatistics();
    [this.mean, this.precision, this.gridSize] = [mean, precision, grid];
  }

  get statistics(): { mean: Tensor2D; precision: tf.Tensor3D; grid: [number, number] } | undefined {
    return this.mean && this.precision ? { mean: this.mean, precision: this.precision, grid: this.gridSize! } : undefined;
  }

  async predict(images: DetectorInput, options: DetectorPredictOptions = {}): Promise<DetectorPrediction> {
    if (!this.mean || !this.precision) throw new Error('PaDiM: not fitted; call fit(images) or load a saved model first');
    const [mean, precision] = [this.mean, this.precision];
    return predictInBatches(images, async (batch) => {
      const x = await this.embed(batch);
      const [h, w] = this.gridSize!;
      const size = this.imageSize;
      return tf.tidy(() => {
        const diff = tf.transpose(tf.sub(x, mean), [1, 0, 2]); // [P, B, d]
        const squared = tf.sum(tf.mul(tf.matMul(diff, precision), diff), 2); // [P, B]
        const distance = tf.reshape(tf.transpose(tf.sqrt(tf.relu(squared))), [batch.shape[0], h, w, 1]) as Tensor4D;
        const up = tf.squeeze(tf.image.resizeBilinear(distance, [size, size], false, true), [3]) as Tensor3D;
        const map = gaussianBlur(up, this.config.sigma, 'PaDiM distance map');
        x.dispose();
        return { map, scores: tf.max(map, [1, 2]) };
      });
    }, { batchSize: options.batchSize ?? this.batchSize, size: this.imageSize, who: 'PaDiM.predict images', onProgress: options.onProgress, signal: options.signal });
  }

  memoryBytes(): Record<string, number> {
    return { mean: (this.mean?.size ?? 0) * 4, precision: (this.precision?.size ?? 0) * 4 };
  }

  dispose(): void {
    this.disposeStatistics();
  }

  private disposeStatistics(): void {
    tf.dispose([this.mean ?? [], this.precision ?? []]);
    this.mean = undefined;
    this.precision = undefined;
  }
}
