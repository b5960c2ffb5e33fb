import type { FeatureExtractor } from '@thfr/backbone';
import type { RgbImageLike } from '@thfr/detector';
import { RestorationDetector, type RestorationFitOptions, type RestorationFitSummary } from '@thfr/restoration';
import { DEFAULT_CONFIG, FAST_CONFIG, PAPER_CONFIG, resolveConfig, type ThfrConfig } from './config.js';
import type { ThfrModel } from './thfr-model.js';
import { trainThfr, type TrainOptions, type TrainResult } from './train.js';

/** fit options of THFR: the contract's, plus checkpoints, resume and the detailed training progress. */
export type ThfrFitOptions = RestorationFitOptions<ThfrConfig>;

/** The detector's summary of a training run. */
export type ThfrFitSummary = RestorationFitSummary;

export interface ThfrDetectorOptions {
  /** Registry name recorded in saved manifests (default 'thfr'). */
  method?: string;
  /** Config overrides and the base they apply to (default DEFAULT_CONFIG). */
  config?: Partial<ThfrConfig>;
  baseConfig?: ThfrConfig;
}

/** Named presets of THFR's config. */
export const THFR_PRESETS: Record<string, ThfrConfig> = { default: DEFAULT_CONFIG, fast: FAST_CONFIG, paper: PAPER_CONFIG };

/**
 * THFR as an AnomalyDetector: created for a backbone and a config, fitted with trainThfr (feature cache,
 * template bank, restoration training, calibration), predicting through ThfrModel.
 */
export class ThfrDetector extends RestorationDetector<ThfrConfig, ThfrModel> {
  constructor(backbone: FeatureExtractor, options: ThfrDetectorOptions = {}) {
    super(backbone, options.method ?? 'thfr', resolveConfig(options.config ?? {}, options.baseConfig ?? DEFAULT_CONFIG));
  }

  /** A detector around a trained or loaded model (which it then owns). */
  static fromModel(model: ThfrModel, method = 'thfr', lossHistory: number[] = []): ThfrDetector {
    const detector = new ThfrDetector(model.backbone, { method, config: model.config, baseConfig: model.config });
    detector.attach(model, lossHistory);
    return detector;
  }

  protected train(images: readonly RgbImageLike[], options: TrainOptions): Promise<TrainResult> {
    return trainThfr(this.backbone, images, options);
  }
}
