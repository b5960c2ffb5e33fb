/**
 * @thfr/tensor — the single tensor interface of every thfr package.
 *
 * Import tfjs-core through here (`import { tf } from '@thfr/tensor'`): this module makes sure the
 * gradients are registered exactly once and gives the helpers that every module shares.
 */
import * as tf from '@tensorflow/tfjs-core';
import './register-gradients.js';

export { tf };
export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Scalar,
  Variable,
  Rank,
  TensorContainer,
  NamedTensorMap,
  DataType,
} from '@tensorflow/tfjs-core';
export { assertShape, assertRank, assertFinite, assertSameShape, describeShape, ShapeError } from './shape-assertions.js';
export type { ExpectedShape } from './shape-assertions.js';
export { takeRows } from './take-rows.js';
export { TensorStore, disposeAll } from './tensor-store.js';
export type { Disposable } from './tensor-store.js';
export { selectBackend, BackendSelectionError } from './backend-selection.js';
export type { BackendCandidate, BackendChoice, SkippedBackend } from './backend-selection.js';
export { missingKernels, assertKernels, MissingKernelError } from './kernel-coverage.js';
export { gradientKernelsOf } from './kernel-coverage.js';
export { THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD, batchNormTrainForwardValues, batchNormTrainBackwardValues, batchNormForwardChannels, batchNormBackwardChannels } from './batch-norm-kernel.js';
export type { BatchNormTrainAttrs, BatchNormTrainForwardValues, BatchNormTrainBackwardValues } from './batch-norm-kernel.js';
export { THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD, cosineDistanceValues, cosineDistanceGradValues, cosineDistanceOf, cosineGradientCoefficients } from './cosine-distance-kernel.js';
export type { CosineDistanceAttrs, CosineGradientCoefficients } from './cosine-distance-kernel.js';
export { THFR_ADAM_STEP, adamStepParamName, adamStepGradName, adamStepValues, adamStepConstants } from './adam-kernel.js';
export type { AdamStepAttrs, AdamStepValues, AdamStepConstants } from './adam-kernel.js';
export { registerKernelTuner, tunePendingKernels } from './kernel-tuning.js';
export type { PendingKernelTuner } from './kernel-tuning.js';
