/**
 * @thfr/padim — a PaDiM-style Gaussian detector (per-position mean and covariance of backbone features,
 * Mahalanobis distance maps) built only from thfr's shared parts: @thfr/detector (contract, batching,
 * PRNG), @thfr/backbone (features), @thfr/postprocess (blur). The worked example of docs/architecture.md.
 * Browser-safe; saving and loading folders is in '@thfr/padim/node'.
 */
export { Padim } from './padim.js';
export type { PadimFitSummary } from './padim.js';
export { DEFAULT_PADIM_CONFIG, resolvePadimConfig, padimLayers } from './config.js';
export type { PadimConfig } from './config.js';
export { invertSpdBatch } from './gaussian-stats.js';
export { serializePadim, deserializePadim, parsePadimManifest, PADIM_FORMAT, PADIM_FORMAT_VERSION, STATISTICS_FILE } from './serialization.js';
export type { PadimManifest } from './serialization.js';
