import type { FeatureLevel } from '@thfr/backbone';

/** How the concatenated patch features are reduced to `targetDim` channels. */
export type PatchReduction = 'adaptive-avg' | 'random-projection';

/** How the image score is made from the patch scores. */
export type ImageScoreMode = 'map-max' | 'reweighted';

/** Everything that defines a PatchCore detector; saved in its manifest. */
export interface PatchCoreConfig {
  /** Square input size in pixels; images are resized to it. */
  imageSize: number;
  /**
   * Indices into the backbone's levels whose features are used, shallowest first. Default (null):
   * the levels at strides 8 and 16 (PatchCore's layer2 + layer3 of a ResNet).
   */
  layers: number[] | null;
  /** Neighbourhood of the locally aware patch features (average pooling, stride 1, zero 'same' padding). */
  neighborhood: number;
  /** Patch feature dimension after reduction; no reduction when the concatenated features have <= this many. */
  targetDim: number;
  reduction: PatchReduction;
  /** Fraction of the training patches kept in the memory bank by greedy k-center (PatchCore: 0.1 / 0.01). */
  coresetRatio: number;
  /** Random projection dimension used by the coreset search only (PatchCore: 128). */
  coresetProjectionDim: number;
  /** Gaussian sigma of the anomaly map (PatchCore: 4). */
  sigma: number;
  /** 'map-max' (default): max of the smoothed map; 'reweighted': PatchCore's eq. 7 on the raw patch scores. */
  imageScore: ImageScoreMode;
  /** Bank neighbourhood size b of the reweighting (PatchCore / anomalib: 9). */
  reweightNeighbors: number;
  batchSize: number;
  seed: number;
}

export const DEFAULT_PATCHCORE_CONFIG: PatchCoreConfig = {
  imageSize: 256,
  layers: null,
  neighborhood: 3,
  targetDim: 1024,
  reduction: 'adaptive-avg',
  coresetRatio: 0.1,
  coresetProjectionDim: 128,
  sigma: 4,
  imageScore: 'map-max',
  reweightNeighbors: 9,
  batchSize: 8,
  seed: 0,
};

/** Fills defaults and checks every field, naming the bad one. */
export function resolvePatchCoreConfig(partial: Partial<PatchCoreConfig> = {}): PatchCoreConfig {
  const config: PatchCoreConfig = { ...DEFAULT_PATCHCORE_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const key of ['imageSize', 'targetDim', 'batchSize', 'reweightNeighbors'] as const) {
    const v = config[key];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`PatchCore config '${key}' must be a positive integer, got ${String(v)}`);
  }
  if (!Number.isInteger(config.neighborhood) || config.neighborhood < 1 || config.neighborhood % 2 === 0) {
    throw new RangeError(`PatchCore config 'neighborhood' must be an odd positive integer (the pooling is 'same'), got ${String(config.neighborhood)}`);
  }
  if (!Number.isInteger(config.coresetProjectionDim) || config.coresetProjectionDim < 0) {
    throw new RangeError(`PatchCore config 'coresetProjectionDim' must be a non-negative integer (0 = no projection), got ${String(config.coresetProjectionDim)}`);
  }
  if (!(config.coresetRatio > 0 && config.coresetRatio <= 1)) throw new RangeError(`PatchCore config 'coresetRatio' must be in (0, 1], got ${config.coresetRatio}`);
  if (!(config.sigma >= 0 && Number.isFinite(config.sigma))) throw new RangeError(`PatchCore config 'sigma' must be a finite number >= 0, got ${config.sigma}`);
  if (config.reduction !== 'adaptive-avg' && config.reduction !== 'random-projection') {
    throw new RangeError(`PatchCore config 'reduction' must be 'adaptive-avg' or 'random-projection', got '${String(config.reduction)}'`);
  }
  if (config.imageScore !== 'map-max' && config.imageScore !== 'reweighted') {
    throw new RangeError(`PatchCore config 'imageScore' must be 'map-max' or 'reweighted', got '${String(config.imageScore)}'`);
  }
  if (config.layers !== null && (!Array.isArray(config.layers) || config.layers.length < 1 || config.layers.some((l) => !Number.isInteger(l) || l < 0))) {
    throw new RangeError(`PatchCore config 'layers' must be null or a non-empty list of level indices, got ${JSON.stringify(config.layers)}`);
  }
  return config;
}

/** The level indices PatchCore uses on a backbone: the config's, or the levels at strides 8 and 16. */
export function selectLayers(levels: readonly FeatureLevel[], layers: number[] | null): number[] {
  if (layers !== null) {
    for (const l of layers) {
      if (l >= levels.length) throw new RangeError(`PatchCore layers: index ${l} is out of range, the backbone has ${levels.length} levels (${levels.map((v) => `${v.name}/stride ${v.stride}`).join(', ')})`);
    }
    for (let i = 1; i < layers.length; i++) {
      if (levels[layers[i]].stride < levels[layers[i - 1]].stride) throw new RangeError(`PatchCore layers must go from shallow to deep (non-decreasing stride), got ${JSON.stringify(layers)}`);
    }
    return [...layers];
  }
  const at8 = levels.findIndex((l) => l.stride === 8);
  const at16 = levels.findIndex((l) => l.stride === 16);
  if (at8 < 0 || at16 < 0) {
    throw new RangeError(`PatchCore: the backbone has no levels at strides 8 and 16 (it has ${levels.map((l) => `${l.name}/stride ${l.stride}`).join(', ')}); pass config.layers`);
  }
  return [at8, at16];
}
