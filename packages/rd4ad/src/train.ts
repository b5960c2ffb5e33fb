import type { FeatureExtractor } from '@thfr/backbone';
import type { RgbImageLike } from '@thfr/detector';
import { finishTraining, optimiseRestoration, prepareTraining, type RestorationTrainOptions, type TrainingCheckpoint, type TrainResult } from '@thfr/restoration';
import { resolveRd4adConfig, type Rd4adConfig } from './config.js';
import { Rd4adNetwork } from './network.js';
import { Rd4adModel } from './rd4ad-model.js';

/** trainRd4ad's options: @thfr/restoration's trainer options for an RD4AD config. */
export type Rd4adTrainOptions = RestorationTrainOptions<Rd4adConfig>;
export type Rd4adCheckpoint = TrainingCheckpoint<Rd4adConfig>;

/**
 * Trains RD4AD on normal images with @thfr/restoration's phases: prepare (levels, network, memory check,
 * feature cache: the frozen teacher runs once), optimise (Adam on the restoration loss, checkpoints, resume,
 * abort) and calibration on validation images or the training images. Returns the model and per-epoch losses.
 */
export async function trainRd4ad(backbone: FeatureExtractor, images: readonly RgbImageLike[], options: Rd4adTrainOptions = {}): Promise<TrainResult<Rd4adModel>> {
  const config = resolveRd4adConfig(options.config, options.baseConfig);
  const started = performance.now();
  const { levels, network, cache } = await prepareTraining('trainRd4ad', backbone, images, config, (l, c) => new Rd4adNetwork(l, c), options);
  let ownedNetwork: Rd4adNetwork | undefined = network;
  try {
    const { lossHistory, epochs } = await optimiseRestoration({ ...options, network, cache, config });
    const model = new Rd4adModel(config, backbone, levels, network);
    ownedNetwork = undefined;
    await finishTraining(model, images, options, { epochs, lossHistory, started });
    return { model, lossHistory };
  } finally {
    cache.dispose();
    ownedNetwork?.dispose();
  }
}
