import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import { inputBatch, inputCount, type AnomalyDetector, type DetectorFitOptions, type DetectorFitSummary, type DetectorInput, type DetectorPredictOptions, type FitProgress, type RgbImageLike } from '@thfr/detector';
import type { RestorationConfig } from './config.js';
import type { TrainProgress } from './optimise.js';
import type { RestorationModel } from './restoration-model.js';
import type { RestorationTrainOptions, TrainResult } from './training-phases.js';

/** fit options of a restoration detector: the contract's, plus checkpoints, resume and the detailed progress. */
export interface RestorationFitOptions<C extends RestorationConfig = RestorationConfig> extends DetectorFitOptions, Pick<RestorationTrainOptions<C>, 'onCheckpoint' | 'checkpointEvery' | 'resumeFrom' | 'stopAfterEpochs' | 'onMemoryEstimate'> {
  /** The detailed training progress (epoch, loss, speed); onProgress gets the generic form as well. */
  onTrainProgress?: (progress: TrainProgress) => void;
}

/** The detector's summary of a training run. */
export interface RestorationFitSummary extends DetectorFitSummary {
  epochs: number;
  finalLoss: number;
  lossHistory: number[];
}

/**
 * A feature-restoration method as an AnomalyDetector (@thfr/detector): created for a backbone and a config,
 * fitted by the method's trainer, predicting through its model. THFR and RD4AD subclass it with their
 * trainer and config.
 */
export abstract class RestorationDetector<C extends RestorationConfig, M extends RestorationModel<C>> implements AnomalyDetector {
  fitSummary?: RestorationFitSummary;
  private trained?: M;
  private settings: C;

  /** `requested`: the config every fit starts from (a refit on other data settles its choices afresh). */
  protected constructor(readonly backbone: FeatureExtractor, readonly method: string, private readonly requested: C) {
    this.settings = requested;
  }

  /**
   * The config the detector was created with, and after `fit` the trained model's: a trainer may settle a
   * data-dependent choice (THFR turns its template compensation off on a texture, `templateMinAlignment`).
   */
  get config(): C {
    return this.settings;
  }

  /** The method's trainer (trainThfr, trainRd4ad) for this detector's config. */
  protected abstract train(images: readonly RgbImageLike[], options: RestorationTrainOptions<C>): Promise<TrainResult<M>>;

  get imageSize(): number {
    return this.config.imageSize;
  }

  get batchSize(): number {
    return this.config.batchSize;
  }

  get fitted(): boolean {
    return this.trained !== undefined;
  }

  /** The trained network (and the method's extras) with its calibration; throws before fit/load. */
  get model(): M {
    if (!this.trained) throw new Error(`${this.method}: the detector is not fitted; call fit(images) or load a saved model first`);
    return this.trained;
  }

  async fit(images: DetectorInput, options: RestorationFitOptions<C> = {}): Promise<RestorationFitSummary> {
    const train = await toRgbList(images, this.imageSize, `${this.method} fit images`);
    const validation = options.validationImages ? await toRgbList(options.validationImages, this.imageSize, `${this.method} validation images`) : undefined;
    const { model, lossHistory } = await this.train(train, {
      config: this.requested, baseConfig: this.requested, validationImages: validation, signal: options.signal,
      onCheckpoint: options.onCheckpoint, checkpointEvery: options.checkpointEvery, resumeFrom: options.resumeFrom,
      stopAfterEpochs: options.stopAfterEpochs, onMemoryEstimate: options.onMemoryEstimate,
      onProgress: (p) => {
        options.onTrainProgress?.(p);
        options.onProgress?.(genericProgress(p));
      },
    });
    this.settings = model.config;
    this.attach(model, lossHistory);
    return this.fitSummary!;
  }

  async predict(images: DetectorInput, options: DetectorPredictOptions = {}): Promise<Awaited<ReturnType<M['predict']>>> {
    return this.model.predict(images, options) as Promise<Awaited<ReturnType<M['predict']>>>;
  }

  memoryBytes(): Record<string, number> {
    return this.trained ? this.trained.memoryBytes() : {};
  }

  dispose(): void {
    this.trained?.dispose();
    this.trained = undefined;
  }

  /** Makes a trained or loaded model (of this detector's config) the detector's own; it disposes it later. */
  attach(model: M, lossHistory: number[] = []): void {
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
  const detail = p.phase === 'train' ? `epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4)} ${p.imagesPerSecond?.toFixed(1)} img/s` : p.detail;
  return { phase: p.phase, done: p.done, total: p.total, detail };
}

/** Trainers cache features from RGB images; a tensor input is converted back to RGB bytes. */
async function toRgbList(images: DetectorInput, size: number, what: string): Promise<readonly RgbImageLike[]> {
  if (Array.isArray(images)) return images as readonly RgbImageLike[];
  const count = inputCount(images);
  const batch = inputBatch(images, 0, count, size, what);
  const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(tf.clipByValue(batch, 0, 1), 255)), 'int32'));
  batch.dispose();
  const data = await bytes.data();
  bytes.dispose();
  const pixels = size * size * 3;
  return Array.from({ length: count }, (_, i) => ({ width: size, height: size, data: Uint8Array.from(data.subarray(i * pixels, (i + 1) * pixels)) }));
}
