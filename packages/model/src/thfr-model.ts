import { tf } from '@thfr/tensor';
import type { Disposable } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import type { TemplateBank } from '@thfr/template-bank';
import { anomalyMap } from '@thfr/postprocess';
import type { ThfrConfig } from './config.js';
import type { LevelGeometry, ThfrNetwork } from './network.js';
import { predictInBatches, type DetectorInput, type DetectorPrediction } from '@thfr/detector';
import type { NormalStatistics } from './calibration.js';

/**
 * Anomaly maps and image scores of a batch, read back to plain arrays (image score = max of the smoothed
 * map, paper eq. 5 + Gaussian). extras[i].template is the bank index of image i's template (-1 without).
 */
export interface Prediction extends DetectorPrediction {
  /** Index (in the bank) of the template used for each image; -1 without templates. */
  templateIndices: Int32Array;
}

/** The same, as tensors (for callers that keep working on the device, e.g. to draw in a browser). */
export interface PredictionTensors {
  map: tf.Tensor3D;
  scores: tf.Tensor1D;
  levelMaps: tf.Tensor3D[];
  templateIndices: Int32Array;
}

export interface PredictOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Per image, a bank index that must not be used as its template (leave-one-out on training images). */
  excludeTemplates?: Array<number | undefined>;
}

export interface TrainingSummary {
  epochs: number;
  images: number;
  finalLoss: number;
  seconds: number;
  backend: string;
}

/**
 * A trained THFR detector: frozen backbone + template bank + restoration network. `predict` returns
 * anomaly maps at the configured size and image scores; `dispose` releases everything but the
 * backbone, which the caller passed in and may share.
 */
export class ThfrModel implements Disposable {
  constructor(
    readonly config: ThfrConfig,
    readonly backbone: FeatureExtractor,
    readonly levels: LevelGeometry[],
    readonly network: ThfrNetwork,
    readonly bank: TemplateBank | undefined,
    public normalStatistics?: NormalStatistics,
    public training?: TrainingSummary,
  ) {
    network.eval();
  }

  /**
   * Runs one batch and returns tensors (the caller owns `map`, `scores` and `levelMaps`). The template
   * search is read back asynchronously, so it runs on every backend (WebGPU in Node included).
   */
  async predictTensors(images: tf.Tensor4D, options: Pick<PredictOptions, 'excludeTemplates'> = {}): Promise<PredictionTensors> {
    this.checkSize(images);
    const features = this.backbone.extract(images);
    try {
      const found = this.config.template ? (await this.bankOrThrow().search(features[features.length - 1], { topN: 1, exclude: options.excludeTemplates })).indices : [];
      return this.restore(features, found);
    } finally {
      tf.dispose(features);
    }
  }

  private bankOrThrow(): TemplateBank {
    if (!this.bank) throw new Error('ThfrModel: this model uses templates but has no template bank');
    return this.bank;
  }

  private checkSize(images: tf.Tensor4D): void {
    const size = this.config.imageSize;
    if (images.shape[1] !== size || images.shape[2] !== size) {
      throw new Error(`ThfrModel.predict: images must be ${size}x${size} (the model's imageSize), got ${images.shape[1]}x${images.shape[2]}; use imagesToTensor() to resize`);
    }
  }

  /** Template gather -> restoration -> anomaly map, from the backbone features and the found templates. */
  private restore(features: tf.Tensor4D[], found: Int32Array[]): PredictionTensors {
    let templateIndices = new Int32Array(features[0].shape[0]).fill(-1);
    let template: tf.Tensor4D | undefined;
    try {
      if (this.config.template) {
        templateIndices = Int32Array.from(found, (candidates) => candidates[0]);
        [template] = this.bankOrThrow().gather(templateIndices);
      }
      const restored = this.network.forward(features, template);
      let result: ReturnType<typeof anomalyMap>;
      try {
        result = anomalyMap(features, restored, { outputSize: this.config.imageSize, sigma: this.config.sigma });
      } finally {
        tf.dispose(restored);
      }
      return { map: result.map as tf.Tensor3D, scores: result.scores as tf.Tensor1D, levelMaps: result.levelMaps as tf.Tensor3D[], templateIndices };
    } finally {
      template?.dispose();
    }
  }

  /** Anomaly maps and scores for images (RGB images of any size, or a [B, size, size, 3] tensor in [0, 1]). */
  async predict(images: DetectorInput, options: PredictOptions = {}): Promise<Prediction> {
    if (!Array.isArray(images)) this.checkSize(images as tf.Tensor4D);
    const prediction = await predictInBatches(images, async (batch, start, end) => {
      const out = await this.predictTensors(batch, { excludeTemplates: options.excludeTemplates?.slice(start, end) });
      return { map: out.map, scores: out.scores, dispose: out.levelMaps, extras: Array.from(out.templateIndices, (template) => ({ template })) };
    }, { batchSize: options.batchSize ?? this.config.batchSize, size: this.config.imageSize, who: 'ThfrModel.predict images', onProgress: options.onProgress, signal: options.signal });
    return { ...prediction, templateIndices: Int32Array.from(prediction.extras, (e) => e.template as number) };
  }

  /** Score relative to normal images: 0 at their mean, 1 at the calibrated threshold. */
  normalizeScore(score: number): number {
    const stats = this.normalStatistics;
    if (!stats) throw new Error('ThfrModel: no normal statistics (train with calibration or load a calibrated model)');
    const span = stats.threshold - stats.imageScore.mean;
    return span > 0 ? (score - stats.imageScore.mean) / span : score - stats.imageScore.mean;
  }

  /** Bytes held by the bank and the network's weights. */
  memoryBytes(): { network: number; bank: number } {
    return { network: this.network.parameterCount() * 4 + this.network.namedBuffers().reduce((s, [, v]) => s + v.size * 4, 0), bank: this.bank?.memoryBytes() ?? 0 };
  }

  dispose(): void {
    this.network.dispose();
    this.bank?.dispose();
  }
}
