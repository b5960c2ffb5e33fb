import type { FeatureExtractor } from '@thfr/backbone';
import { DEFAULT_CONFIG, PAPER_CONFIG, resolveConfig, trainThfr, ThfrDetector, type RgbImageLike, type ThfrConfig, type ThfrModel, type TrainOptions, type TrainResult } from '@thfr/model';

/**
 * RD4AD (Deng & Li, "Anomaly Detection via Reverse Distillation from One-Class Embedding", CVPR 2022)
 * is THFR's network with only the local bottleneck (RD4AD's MFF + OCBE) and no template: frozen
 * encoder -> multi-scale feature fusion + one-class bottleneck embedding -> de_resnet decoder, trained
 * with the same per-level 1 - cosine loss and scored with the same anomaly map. These are the fields
 * that make a THFR config an RD4AD one.
 */
export const RD4AD_ARCHITECTURE = { bottleneck: 'lbn', template: false, relation: false, topN: 1, bankRatio: 1 } as const satisfies Partial<ThfrConfig>;

/** RD4AD's optimiser (its train.py: Adam, lr 0.005, betas (0.5, 0.999)). */
export const RD4AD_OPTIMIZER = { learningRate: 0.005, betas: [0.5, 0.999] as [number, number] };

/**
 * RD4AD's own recipe where it differs from THFR's defaults (hq-deng/RD4AD): the OCBE is `make_layer(block, 512,
 * 3, stride=2)`, three Bottlenecks after the multi-scale fusion; the loss (`loss_function` in main.py) is one
 * cosine per sample over each level's flattened map. Overridable, unlike the architecture switches.
 */
export const RD4AD_RECIPE = { localBottleneckBlocks: 3, lossForm: 'flattened' } as const satisfies Partial<ThfrConfig>;

/** RD4AD sized for a CPU: DEFAULT_CONFIG's code width, decoder depth, epochs and batch with RD4AD's architecture, recipe and optimiser. */
export const RD4AD_DEFAULT_CONFIG: ThfrConfig = resolveConfig({ ...RD4AD_ARCHITECTURE, ...RD4AD_RECIPE, ...RD4AD_OPTIMIZER }, DEFAULT_CONFIG);

/** RD4AD's published settings: WideResNet50-2, OCBE of 3 blocks, decoder [3, 4, 6], 200 epochs, batch 16, 256 px. */
export const RD4AD_PAPER_CONFIG: ThfrConfig = resolveConfig({ ...RD4AD_ARCHITECTURE, ...RD4AD_RECIPE, ...RD4AD_OPTIMIZER, epochs: 200, batchSize: 16 }, PAPER_CONFIG);

/** A trained RD4AD: a ThfrModel whose config is RD4AD-shaped (no template bank, local bottleneck only). */
export type Rd4adModel = ThfrModel;

/** Config fields RD4AD lets a caller change (the architecture switches are fixed). */
export type Rd4adConfig = Omit<ThfrConfig, keyof typeof RD4AD_ARCHITECTURE>;

export interface Rd4adTrainOptions extends Omit<TrainOptions, 'config' | 'baseConfig'> {
  config?: Partial<Rd4adConfig>;
  /** The config the overrides apply to (default RD4AD_DEFAULT_CONFIG; RD4AD_PAPER_CONFIG for the paper's). */
  baseConfig?: ThfrConfig;
}

/** True when `config` describes RD4AD (local bottleneck only, no template). */
export function isRd4adConfig(config: ThfrConfig): boolean {
  return config.bottleneck === 'lbn' && !config.template;
}

/** The full RD4AD config from overrides; rejects overrides of the architecture switches by name. */
export function resolveRd4adConfig(overrides: Partial<Rd4adConfig> = {}, base: ThfrConfig = RD4AD_DEFAULT_CONFIG): ThfrConfig {
  for (const key of Object.keys(RD4AD_ARCHITECTURE) as Array<keyof typeof RD4AD_ARCHITECTURE>) {
    const given = (overrides as Partial<ThfrConfig>)[key];
    if (given !== undefined && given !== RD4AD_ARCHITECTURE[key]) {
      throw new RangeError(`RD4AD config '${key}' is fixed to ${JSON.stringify(RD4AD_ARCHITECTURE[key])} (RD4AD = local bottleneck, no template); got ${JSON.stringify(given)}. Use @thfr/model's trainThfr for other variants`);
    }
  }
  return resolveConfig({ ...overrides, ...RD4AD_ARCHITECTURE }, base);
}

/**
 * Trains RD4AD on normal images with @thfr/model's training loop (features cached once, Adam,
 * calibration on validation images or the training images). Returns the model and per-epoch losses.
 */
export async function trainRd4ad(backbone: FeatureExtractor, images: readonly RgbImageLike[], options: Rd4adTrainOptions = {}): Promise<TrainResult & { model: Rd4adModel }> {
  const { config, baseConfig, ...rest } = options;
  const resolved = resolveRd4adConfig(config, baseConfig);
  if (images.length < 2) throw new Error(`trainRd4ad: need at least 2 normal training images, got ${images.length}`);
  return trainThfr(backbone, images, { ...rest, config: resolved, baseConfig: resolved });
}

/** Named presets of RD4AD's config. */
export const RD4AD_PRESETS: Record<string, ThfrConfig> = { default: RD4AD_DEFAULT_CONFIG, paper: RD4AD_PAPER_CONFIG };

/**
 * RD4AD as an AnomalyDetector (@thfr/detector): a restoration detector (@thfr/model's shared network and
 * training loop) whose config is fixed to RD4AD's architecture and whose saved manifests say method 'rd4ad'.
 */
export class Rd4adDetector extends ThfrDetector {
  constructor(backbone: FeatureExtractor, options: { config?: Partial<Rd4adConfig>; baseConfig?: ThfrConfig } = {}) {
    const config = resolveRd4adConfig(options.config, options.baseConfig);
    super(backbone, { method: 'rd4ad', config, baseConfig: config });
  }
}
