import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import { inputBatch, inputCount, type AnomalyDetector, type DetectorFitOptions, type DetectorFitSummary, type DetectorInput, type DetectorPredictOptions, type FitProgress, type RgbImageLike } from '@thfr/detector';
import { DEFAULT_CONFIG, PAPER_CONFIG, resolveConfig, type ThfrConfig } from './config.js';
import type { Prediction, ThfrModel } from './thfr-model.js';
import { trainThfr, type TrainOptions, type TrainProgress } from './train.js';

/** fit options of a restoration detector: the contract's, plus THFR's checkpoints and resume. */
export interface ThfrFitOptions extends DetectorFitOptions, Pick<TrainOptions, 'onCheckpoint' | 'checkpointEvery' | 'resumeFrom' | 'stopAfterEpochs' | 'onMemoryEstimate'> {
  /** The detailed THFR progress (epoch, loss, speed); onProgress gets the generic form as well. */
  onTrainProgress?: (progress: TrainProgress) => void;
}

export interface ThfrDetectorOptions {
  /** Registry name recorded in saved manifests (default 'thfr'; RD4AD passes 'rd4ad'). */
  method?: string;
  /** Config overrides and the base they apply to (default DEFAULT_CONFIG). */
  config?: Partial<ThfrConfig>;
  baseConfig?: ThfrConfig;
}

/** Named presets of THFR's config. */
export const THFR_PRESETS: Record<string, ThfrConfig> = { default: DEFAULT_CONFIG, paper: PAPER_CONFIG };

/** The detector's summary of a training run. */
export interface ThfrFitSummary extends DetectorFitSummary {
  epochs: number;
  finalLoss: number;
  lossHistory: number[];
}

/**
 * THFR as an AnomalyDetector: created for a backbone and a config, fitted with trainThfr (feature cache,
 * template bank, restoration training, calibration), predicting through ThfrModel. Also the detector of
 * any restoration-network variant (RD4AD is one: @thfr/rd4ad passes its config and method name).
 */
export class ThfrDetector implements AnomalyDetector {
  readonly method: string;
  readonly config: ThfrConfig;
  fitSummary?: ThfrFitSummary;
  private trained?: ThfrModel;

  constructor(readonly backbone: FeatureExtractor, options: ThfrDetectorOptions = {}) {
    this.method = options.method ?? 'thfr';
    this.config = resolveConfig(options.config ?? {}, options.baseConfig ?? DEFAULT_CONFIG);
  }

  /** A detector around a trained or loaded model (which it then owns). */
  static fromModel(model: ThfrModel, method = 'thfr', lossHistory: number[] = []): ThfrDetector {
    const detector = new ThfrDetector(model.backbone, { method, config: model.config, baseConfig: model.config });
    detector.attach(model, lossHistory);
    return detector;
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  get batchSize(): number {
    return this.config.batchSize;
  }

  get fitted(): boolean {
    return this.trained !== undefined;
  }

  /** The trained network, bank and calibration; throws before fit/load. */
  get model(): ThfrModel {
    if (!this.trained) throw new Error(`${this.method}: the detector is not fitted; call fit(images) or load a saved model first`);
    return this.trained;
  }

  async fit(images: DetectorInput, options: ThfrFitOptions = {}): Promise<ThfrFitSummary> {
    const train = await toRgbList(images, this.imageSize);
    const validation = options.validationImages ? await toRgbList(options.validationImages, this.imageSize) : undefined;
    const { model, lossHistory } = await trainThfr(this.backbone, train, {
      config: this.config, baseConfig: this.config, validationImages: validation, signal: options.signal,
      onCheckpoint: options.onCheckpoint, checkpointEvery: options.checkpointEvery, resumeFrom: options.resumeFrom,
      stopAfterEpochs: options.stopAfterEpochs, onMemoryEstimate: options.onMemoryEstimate,
      onProgress: (p) => {
        options.onTrainProgress?.(p);
        options.onProgress?.(genericProgress(p));
      },
    });
    this.attach(model, lossHistory);
    return this.fitSummary!;
  }

  async predict(images: DetectorInput, options: DetectorPredictOptions = {}): Promise<Prediction> {
    return this.model.predict(images, options);
  }

  memoryBytes(): Record<string, number> {
    return this.trained ? this.trained.memoryBytes() : {};
  }

  dispose(): void {
    this.trained?.dispose();
    this.trained = undefined;
  }

  /** Makes a trained or loaded model (of this detector's config) the detector's own; it disposes it later. */
  attach(model: ThfrModel, lossHistory: number[] = []): void {
    if (JSON.stringify(model.config) !== JSON.stringify(this.config)) {
      throw new Error(`${this.method}: the model's config differs from the detector's (${JSON.stringify(model.config)} vs ${JSON.stringify(this.config)})`);
    }
    this.trained?.dispose();
    this.trained = model;
    const t = model.training;
    this.fitSummary = {
      images: t?.images ?? 0, seconds: t?.seconds ?? NaN, backend: t?.backend ?? tf.getBackend(),
      epochs: t?.epochs ?? 0, finalLoss: t?.finalLoss ?? NaN, lossHistory,
    };
  }
}

function genericProgress(p: TrainProgress): FitProgress {
  const detail = p.phase === 'train' ? `epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4)} ${p.imagesPerSecond?.toFixed(1)} img/s` : undefined;
  return { phase: p.phase, done: p.done, total: p.total, detail };
}

/** trainThfr caches features from RGB images; a tensor input is converted back to RGB bytes. */
async function toRgbList(images: DetectorInput, size: number): Promise<readonly RgbImageLike[]> {
  if (Array.isArray(images)) return images as readonly RgbImageLike[];
  const count = inputCount(images);
  const batch = inputBatch(images, 0, count, size, 'ThfrDetector.fit images');
  const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(tf.clipByValue(batch, 0, 1), 255)), 'int32'));
  batch.dispose();
  const data = await bytes.data();
  bytes.dispose();
  const pixels = size * size * 3;
  return Array.from({ length: count }, (_, i) => ({ width: size, height: size, data: Uint8Array.from(data.subarray(i * pixels, (i + 1) * pixels)) }));
}
