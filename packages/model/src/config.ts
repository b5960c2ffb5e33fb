/** Which bottleneck streams feed the decoder (paper Table 4). */
export type BottleneckMode = 'gl' | 'gbn' | 'lbn';

/** Everything that defines a THFR network and its training; saved in the model manifest. */
export interface ThfrConfig {
  /** Square input size in pixels; images are resized to it. */
  imageSize: number;
  /** 'gl' = global + local streams fused (the paper), 'gbn' / 'lbn' = one stream (ablation). */
  bottleneck: BottleneckMode;
  /** Template-guided compensation on/off (ablation "without template"). */
  template: boolean;
  /** Pairwise relation feature inside the compensation (ablation "template without relation"). */
  relation: boolean;
  /** Training: the template is drawn uniformly among the n nearest other images (paper eq. 1). */
  topN: number;
  /** Fraction of training images kept in the bank by greedy k-center (paper Table 6). */
  bankRatio: number;
  bankStorage: 'float32' | 'float16';
  /** Decoder blocks per stage, deepest stage first (RD4AD's WideResNet50 decoder: [3, 4, 6]). */
  decoderBlocks: number[];
  /** Middle width of decoder blocks as a fraction of the stage's output channels (RD4AD wide: 0.5). */
  decoderWidthRatio: number;
  /** Middle width of the bottleneck ResBlocks as a fraction of C_K (RD4AD wide: 1). */
  bottleneckWidthRatio: number;
  /** 1x1 conv layers and ResBlocks in each compensation module. */
  compensationFuseLayers: number;
  compensationResBlocks: number;
  /** Gaussian sigma of the anomaly map (4 for MVTec AD, 2 for MVTec LOCO). */
  sigma: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  betas: [number, number];
  seed: number;
}

/** The paper's settings (section 4.1): WideResNet50-2 backbone, 256 px, Adam 0.005, 200 epochs, batch 16. */
export const PAPER_CONFIG: ThfrConfig = {
  imageSize: 256,
  bottleneck: 'gl',
  template: true,
  relation: true,
  topN: 1,
  bankRatio: 1,
  bankStorage: 'float32',
  decoderBlocks: [3, 4, 6],
  decoderWidthRatio: 0.5,
  bottleneckWidthRatio: 1,
  compensationFuseLayers: 2,
  compensationResBlocks: 1,
  sigma: 4,
  epochs: 200,
  batchSize: 16,
  learningRate: 0.005,
  betas: [0.5, 0.999],
  seed: 0,
};

/**
 * Defaults sized for a 2-core CPU (wasm backend) with the small default backbone: the same
 * architecture with one decoder block per stage and fewer epochs, so ~60 images train in minutes.
 */
export const DEFAULT_CONFIG: ThfrConfig = {
  ...PAPER_CONFIG,
  decoderBlocks: [1, 1, 1],
  epochs: 20,
  batchSize: 8,
};

const POSITIVE_INTEGERS: Array<keyof ThfrConfig> = ['imageSize', 'topN', 'epochs', 'batchSize', 'compensationFuseLayers'];

/** Fills defaults and checks every field, naming the bad one. */
export function resolveConfig(partial: Partial<ThfrConfig> = {}, base: ThfrConfig = DEFAULT_CONFIG): ThfrConfig {
  const config: ThfrConfig = { ...base, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const key of POSITIVE_INTEGERS) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`THFR config '${key}' must be a positive integer, got ${String(v)}`);
  }
  if (!['gl', 'gbn', 'lbn'].includes(config.bottleneck)) throw new RangeError(`THFR config 'bottleneck' must be 'gl', 'gbn' or 'lbn', got '${config.bottleneck}'`);
  if (!(config.bankRatio > 0 && config.bankRatio <= 1)) throw new RangeError(`THFR config 'bankRatio' must be in (0, 1], got ${config.bankRatio}`);
  if (!(config.sigma >= 0)) throw new RangeError(`THFR config 'sigma' must be >= 0, got ${config.sigma}`);
  if (!(config.learningRate > 0)) throw new RangeError(`THFR config 'learningRate' must be > 0, got ${config.learningRate}`);
  if (!Array.isArray(config.decoderBlocks) || config.decoderBlocks.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new RangeError(`THFR config 'decoderBlocks' must be positive integers per stage, got ${JSON.stringify(config.decoderBlocks)}`);
  }
  if (config.imageSize % 32 !== 0) throw new RangeError(`THFR config 'imageSize' must be a multiple of 32 (the deepest level is at stride 16 and is halved once more), got ${config.imageSize}`);
  return config;
}
