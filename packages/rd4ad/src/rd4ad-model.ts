import type { FeatureExtractor } from '@thfr/backbone';
import { RestorationModel, type LevelGeometry, type NormalStatistics, type TrainingSummary } from '@thfr/restoration';
import type { Rd4adConfig } from './config.js';
import type { Rd4adNetwork } from './network.js';

/**
 * A trained RD4AD: frozen backbone (the teacher) -> Rd4adNetwork (OCBE + decoder, the student) -> per-level
 * 1 - cosine between teacher and student features, upsampled, summed, Gaussian sigma, image score = max of the
 * map (RD4AD's `cal_anomaly_map` + `gaussian_filter`). `dispose` releases the network, not the backbone.
 */
export class Rd4adModel extends RestorationModel<Rd4adConfig> {
  declare readonly network: Rd4adNetwork;

  constructor(config: Rd4adConfig, backbone: FeatureExtractor, levels: LevelGeometry[], network: Rd4adNetwork, normalStatistics?: NormalStatistics, training?: TrainingSummary) {
    super(config, backbone, levels, network, 'Rd4adModel');
    this.normalStatistics = normalStatistics;
    this.training = training;
  }
}
