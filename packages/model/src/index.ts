/**
 * @thfr/model — THFR (Template-guided Hierarchical Feature Restoration, ICCV 2023) assembled from
 * @thfr/bottleneck, @thfr/compensation and @thfr/template-bank, with training, inference and
 * versioned save/load. Node file helpers live in '@thfr/model/node'.
 */
export { DEFAULT_CONFIG, PAPER_CONFIG, MAX_IMAGE_SIZE, resolveConfig } from './config.js';
export type { ThfrConfig, BottleneckMode } from './config.js';
export { ThfrNetwork } from './network.js';
export type { LevelGeometry } from './network.js';
export { RestorationDecoder } from './decoder.js';
export { templateReference } from './template-reference.js';
export { restorationLoss } from './loss.js';
export type { RestorationLossForm } from './loss.js';
export { FeatureCache } from './feature-cache.js';
export { measureLevels } from './geometry.js';
export { imagesToTensor } from './images.js';
export type { RgbImageLike } from './images.js';
export { ThfrModel } from './thfr-model.js';
export type { Prediction, PredictionTensors, PredictOptions, TrainingSummary } from './thfr-model.js';
export { trainThfr } from './train.js';
export { ThfrDetector, THFR_PRESETS } from './thfr-detector.js';
export type { ThfrFitOptions, ThfrDetectorOptions, ThfrFitSummary } from './thfr-detector.js';
export type { TrainOptions, TrainProgress, TrainPhase, TrainingCheckpoint, TrainResult } from './train.js';
export { normalStatistics } from './calibration.js';
export type { NormalStatistics } from './calibration.js';
export { serializeModel, deserializeModel, loadModelFromUrl, parseManifest, MODEL_FORMAT, MODEL_FORMAT_VERSION } from './serialization.js';
export type { ModelManifest, SerializedModel, ModelFileRef } from './serialization.js';
export { SeededRandom } from './random.js';
export { estimateTrainingMemory, assertTrainingFits, TrainingMemoryError, WASM_HEAP_LIMIT_BYTES } from './memory-estimate.js';
export type { TrainingMemoryEstimate } from './memory-estimate.js';
export { countNetworkParameters } from './network.js';
