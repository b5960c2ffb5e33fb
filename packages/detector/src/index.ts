/**
 * @thfr/detector — the contract every thfr anomaly detection method implements (AnomalyDetector,
 * DetectorMethod, DetectorRegistry) and the pieces methods share: image preprocessing and batching,
 * the predict batching loop, the seeded PRNG, SHA-256 and manifest file references. Browser-safe.
 */
export type {
  AnomalyDetector, DetectorPrediction, ImageExtras, FitProgress, DetectorFitOptions, DetectorFitSummary,
  DetectorPredictOptions, BackboneIdentityLike, DetectorCreateOptions, DetectorMethod,
} from './contract.js';
export { DetectorRegistry, presetOf } from './registry.js';
export { imagesToTensor, inputBatch, inputCount } from './images.js';
export type { RgbImageLike, DetectorInput } from './images.js';
export { predictInBatches, throwIfAborted } from './predict-loop.js';
export type { BatchTensors, PredictLoopOptions } from './predict-loop.js';
export { mulberry32, createRandom, createGaussian, SeededRandom } from './random.js';
export { sha256Hex } from './hash.js';
export { fileRef, verifyFileRef, parseManifestJson } from './manifest.js';
export type { FileRef, DetectorManifestHeader } from './manifest.js';
