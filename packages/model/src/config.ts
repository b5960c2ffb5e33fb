import type { RestorationLossForm } from './loss.js';
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
  /** Restoration loss form: 'flattened' (RD4AD's code, the default by measurement) or 'position' (paper eq. 3 read literally, per-position cosine). */
  lossForm: RestorationLossForm;
  /** ResBlocks of the local bottleneck's one-class embedding after the multi-scale fusion (RD4AD's OCBE: 3). */
  localBottleneckBlocks: number;
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
  /**
   * Channels of the compressed code S_G / S_L as a fraction of the paper's 2 C_K (1 = the paper). Below 1 the
   * bottlenecks, compensation and the decoder's first stage shrink with it (parameters ~ ratio^2): the knob
   * that makes 1024-channel ResNet-50 features trainable in a CPU's time and a wasm heap.
   */
  codeWidthRatio: number;
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
  // RD4AD's loss (one cosine per flattened level) rather than eq. 3 read per position: measured on the real-photo
  // brick texture (ResNet-50, 30 images, 12 epochs), image AUROC 54.9 -> 92.6 and PRO 68.7 -> 82.8 (docs/benchmark.md).
  lossForm: 'flattened',
  localBottleneckBlocks: 1,
  topN: 1,
  bankRatio: 1,
  bankStorage: 'float32',
  decoderBlocks: [3, 4, 6],
  decoderWidthRatio: 0.5,
  bottleneckWidthRatio: 1,
  codeWidthRatio: 1,
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
 * Defaults sized for a 2-core CPU (wasm backend, 4 GiB heap) with the default ImageNet ResNet-50 (taps of 256 /
 * 512 / 1024 channels, as the paper's WideResNet50-2): the same architecture with the code at a quarter of the
 * paper's channels, one decoder block per stage, 128 px and fewer epochs. Measured on this 2-core machine
 * (docs/benchmarks.md): a training step costs ~0.75 s per image on wasm and peaks at ~1.4 GiB of wasm heap at
 * batch 8; at 256 px the same network costs ~2.3 s per image and batch 8 no longer fits the heap.
 */
export const DEFAULT_CONFIG: ThfrConfig = {
  ...PAPER_CONFIG,
  imageSize: 128,
  codeWidthRatio: 0.25,
  decoderBlocks: [1, 1, 1],
  epochs: 20,
  batchSize: 8,
};

/**
 * The largest input size: features, their gradients and the anomaly maps grow with imageSize^2; at 2048
 * the first level of WideResNet50-2 (stride 4, 256 channels) is 512*512*256*4 bytes = 256 MiB per image.
 */
export const MAX_IMAGE_SIZE = 2048;

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

const POSITIVE_INTEGERS: Array<keyof ThfrConfig> = ['imageSize', 'topN', 'epochs', 'batchSize', 'compensationFuseLayers', 'localBottleneckBlocks'];

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
  if (config.lossForm !== 'position' && config.lossForm !== 'flattened') throw new RangeError(`THFR config 'lossForm' must be 'position' or 'flattened', got '${String(config.lossForm)}'`);
  if (!(config.codeWidthRatio > 0 && config.codeWidthRatio <= 1)) throw new RangeError(`THFR config 'codeWidthRatio' must be in (0, 1], got ${config.codeWidthRatio}`);
  if (!(config.learningRate > 0)) throw new RangeError(`THFR config 'learningRate' must be > 0, got ${config.learningRate}`);
  if (!Array.isArray(config.decoderBlocks) || config.decoderBlocks.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new RangeError(`THFR config 'decoderBlocks' must be positive integers per stage, got ${JSON.stringify(config.decoderBlocks)}`);
  }
  if (config.imageSize > MAX_IMAGE_SIZE) {
    throw new RangeError(`THFR config 'imageSize' must be at most ${MAX_IMAGE_SIZE} (8x the paper's 256), got ${config.imageSize}: memory grows with its square ` +
      `(at ${MAX_IMAGE_SIZE} px a WideResNet50-2's first feature level alone is 256 MiB per image, and one ${config.imageSize} px float32 image is ${formatBytes(config.imageSize ** 2 * 12)})`);
  }
  if (config.imageSize % 32 !== 0) throw new RangeError(`THFR config 'imageSize' must be a multiple of 32 (the deepest level is at stride 16 and is halved once more), got ${config.imageSize}`);
  return config;
}
