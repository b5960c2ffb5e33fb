/**
 * @thfr/restoration — what feature-restoration detectors share (THFR, RD4AD; anomalib's "components"): the
 * restoration decoder, the restoration loss, the feature cache, the optimisation loop with checkpoints,
 * calibration, the trained-model base class (backbone -> network -> anomaly map) and the model folder
 * format. Each method package adds its network and config; none imports another. Disk I/O is in
 * '@thfr/restoration/node'.
 */
export { RESTORATION_CONFIG_KEYS, MAX_IMAGE_SIZE, CONFIG_FIELDS_ADDED_LATER, MAP_NORMALIZATIONS, checkMapNormalization, mergeAndCheckConfig, codeGeometry, codeCellPixels } from './config.js';
export type { RestorationConfig, CodeGeometry, MapNormalization } from './config.js';
export { RestorationDecoder } from './decoder.js';
export { restorationLoss } from './loss.js';
export type { RestorationLossForm } from './loss.js';
export { FeatureCache } from './feature-cache.js';
export { measureLevels, measureLevelsAsync } from './geometry.js';
export type { LevelGeometry } from './geometry.js';
export { normalStatistics, calibrateOnNormals } from './calibration.js';
export type { NormalStatistics, CalibrationProgress } from './calibration.js';
export { checkCalibrationScores, checkResumable } from './training-checks.js';
export { estimateTrainingMemory, assertTrainingFits, TrainingMemoryError, WASM_HEAP_LIMIT_BYTES } from './memory-estimate.js';
export type { TrainingMemoryEstimate } from './memory-estimate.js';
export { optimiseRestoration, defaultLossReadEvery } from './optimise.js';
export type { TrainPhase, TrainProgress, TrainingCheckpoint, RestorationNetwork, OptimiseRunOptions, OptimiseOptions, OptimiseResult } from './optimise.js';
export { prepareTraining, finishTraining, measureMapStatistics, mapStatisticsOptions } from './training-phases.js';
export type { RestorationTrainOptions, TrainResult, PreparedTraining } from './training-phases.js';
export { RestorationModel } from './restoration-model.js';
export type { RestorationPredictionTensors, RestorationPredictOptions, RestorationBatchOptions, TrainingSummary, TemplateChoice, NetworkRunner, PipelineRunner, RestorationInferenceSpec, InferenceTemplateSearch } from './restoration-model.js';
export { RestorationDetector } from './restoration-detector.js';
export type { RestorationFitOptions, RestorationFitSummary } from './restoration-detector.js';
export { MODEL_FORMAT, MODEL_FORMAT_VERSION, serializeRestorationModel, parseRestorationManifest, restoreNetwork, fetchModelFolder } from './model-folder.js';
export type { ModelManifest, ModelFileRef, SerializedModel, FolderReader, RestorationMethodParts, RestoredParts } from './model-folder.js';
export { packTensors, unpackTensors } from './tensor-pack.js';
export type { PackedTensorEntry } from './tensor-pack.js';
export { ManifestFieldError, validateFields, validateEach, FILE_REF_SPEC, TENSOR_ENTRY_SPEC } from './manifest-schema.js';
export type { ObjectSpec, FieldSpec, FieldType } from './manifest-schema.js';
