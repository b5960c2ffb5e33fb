/**
 * @thfr/patchcore — PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly Detection",
 * CVPR 2022) assembled from thfr's published modules: backbone taps (@thfr/backbone), greedy k-center
 * coreset and nearest-neighbour search (@thfr/template-bank), bilinear upsampling + Gaussian blur
 * (@thfr/postprocess). Browser-safe; file save/load is in '@thfr/patchcore/node'.
 */
export { DEFAULT_PATCHCORE_CONFIG, resolvePatchCoreConfig, selectLayers } from './config.js';
export type { PatchCoreConfig, PatchReduction, ImageScoreMode } from './config.js';
export { locallyAwareFeatures, adaptiveAveragePoolMatrix, reductionMatrix, patchEmbedding } from './patch-features.js';
export type { PatchEmbedding } from './patch-features.js';
export { PatchCore, coresetSize } from './patchcore.js';
export type { PatchCorePrediction, PatchCoreProgress, PatchCorePhase, PatchCoreFitSummary, FitOptions } from './patchcore.js';
export { serializePatchCore, deserializePatchCore, parsePatchCoreManifest, PATCHCORE_FORMAT, PATCHCORE_FORMAT_VERSION, MEMORY_BANK_FILE } from './serialization.js';
export type { PatchCoreManifest } from './serialization.js';
