import type { FeatureExtractor } from '@thfr/backbone';
import type { RgbImageLike } from '@thfr/detector';
import { RestorationDetector, type TrainResult } from '@thfr/restoration';
import { RD4AD_DEFAULT_CONFIG, resolveRd4adConfig, type Rd4adConfig } from './config.js';
import type { Rd4adModel } from './rd4ad-model.js';
import { trainRd4ad, type Rd4adTrainOptions } from './train.js';

/** RD4AD as an AnomalyDetector (@thfr/detector): fitted by trainRd4ad, predicting through Rd4adModel; manifests say method 'rd4ad'. */
export class Rd4adDetector extends RestorationDetector<Rd4adConfig, Rd4adModel> {
  constructor(backbone: FeatureExtractor, options: { config?: Partial<Rd4adConfig>; baseConfig?: Rd4adConfig } = {}) {
    super(backbone, 'rd4ad', resolveRd4adConfig(options.config, options.baseConfig ?? RD4AD_DEFAULT_CONFIG));
  }

  /** A detector around a trained or loaded model (which it then owns). */
  static fromModel(model: Rd4adModel, lossHistory: number[] = []): Rd4adDetector {
    const detector = new Rd4adDetector(model.backbone, { baseConfig: model.config });
    detector.attach(model, lossHistory);
    return detector;
  }

  protected train(images: readonly RgbImageLike[], options: Rd4adTrainOptions): Promise<TrainResult<Rd4adModel>> {
    return trainRd4ad(this.backbone, images, options);
  }
}
