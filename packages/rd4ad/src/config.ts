import { mergeAndCheckConfig, RESTORATION_CONFIG_KEYS, type RestorationConfig } from '@thfr/restoration';

/**
 * RD4AD's config: exactly @thfr/restoration's shared fields (input size, loss form, OCBE depth, decoder,
 * code width, schedule). RD4AD has no global stream, no template and no compensation, so it has no field
 * for them.
 */
export type Rd4adConfig = RestorationConfig;

/**
 * THFR fields that describe RD4AD's architecture when a THFR config is read as RD4AD (RD4AD folders saved
 * before @thfr/rd4ad had its own network held a THFR config): accepted only with these values, then dropped.
 */
export const RD4AD_ARCHITECTURE = { bottleneck: 'lbn', template: false, relation: false, topN: 1, bankRatio: 1 } as const;

/** RD4AD's optimiser (its train.py: Adam, lr 0.005, betas (0.5, 0.999)). */
export const RD4AD_OPTIMIZER = { learningRate: 0.005, betas: [0.5, 0.999] as [number, number] };

/**
 * RD4AD's own recipe (hq-deng/RD4AD): the OCBE is `make_layer(block, 512, 3, stride=2)`, three Bottlenecks after
 * the multi-scale fusion; the loss (`loss_function` in main.py) is one cosine per sample over each level's
 * flattened map. Overridable (a caller may train the per-position loss).
 */
export const RD4AD_RECIPE = { localBottleneckBlocks: 3, lossForm: 'flattened' } as const satisfies Partial<Rd4adConfig>;

/**
 * RD4AD's published settings: WideResNet50-2 taps (256 / 512 / 1024 channels), the code at 2 C_K channels, decoder
 * [3, 4, 6] with bottleneck width 0.5, 200 epochs, batch 16, 256 px, Gaussian sigma 4.
 */
export const RD4AD_PAPER_CONFIG: Rd4adConfig = {
  // RESTORATION_CONFIG_KEYS' order: configs compare by JSON.
  imageSize: 256,
  lossForm: RD4AD_RECIPE.lossForm,
  localBottleneckBlocks: RD4AD_RECIPE.localBottleneckBlocks,
  decoderBlocks: [3, 4, 6],
  decoderWidthRatio: 0.5,
  bottleneckWidthRatio: 1,
  codeWidthRatio: 1,
  sigma: 4,
  // RD4AD's map (its cal_anomaly_map): no per-position standardization, in every preset, so the baseline is its recipe.
  mapNormalization: 'none',
  epochs: 200,
  batchSize: 16,
  learningRate: RD4AD_OPTIMIZER.learningRate,
  betas: RD4AD_OPTIMIZER.betas,
  seed: 0,
};

/**
 * RD4AD sized for a 2-core CPU (wasm, 4 GiB heap) with the default ImageNet ResNet-50: the code at a quarter of
 * the paper's channels, one decoder block per stage, 256 px, 20 epochs, batch 4 (THFR's DEFAULT_CONFIG sizes).
 */
export const RD4AD_DEFAULT_CONFIG: Rd4adConfig = {
  ...RD4AD_PAPER_CONFIG,
  decoderBlocks: [1, 1, 1],
  codeWidthRatio: 0.25,
  epochs: 20,
  batchSize: 4,
};

/** RD4AD_DEFAULT_CONFIG at 128 px and batch 8 (THFR's FAST_CONFIG sizes): about four times faster to train. */
export const RD4AD_FAST_CONFIG: Rd4adConfig = {
  ...RD4AD_DEFAULT_CONFIG,
  imageSize: 128,
  batchSize: 8,
};

/** Named presets of RD4AD's config. */
export const RD4AD_PRESETS: Record<string, Rd4adConfig> = { default: RD4AD_DEFAULT_CONFIG, fast: RD4AD_FAST_CONFIG, paper: RD4AD_PAPER_CONFIG };

/**
 * The full RD4AD config from overrides over `base` (default RD4AD_DEFAULT_CONFIG), every field checked and named
 * when wrong. THFR architecture fields are accepted only with RD4AD's values (a THFR-shaped config of RD4AD, e.g.
 * an older saved folder) and dropped; any other unknown field is refused by name.
 */
export function resolveRd4adConfig(overrides: Partial<Rd4adConfig> & Record<string, unknown> = {}, base: Rd4adConfig = RD4AD_DEFAULT_CONFIG): Rd4adConfig {
  const shared = new Set<string>(RESTORATION_CONFIG_KEYS);
  const own: Partial<Rd4adConfig> = {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (shared.has(key)) {
      (own as Record<string, unknown>)[key] = value;
    } else if (Object.hasOwn(RD4AD_ARCHITECTURE, key)) {
      const fixed = RD4AD_ARCHITECTURE[key as keyof typeof RD4AD_ARCHITECTURE];
      if (value !== fixed) throw new RangeError(`RD4AD config '${key}' is fixed to ${JSON.stringify(fixed)} (RD4AD = local bottleneck, no template); got ${JSON.stringify(value)}. Train THFR (trainThfr) for its other variants`);
    } else if (!THFR_ONLY_FIELDS.has(key)) {
      throw new RangeError(`RD4AD config has no field '${key}' (its fields: ${RESTORATION_CONFIG_KEYS.join(', ')})`);
    }
  }
  const merged = mergeAndCheckConfig(own, base, 'RD4AD');
  // Canonical key order: configs compare by JSON (a detector and the model it attaches).
  return Object.fromEntries(RESTORATION_CONFIG_KEYS.map((k) => [k, merged[k]])) as unknown as Rd4adConfig;
}

/** THFR fields without meaning for RD4AD (its template bank storage and compensation sizes), ignored in a THFR-shaped config. */
const THFR_ONLY_FIELDS = new Set(['bankStorage', 'compensationFuseLayers', 'compensationResBlocks']);
