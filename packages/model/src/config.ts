import { checkMapNormalization, mergeAndCheckConfig, type MapNormalization, type RestorationConfig } from '@thfr/restoration';
/** Which bottleneck streams feed the decoder (paper Table 4). */
export type BottleneckMode = 'gl' | 'gbn' | 'lbn';

/**
 * Which levels of the template each compensation module sees (paper 3.2: "the multi-level embedding features of
 * the template sample are used as references in the corresponding feature level").
 * - 'pooled': both streams get every level, average-pooled to the code size and concatenated (T = [T_1..T_K]).
 * - 'per-stream': each stream gets the template levels it compressed: the global stream (fed I_K) gets T_K, the
 *   local stream (fed I_1..I_K) gets [T_1..T_K].
 */
export type TemplateReferences = 'pooled' | 'per-stream';

/**
 * Everything that defines a THFR network and its training; saved in the model manifest. The fields shared
 * with every restoration detector (input size, loss, local bottleneck depth, decoder, schedule) are
 * @thfr/restoration's RestorationConfig; these are THFR's own.
 */
export interface ThfrConfig extends RestorationConfig {
  /** 'gl' = global + local streams fused (the paper), 'gbn' / 'lbn' = one stream (ablation). */
  bottleneck: BottleneckMode;
  /** Template-guided compensation on/off (ablation "without template"). See also templateMinAlignment. */
  template: boolean;
  /**
   * Training turns the template compensation off when the training images' layout alignment with their nearest
   * normal neighbour (measureLayoutAlignment: 1 when the same positions hold the same content, 0 for a stationary
   * texture whose neighbour is another arrangement of it) is below this; 0 keeps it on whatever the data
   * (the paper). The trained model's `template` records the outcome. Why: the compensation gives the restoration
   * the template's features at the same positions as a layout cue (paper 3.2: "normal layout guidance", "spatial
   * layout guidance"); where no position corresponds, it only copies another arrangement's details, and on the
   * real-photo textures that cost 5.7 points of image AUROC over three seeds (docs/benchmark.md).
   */
  templateMinAlignment: number;
  /**
   * The map (RestorationConfig.mapNormalization) the layout check sets where it turns the template off (no position
   * corresponds: a texture). There a position's normal statistics describe the restoration's own position effects
   * (the decoder's fixed pattern, the borders), and standardizing by them found the faint defects of the real-photo
   * ihc texture (+4.7 image AUROC over three seeds); where positions correspond they describe the layout's content,
   * and a missing or misplaced part falls where normal images vary most (coins: sPRO 92 -> 84), so a layout keeps
   * `mapNormalization` (docs/benchmark.md, eighth session). 'texture' (the default and fast presets) measures the
   * mean over every cell of the code grid instead of at each pixel: pixel AUROC and PRO higher on each of ten
   * texture models (six on data held out from the benchmark, four on its own), and the texture average 96.8 -> 97.2
   * image AUROC over three seeds (docs/benchmark.md, ninth session).
   */
  textureMapNormalization: MapNormalization;
  /** Pairwise relation feature inside the compensation (ablation "template without relation"). */
  relation: boolean;
  /** Template levels each compensation module sees (see TemplateReferences). */
  templateReferences: TemplateReferences;
  /** Training: the template is drawn uniformly among the n nearest other images (paper eq. 1). */
  topN: number;
  /** Fraction of training images kept in the bank by greedy k-center (paper Table 6). */
  bankRatio: number;
  bankStorage: 'float32' | 'float16';
  /** 1x1 conv layers and ResBlocks in each compensation module. */
  compensationFuseLayers: number;
  compensationResBlocks: number;
}

/** The paper's settings (section 4.1): WideResNet50-2 backbone, 256 px, Adam 0.005, 200 epochs, batch 16. */
export const PAPER_CONFIG: ThfrConfig = {
  imageSize: 256,
  bottleneck: 'gl',
  template: true,
  templateMinAlignment: 0,
  textureMapNormalization: 'none',
  relation: true,
  templateReferences: 'pooled',
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
  mapNormalization: 'none',
  epochs: 200,
  batchSize: 16,
  learningRate: 0.005,
  betas: [0.5, 0.999],
  seed: 0,
};

/**
 * Defaults sized for a 2-core CPU (wasm backend, 4 GiB heap) with the default ImageNet ResNet-50 (taps of 256 /
 * 512 / 1024 channels, as the paper's WideResNet50-2): the paper's 256 px (deepest level 16x16, code 8x8) with
 * the code at a quarter of the paper's channels, one decoder block per stage, batch 4 and 20 epochs. At 128 px
 * (FAST_CONFIG) the code is 4x4 and the real-photo textures lose 10 points of image AUROC and 30 of PRO
 * (docs/benchmark.md). Measured on this 2-core machine (docs/benchmarks.md): a training step costs ~2.3 s per
 * image on wasm at 256 px and peaks at ~2.4 GiB of wasm heap at batch 4 (batch 8 does not fit); the feature
 * cache of the training images is host memory, so the number of images is not limited by the heap.
 */
export const DEFAULT_CONFIG: ThfrConfig = {
  ...PAPER_CONFIG,
  imageSize: 256,
  codeWidthRatio: 0.25,
  decoderBlocks: [1, 1, 1],
  epochs: 20,
  batchSize: 4,
  // Measured alignment (ResNet-50, 32 training images; 256 px / 128 px): real-photo textures gravel 0.11 / 0.25,
  // ihc 0.11 / 0.17, brick 0.33 / 0.43; the LOCO-style coins 0.73 / 0.86, synthetic MVTec-AD-like 0.79 / 0.88 and
  // LOCO-like 0.88 / 0.95 (docs/benchmark.md, fifth session).
  templateMinAlignment: 0.5,
  // Where the layout check finds a texture, each pixel of the map is standardized by its std on the normal training
  // images and their mean over the code grid's cells (see textureMapNormalization; docs/benchmark.md, eighth and
  // ninth sessions).
  textureMapNormalization: 'texture',
};

/**
 * DEFAULT_CONFIG at 128 px and batch 8: about four times faster to train (~0.4 s per image per step on wasm
 * here) for a quick look, a demo or a CI run, at a clear cost in accuracy on fine textures (docs/benchmark.md).
 */
export const FAST_CONFIG: ThfrConfig = {
  ...DEFAULT_CONFIG,
  imageSize: 128,
  batchSize: 8,
};

/** Fills defaults and checks every field, naming the bad one. */
export function resolveConfig(partial: Partial<ThfrConfig> = {}, base: ThfrConfig = DEFAULT_CONFIG): ThfrConfig {
  const config = mergeAndCheckConfig(partial, base, 'THFR', ['topN', 'compensationFuseLayers']);
  if (!['gl', 'gbn', 'lbn'].includes(config.bottleneck)) throw new RangeError(`THFR config 'bottleneck' must be 'gl', 'gbn' or 'lbn', got '${config.bottleneck}'`);
  if (!['pooled', 'per-stream'].includes(config.templateReferences)) {
    throw new RangeError(`THFR config 'templateReferences' must be 'pooled' or 'per-stream', got '${config.templateReferences}'`);
  }
  checkMapNormalization(config.textureMapNormalization, "THFR config 'textureMapNormalization'");
  if (!(config.templateMinAlignment >= 0 && config.templateMinAlignment <= 1)) throw new RangeError(`THFR config 'templateMinAlignment' must be in [0, 1], got ${config.templateMinAlignment}`);
  if (!(config.bankRatio > 0 && config.bankRatio <= 1)) throw new RangeError(`THFR config 'bankRatio' must be in (0, 1], got ${config.bankRatio}`);
  return config;
}

export { MAX_IMAGE_SIZE } from '@thfr/restoration';
