/**
 * @thfr/model — THFR (Template-guided Hierarchical Feature Restoration, ICCV 2023) assembled from
 * @thfr/bottleneck, @thfr/compensation and @thfr/template-bank on @thfr/restoration's shared decoder, loss,
 * training loop and model folder, with training, inference and versioned save/load. Node file helpers live
 * in '@thfr/model/node'.
 */
export { DEFAULT_CONFIG, FAST_CONFIG, PAPER_CONFIG, MAX_IMAGE_SIZE, resolveConfig } from './config.js';
export type { ThfrConfig, BottleneckMode, TemplateReferences } from './config.js';
export { ThfrNetwork, countNetworkParameters } from './network.js';
export type { LevelGeometry } from './network.js';
export { templateReference } from './template-reference.js';
export { ThfrModel } from './thfr-model.js';
export type { Prediction, PredictionTensors, PredictOptions, TrainingSummary, ThfrModelParts } from './thfr-model.js';
export { trainThfr } from './train.js';
export type { TrainOptions, TrainProgress, TrainPhase, TrainingCheckpoint, TrainResult, TemplateDecision } from './train.js';
export { measureLayoutAlignment } from './layout-alignment.js';
export type { LayoutAlignment } from './layout-alignment.js';
export { ThfrDetector, THFR_PRESETS } from './thfr-detector.js';
export type { ThfrFitOptions, ThfrDetectorOptions, ThfrFitSummary } from './thfr-detector.js';
export { serializeModel, deserializeModel, loadModelFromUrl, parseManifest, MODEL_FORMAT, MODEL_FORMAT_VERSION, THFR_FOLDER_READER } from './serialization.js';
export type { ModelManifest, SerializedModel, ModelFileRef } from './serialization.js';

// The shared pieces THFR is built on (@thfr/restoration, @thfr/detector), re-exported so that THFR's users need
// one import; other methods import them from their own packages.
export { RestorationDecoder, restorationLoss, FeatureCache, measureLevels, measureLevelsAsync, normalStatistics, estimateTrainingMemory, assertTrainingFits, TrainingMemoryError, WASM_HEAP_LIMIT_BYTES } from '@thfr/restoration';
export type { RestorationLossForm, NormalStatistics, TrainingMemoryEstimate } from '@thfr/restoration';
export { imagesToTensor, SeededRandom } from '@thfr/detector';
export type { RgbImageLike } from '@thfr/detector';
