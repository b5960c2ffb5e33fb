import { tf, takeRows, type Tensor1D, type Tensor2D, type Tensor3D, type Tensor4D } from '@thfr/tensor';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';
import { greedyKCenter, NearestNeighborIndex } from '@thfr/template-bank';
import { gaussianBlur } from '@thfr/postprocess';
import {
  inputBatch, inputCount, predictInBatches, throwIfAborted,
  type AnomalyDetector, type DetectorFitOptions, type DetectorFitSummary, type DetectorInput, type DetectorPrediction, type DetectorPredictOptions,
} from '@thfr/detector';
import { resolvePatchCoreConfig, selectLayers, type PatchCoreConfig } from './config.js';
import { patchEmbedding, reductionMatrix } from './patch-features.js';

/** Anomaly maps and image scores (max of the smoothed map, or PatchCore's reweighted score), read back to plain arrays. */
export type PatchCorePrediction = DetectorPrediction;

export type PatchCorePhase = 'features' | 'coreset';

export interface PatchCoreProgress {
  phase: PatchCorePhase;
  done: number;
  total: number;
}

export interface FitOptions extends Omit<DetectorFitOptions, 'onProgress'> {
  onProgress?: (progress: PatchCoreProgress) => void;
}

export interface PatchCoreFitSummary extends DetectorFitSummary {
  images: number;
  /** Training patches before subsampling. */
  patches: number;
  /** Patches kept in the memory bank = ceil(coresetRatio * patches). */
  bankSize: number;
  featureSeconds: number;
  coresetSeconds: number;
  seconds: number;
  backend: string;
}

/** Number of patches the coreset keeps: ceil(ratio * n), with an epsilon so 0.1 * 30 stays 3. */
export function coresetSize(ratio: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(ratio * n - 1e-9)));
}

/**
 * PatchCore (Roth et al., CVPR 2022) on a frozen thfr backbone: locally aware patch features of two
 * levels, a greedy k-center coreset memory bank, and euclidean nearest-neighbour patch scores upsampled
 * to an anomaly map. `fit` builds the bank from normal images (it can be called again to refit);
 * `predict` needs a fitted bank. `dispose` releases the bank but not the backbone, which the caller
 * passed in and may share.
 */
export class PatchCore implements AnomalyDetector {
  readonly method = 'patchcore';
  readonly config: PatchCoreConfig;
  /** Backbone level indices in use (resolved from config.layers). */
  readonly layers: number[];
  /** Channels of the concatenated features before reduction, and after. */
  readonly inputDim: number;
  readonly featureDim: number;
  fitSummary?: PatchCoreFitSummary;
  private reduction: Tensor2D | null;
  private bankTensor?: Tensor2D;
  private index?: NearestNeighborIndex;

  constructor(readonly backbone: FeatureExtractor, config: Partial<PatchCoreConfig> = {}) {
    this.config = resolvePatchCoreConfig(config);
    this.layers = selectLayers(backbone.levels, this.config.layers);
    this.inputDim = this.layers.reduce((s, l) => s + backbone.levels[l].channels, 0);
    this.reduction = reductionMatrix(this.inputDim, this.config.targetDim, this.config.reduction, this.config.seed);
    this.featureDim = this.reduction ? this.reduction.shape[1] : this.inputDim;
  }

  /** The memory bank [M, d] (owned by this object; do not dispose), undefined before fit/load. */
  get memoryBank(): Tensor2D | undefined {
    return this.bankTensor;
  }

  get isFitted(): boolean {
    return this.bankTensor !== undefined;
  }

  get fitted(): boolean {
    return this.isFitted;
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  get batchSize(): number {
    return this.config.batchSize;
  }

  /**
   * Patch features [B*h*w, d] of a batch of images [B, size, size, 3] in [0, 1]; the caller owns them. Async so
   * that backbones that only run asynchronously (onnxruntime) serve too (`extractFeatures`).
   */
  async embed(images: Tensor4D): Promise<{ features: Tensor2D; grid: [number, number] }> {
    const size = this.config.imageSize;
    if (images.shape.length !== 4 || images.shape[1] !== size || images.shape[2] !== size || images.shape[3] !== 3) {
      throw new Error(`PatchCore: images must be [B, ${size}, ${size}, 3] (the config's imageSize), got [${images.shape.join(', ')}]; pass RGB images to fit/predict to have them resized`);
    }
    const levels = await extractFeatures(this.backbone, images);
    try {
      return patchEmbedding(this.layers.map((l) => levels[l]), this.config.neighborhood, this.reduction);
    } finally {
      tf.dispose(levels);
    }
  }

  /** Builds the memory bank from normal images: all their patch features, greedy k-center subsampled. */
  async fit(images: DetectorInput, options: FitOptions = {}): Promise<PatchCoreFitSummary> {
    const count = inputCount(images);
    if (count < 1) throw new Error('PatchCore.fit: no training images given');
    const progress = options.onProgress ?? (() => {});
    const started = performance.now();
    const parts: Tensor2D[] = [];
    let all: Tensor2D | undefined;
    try {
      for (let start = 0; start < count; start += this.config.batchSize) {
        throwIfAborted(options.signal);
        const end = Math.min(count, start + this.config.batchSize);
        const batch = inputBatch(images, start, end, this.config.imageSize, 'PatchCore.fit images');
        try {
          parts.push((await this.embed(batch)).features);
        } finally {
          batch.dispose();
        }
        // Reading back lets a GPU backend finish the batch before the next one is queued.
        await parts[parts.length - 1].data();
        progress({ phase: 'features', done: end, total: count });
      }
      all = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as Tensor2D);
      if (parts.length > 1) tf.dispose(parts);
      parts.length = 0;
      const featureSeconds = (performance.now() - started) / 1000;
      const patches = all.shape[0];
      const keep = coresetSize(this.config.coresetRatio, patches);
      const coresetStart = performance.now();
      let bank: Tensor2D;
      if (keep === patches) {
        bank = all;
        all = undefined;
      } else {
        const every = Math.max(1, Math.floor(keep / 20));
        const selected = await greedyKCenter(all, keep, {
          projectionDim: this.config.coresetProjectionDim,
          seed: this.config.seed,
          signal: options.signal,
          onProgress: (done, total) => { if (done % every === 0 || done === total) progress({ phase: 'coreset', done, total }); },
        });
        bank = takeRows(all, selected);
      }
      this.setBank(bank);
      const now = performance.now();
      this.fitSummary = {
        images: count, patches, bankSize: keep, featureSeconds, coresetSeconds: (now - coresetStart) / 1000,
        seconds: (now - started) / 1000, backend: tf.getBackend(),
      };
      return this.fitSummary;
    } finally {
      tf.dispose(parts);
      all?.dispose();
    }
  }

  /** Replaces the memory bank [M, d] (takes ownership). Used by fit and by loaders. */
  setBank(bank: Tensor2D): void {
    if (bank.shape.length !== 2 || bank.shape[1] !== this.featureDim) {
      bank.dispose();
      throw new Error(`PatchCore memory bank: expected [M, ${this.featureDim}] (the patch feature dim), got [${bank.shape.join(', ')}]`);
    }
    this.index?.dispose();
    this.bankTensor?.dispose();
    this.bankTensor = bank;
    this.index = new NearestNeighborIndex(bank, { metric: 'euclidean' });
  }

  /**
   * Runs one batch [B, size, size, 3] and returns the smoothed maps [B, size, size] and image scores [B]
   * as tensors (the caller owns both).
   */
  async predictTensors(images: Tensor4D): Promise<{ map: Tensor3D; scores: Tensor1D }> {
    const index = this.requireIndex();
    const batch = images.shape[0];
    const size = this.config.imageSize;
    const { features, grid } = await this.embed(images);
    let nearest;
    try {
      nearest = await index.query(features, 1);
    } catch (error) {
      features.dispose();
      throw error;
    }
    const [h, w] = grid;
    let reweighted: Float32Array | undefined;
    try {
      if (this.config.imageScore === 'reweighted') reweighted = await this.reweightedScores(features, nearest, batch, h * w);
    } finally {
      features.dispose();
    }
    return tf.tidy(() => {
      const patchScores = tf.tensor4d(nearest.distances, [batch, h, w, 1]);
      const upsampled = tf.image.resizeBilinear(patchScores, [size, size], false, true);
      const map = gaussianBlur(tf.squeeze(upsampled, [3]) as Tensor3D, this.config.sigma, 'PatchCore patch scores');
      const scores = reweighted ? tf.tensor1d(reweighted) : (tf.max(map, [1, 2]) as Tensor1D);
      return { map, scores };
    });
  }

  /** Anomaly maps and scores for RGB images (resized to imageSize) or a [B, size, size, 3] tensor in [0, 1]. */
  async predict(images: DetectorInput, options: DetectorPredictOptions = {}): Promise<PatchCorePrediction> {
    this.requireIndex();
    return predictInBatches(images, (batch) => this.predictTensors(batch), {
      batchSize: options.batchSize ?? this.config.batchSize, size: this.config.imageSize, who: 'PatchCore.predict images', onProgress: options.onProgress, signal: options.signal,
    });
  }

  /** Bytes held by the memory bank (its prepared search index included) and the reduction matrix. */
  memoryBytes(): { bank: number; reduction: number } {
    return { bank: (this.bankTensor?.size ?? 0) * 4 + (this.index?.memoryBytes() ?? 0), reduction: (this.reduction?.size ?? 0) * 4 };
  }

  dispose(): void {
    this.index?.dispose();
    this.bankTensor?.dispose();
    this.reduction?.dispose();
    this.index = undefined;
    this.bankTensor = undefined;
    this.reduction = null;
  }

  /**
   * PatchCore eq. 7 (as anomalib): for the patch m_test with the largest nearest-neighbour distance s*
   * and its nearest bank patch m*, s = (1 - softmax(||m_test - m_j||)_0) * s*, where m_0 = m* and
   * m_1.. are m*'s nearest bank patches (b = reweightNeighbors in all, m* included).
   */
  private async reweightedScores(features: Tensor2D, nearest: { indices: Int32Array; distances: Float32Array }, batch: number, perImage: number): Promise<Float32Array> {
    const index = this.requireIndex();
    const bank = this.bankTensor!;
    const b = Math.min(this.config.reweightNeighbors, index.size);
    const worst = new Int32Array(batch);
    const scores = new Float32Array(batch);
    for (let i = 0; i < batch; i++) {
      let best = i * perImage;
      for (let p = i * perImage; p < (i + 1) * perImage; p++) if (nearest.distances[p] > nearest.distances[best]) best = p;
      worst[i] = best;
      scores[i] = nearest.distances[best];
    }
    const rows: Tensor2D[] = [];
    try {
      const queries = takeRows(features, worst);
      rows.push(queries);
      const centres = takeRows(bank, Int32Array.from(worst, (p) => nearest.indices[p]));
      rows.push(centres);
      const support = await index.query(centres, b);
      const supportRows = takeRows(bank, support.indices);
      rows.push(supportRows);
      const [q, s] = await Promise.all([queries.data(), supportRows.data()]);
      const dim = this.featureDim;
      for (let i = 0; i < batch; i++) {
        const distances = Array.from({ length: b }, (_, j) => {
          let sq = 0;
          for (let c = 0; c < dim; c++) {
            const diff = q[i * dim + c] - s[(i * b + j) * dim + c];
            sq += diff * diff;
          }
          return Math.sqrt(sq);
        });
        const top = Math.max(...distances);
        const exps = distances.map((d) => Math.exp(d - top));
        const weight = 1 - exps[0] / exps.reduce((a, e) => a + e, 0);
        scores[i] *= weight;
      }
      return scores;
    } finally {
      tf.dispose(rows);
    }
  }

  private requireIndex(): NearestNeighborIndex {
    if (!this.index) throw new Error('PatchCore: no memory bank; call fit(images) or load a saved model first');
    return this.index;
  }
}
