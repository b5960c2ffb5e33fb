import type { LevelGeometry } from './geometry.js';

/**
 * Bytes of activations (forward values kept for the backward pass, gradients, im2col buffers) per training sample
 * per float of backbone features. Fitted on the wasm backend here (docs/benchmarks.md, "Training memory"):
 * ResNet-50 taps, codeWidthRatio 0.25, decoder [1,1,1]: 1.42 GiB peak heap at 128 px / batch 8 and 2.35 GiB at
 * 256 px / batch 4 give 72-80 floats of activation per feature float; 90 keeps a margin.
 */
const ACTIVATION_FLOATS_PER_FEATURE_FLOAT = 90;
/** Weights, their gradients and Adam's two moments: four float32 copies of every parameter. */
const PARAMETER_COPIES = 4;
/** The wasm backend's heap cannot grow past 4 GiB (wasm32); allocations beyond it crash the module. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

export interface TrainingMemoryEstimate {
  parameters: number;
  /** Weights + gradients + Adam moments. */
  parameterBytes: number;
  /** The feature cache: every training image's backbone levels, held in host (JavaScript) memory, not on the backend. */
  featureCacheBytes: number;
  /** Activations of one training step at the configured batch size. */
  activationBytes: number;
  /** Per-image state the method keeps on the backend during training (THFR: its template bank's keys and values). */
  perImageBackendBytes: number;
  /** What the tensor backend must hold: parameters, gradients, Adam's moments, one step's activations and the per-image state. */
  backendBytes: number;
  /** backendBytes + featureCacheBytes. */
  totalBytes: number;
}

/**
 * What a training run needs in tensor memory; `parameters` from the built network, `backendBytesPerImage` what the
 * method keeps on the backend for every training image (default 0).
 */
export function estimateTrainingMemory(levels: readonly LevelGeometry[], config: { batchSize: number }, images: number, parameters: number, backendBytesPerImage = 0): TrainingMemoryEstimate {
  const featureFloats = levels.reduce((sum, l) => sum + l.size * l.size * l.channels, 0);
  const parameterBytes = parameters * 4 * PARAMETER_COPIES;
  const featureCacheBytes = images * featureFloats * 4;
  const activationBytes = Math.min(config.batchSize, images) * featureFloats * 4 * ACTIVATION_FLOATS_PER_FEATURE_FLOAT;
  const perImageBackendBytes = images * backendBytesPerImage;
  const backendBytes = parameterBytes + activationBytes + perImageBackendBytes;
  return { parameters, parameterBytes, featureCacheBytes, activationBytes, perImageBackendBytes, backendBytes, totalBytes: backendBytes + featureCacheBytes };
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;

/** Thrown before training when the configuration cannot fit the backend's memory. */
export class TrainingMemoryError extends Error {
  override readonly name = 'TrainingMemoryError';
  constructor(readonly estimate: TrainingMemoryEstimate, readonly limitBytes: number, readonly backend: string) {
    super(
      `this training run needs about ${gib(estimate.backendBytes)} of ${backend} memory (parameters + gradients + Adam: ${gib(estimate.parameterBytes)} ` +
        `for ${(estimate.parameters / 1e6).toFixed(1)} M parameters; activations per step: ${gib(estimate.activationBytes)}` +
        `${estimate.perImageBackendBytes > 0 ? `; per-image state of the training images (template bank): ${gib(estimate.perImageBackendBytes)}` : ''}), ` +
        `more than the ${gib(limitBytes)} the ${backend} backend can address. ` +
        'Lower batchSize, imageSize or codeWidthRatio, or train on a GPU backend (webgpu / tensorflow).',
    );
  }
}

/**
 * Throws TrainingMemoryError when what the backend must hold exceeds its hard limit (only wasm has one). The
 * feature cache is in host memory, so the number of training images does not count against it.
 */
export function assertTrainingFits(estimate: TrainingMemoryEstimate, backend: string): void {
  if (backend === 'wasm' && estimate.backendBytes > WASM_HEAP_LIMIT_BYTES) throw new TrainingMemoryError(estimate, WASM_HEAP_LIMIT_BYTES, backend);
}
