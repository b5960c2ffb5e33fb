import type { RestorationLossForm } from './loss.js';

/** How the anomaly map is normalised before scoring (see RestorationConfig.mapNormalization). */
export type MapNormalization = 'none' | 'per-position' | 'texture';

/** Every MapNormalization, in the order messages list them. */
export const MAP_NORMALIZATIONS: readonly MapNormalization[] = ['none', 'per-position', 'texture'];

/** Throws unless `value` is a MapNormalization; `what` names the field ("THFR config 'mapNormalization'"). */
export function checkMapNormalization(value: unknown, what: string): asserts value is MapNormalization {
  if (!MAP_NORMALIZATIONS.includes(value as MapNormalization)) throw new RangeError(`${what} must be one of ${MAP_NORMALIZATIONS.map((m) => `'${m}'`).join(', ')}, got '${String(value)}'`);
}

/**
 * RestorationConfig fields added after model folders and checkpoints were first written, with the value those older
 * files were trained and scored with: a missing field reads as this.
 */
export const CONFIG_FIELDS_ADDED_LATER: Readonly<Partial<RestorationConfig>> = { mapNormalization: 'none' };

/**
 * What every feature-restoration detector (THFR, RD4AD) shares in its config: the input size, the
 * local bottleneck's depth, the decoder, the loss and the training schedule. Each method's config
 * extends it with its own fields; saved manifests hold the method's whole config.
 */
export interface RestorationConfig {
  /** Square input size in pixels; images are resized to it. */
  imageSize: number;
  /** Restoration loss form: 'flattened' (RD4AD's code, the default by measurement) or 'position' (THFR's eq. 3 read literally, per-position cosine). */
  lossForm: RestorationLossForm;
  /** ResBlocks of the local bottleneck's one-class embedding after the multi-scale fusion (RD4AD's OCBE: 3). */
  localBottleneckBlocks: number;
  /** Decoder blocks per stage, deepest stage first (RD4AD's WideResNet50 decoder: [3, 4, 6]). */
  decoderBlocks: number[];
  /** Middle width of decoder blocks as a fraction of the stage's output channels (RD4AD wide: 0.5). */
  decoderWidthRatio: number;
  /** Middle width of the bottleneck ResBlocks as a fraction of C_K (RD4AD wide: 1). */
  bottleneckWidthRatio: number;
  /**
   * Channels of the compressed code as a fraction of 2 C_K (1 = the papers). Below 1 the bottlenecks (and THFR's
   * compensation) and the decoder's first stage shrink with it (parameters ~ ratio^2): the knob that makes
   * 1024-channel ResNet-50 features trainable in a CPU's time and a wasm heap.
   */
  codeWidthRatio: number;
  /** Gaussian sigma of the anomaly map (4 for MVTec AD, 2 for MVTec LOCO). */
  sigma: number;
  /**
   * What the anomaly map is before its max is taken as the image score: 'none' is the papers' map (THFR eq. 4-5,
   * RD4AD: the blurred sum of the levels' 1 - cosine); 'per-position' standardizes every pixel by the mean and
   * standard deviation of that pixel on the normal training images' maps (leave-one-out; measured once, after
   * training, and saved with the model). Why: the restoration error is not uniform over positions on normal images
   * (the decoder's stride-2 transposed convolutions leave a fixed pattern with the code grid's period, 32 px at
   * 256 px, and the borders restore differently), so a faint defect has to stand out against what its own
   * position shows on normal images rather than against the whole map's peaks. A deviation from both papers,
   * measured in docs/benchmark.md (eighth session). 'texture' is 'per-position' with the mean pooled over the
   * positions that share a phase of the code grid (`positionStatistics`' meanPeriod = `codeCellPixels`): on a
   * texture nothing but that grid tells positions apart, and a mean measured over every cell is not the noise of
   * a few dozen maps at one pixel (docs/benchmark.md, ninth session). It would erase an object layout's content
   * from the mean, so it is for textures only (THFR's layout check sets it there).
   */
  mapNormalization: MapNormalization;
  epochs: number;
  batchSize: number;
  learningRate: number;
  betas: [number, number];
  seed: number;
}

/** The fields of RestorationConfig, in their canonical order (manifests and config comparisons use it). */
export const RESTORATION_CONFIG_KEYS: ReadonlyArray<keyof RestorationConfig> = [
  'imageSize', 'lossForm', 'localBottleneckBlocks', 'decoderBlocks', 'decoderWidthRatio', 'bottleneckWidthRatio', 'codeWidthRatio',
  'sigma', 'mapNormalization', 'epochs', 'batchSize', 'learningRate', 'betas', 'seed',
];

/**
 * The largest input size: features, their gradients and the anomaly maps grow with imageSize^2; at 2048
 * the first level of WideResNet50-2 (stride 4, 256 channels) is 512*512*256*4 bytes = 256 MiB per image.
 */
export const MAX_IMAGE_SIZE = 2048;

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * Fills `partial` over `base` (undefined values do not override) and checks the shared fields, naming the
 * bad one with `who` ('THFR', 'RD4AD'). Methods check their own fields after this.
 */
export function mergeAndCheckConfig<C extends RestorationConfig>(partial: Partial<C>, base: C, who: string, positiveIntegers: ReadonlyArray<keyof C> = []): C {
  const config: C = { ...base, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const key of ['imageSize', 'epochs', 'batchSize', 'localBottleneckBlocks', ...positiveIntegers] as Array<keyof C>) {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${who} config '${String(key)}' must be a positive integer, got ${String(v)}`);
  }
  if (!(config.sigma >= 0)) throw new RangeError(`${who} config 'sigma' must be >= 0, got ${config.sigma}`);
  checkMapNormalization(config.mapNormalization, `${who} config 'mapNormalization'`);
  if (config.lossForm !== 'position' && config.lossForm !== 'flattened') throw new RangeError(`${who} config 'lossForm' must be 'position' or 'flattened', got '${String(config.lossForm)}'`);
  if (!(config.codeWidthRatio > 0 && config.codeWidthRatio <= 1)) throw new RangeError(`${who} config 'codeWidthRatio' must be in (0, 1], got ${config.codeWidthRatio}`);
  if (!(config.learningRate > 0)) throw new RangeError(`${who} config 'learningRate' must be > 0, got ${config.learningRate}`);
  if (!Array.isArray(config.decoderBlocks) || config.decoderBlocks.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new RangeError(`${who} config 'decoderBlocks' must be positive integers per stage, got ${JSON.stringify(config.decoderBlocks)}`);
  }
  if (config.imageSize > MAX_IMAGE_SIZE) {
    throw new RangeError(`${who} config 'imageSize' must be at most ${MAX_IMAGE_SIZE} (8x the paper's 256), got ${config.imageSize}: memory grows with its square ` +
      `(at ${MAX_IMAGE_SIZE} px a WideResNet50-2's first feature level alone is 256 MiB per image, and one ${config.imageSize} px float32 image is ${formatBytes(config.imageSize ** 2 * 12)})`);
  }
  if (config.imageSize % 32 !== 0) throw new RangeError(`${who} config 'imageSize' must be a multiple of 32 (the deepest level is at stride 16 and is halved once more), got ${config.imageSize}`);
  return config;
}

/** The code a restoration network compresses its levels into, from the deepest level and the config. */
export interface CodeGeometry {
  /** Channels of the code: 2 C_K x codeWidthRatio (the papers: 2048 for WideResNet50's 1024-channel layer3). */
  channels: number;
  /** Its spatial size: half the deepest level's (the OCBE's stride-2 block). */
  size: number;
  /** Middle width of the bottlenecks' ResBlocks: C_K x bottleneckWidthRatio x codeWidthRatio. */
  blockWidth: number;
}

/**
 * Input pixels one cell of the code spans (codeGeometry's size at imageSize: 32 px for taps at strides 4-16): the
 * period of the pattern the decoder's stride-2 transposed convolutions leave on the maps, and the meanPeriod of
 * mapNormalization 'texture'.
 */
export function codeCellPixels(levels: ReadonlyArray<{ size: number }>, imageSize: number): number {
  const deepest = levels[levels.length - 1];
  if (!deepest) throw new Error('codeCellPixels: needs the backbone levels, got none');
  return Math.max(1, Math.round((2 * imageSize) / deepest.size));
}

/** The code geometry both THFR and RD4AD size their bottlenecks by; levels are shallowest first. */
export function codeGeometry(levels: ReadonlyArray<{ channels: number; size: number }>, config: RestorationConfig, who: string): CodeGeometry {
  if (levels.length < 2) throw new Error(`${who} needs at least two backbone levels, got ${levels.length}`);
  const deepest = levels[levels.length - 1];
  return {
    channels: Math.max(1, Math.round(2 * deepest.channels * config.codeWidthRatio)),
    size: deepest.size / 2,
    blockWidth: Math.max(1, Math.round(deepest.channels * config.bottleneckWidthRatio * config.codeWidthRatio)),
  };
}
