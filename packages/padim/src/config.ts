import type { FeatureLevel } from '@thfr/backbone';

/** Everything that defines a PaDiM detector; saved in its manifest. */
export interface PadimConfig {
  /** Square input size in pixels. */
  imageSize: number;
  /** Backbone level indices whose features are concatenated (default null: the levels at strides 8 and 16). */
  layers: number[] | null;
  /** Channels kept, chosen at random with `seed` (PaDiM: 100 of ResNet-18's 448, 550 of WRN50's 1792). */
  channels: number;
  /** Added to each covariance's diagonal (PaDiM: 0.01) so it is invertible. */
  epsilon: number;
  /** Gaussian sigma of the anomaly map (PaDiM: 4). */
  sigma: number;
  batchSize: number;
  seed: number;
}

export const DEFAULT_PADIM_CONFIG: PadimConfig = { imageSize: 256, layers: null, channels: 100, epsilon: 0.01, sigma: 4, batchSize: 8, seed: 0 };

export function resolvePadimConfig(partial: Partial<PadimConfig> = {}): PadimConfig {
  const config: PadimConfig = { ...DEFAULT_PADIM_CONFIG, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const key of ['imageSize', 'channels', 'batchSize'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`PaDiM config '${key}' must be a positive integer, got ${String(config[key])}`);
  }
  if (!(config.epsilon > 0)) throw new RangeError(`PaDiM config 'epsilon' must be > 0, got ${config.epsilon}`);
  if (!(config.sigma >= 0 && Number.isFinite(config.sigma))) throw new RangeError(`PaDiM config 'sigma' must be a finite number >= 0, got ${config.sigma}`);
  return config;
}

/** The config's levels, or the levels at strides 8 and 16 (the shallowest level's grid is the map grid). */
export function padimLayers(levels: readonly FeatureLevel[], layers: number[] | null): number[] {
  if (layers) {
    for (const l of layers) if (!Number.isInteger(l) || l < 0 || l >= levels.length) throw new RangeError(`PaDiM layers: index ${l} is out of range (the backbone has ${levels.length} levels)`);
    return [...layers];
  }
  const picked = [8, 16].map((stride) => levels.findIndex((l) => l.stride === stride));
  if (picked.some((i) => i < 0)) throw new RangeError(`PaDiM: the backbone has no levels at strides 8 and 16 (it has ${levels.map((l) => `${l.name}/stride ${l.stride}`).join(', ')}); pass config.layers`);
  return picked;
}
