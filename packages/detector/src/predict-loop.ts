import { tf, tunePendingKernels } from '@thfr/tensor';
import { inputBatch, inputCount, type DetectorInput } from './images.js';
import type { DetectorPrediction, ImageExtras } from './contract.js';

/** What one batch of a detector's forward pass gives: tensors the loop reads back and disposes. */
export interface BatchTensors {
  /** [b, size, size] anomaly maps. */
  map: tf.Tensor;
  /** [b] image scores. */
  scores: tf.Tensor;
  /** Per image of the batch, method-specific extras (e.g. the template used). */
  extras?: ImageExtras[];
  /** Other tensors to dispose once the batch is read (e.g. per-level maps). */
  dispose?: tf.Tensor[];
}

export interface PredictLoopOptions {
  batchSize: number;
  /** Map side in pixels (maps are size x size). */
  size: number;
  /** Names the caller in input errors. */
  who?: string;
  /** Called after each batch with (images done, total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The predict loop every detector shares: cuts the input into batches (preprocessing RGB images with
 * imagesToTensor), runs `forward` on each, reads maps and scores back asynchronously (so it works on
 * WebGPU in Node) and frees every tensor it made. Between batches it lets kernels chosen by timing (@thfr/tensor's
 * tunePendingKernels) time the shapes they met.
 */
export async function predictInBatches(
  images: DetectorInput,
  forward: (batch: tf.Tensor4D, start: number, end: number) => Promise<BatchTensors> | BatchTensors,
  options: PredictLoopOptions,
): Promise<DetectorPrediction> {
  const { batchSize, size } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`predictInBatches: batchSize must be a positive integer, got ${batchSize}`);
  const count = inputCount(images);
  const scores = new Float32Array(count);
  const maps: Float32Array[] = [];
  const extras: ImageExtras[] = [];
  const pixels = size * size;
  for (let start = 0; start < count; start += batchSize) {
    throwIfAborted(options.signal);
    const end = Math.min(count, start + batchSize);
    const batch = inputBatch(images, start, end, size, options.who);
    let out: BatchTensors;
    try {
      out = await forward(batch, start, end);
    } finally {
      batch.dispose();
    }
    try {
      const [mapData, scoreData] = await Promise.all([out.map.data(), out.scores.data()]);
      scores.set(scoreData as Float32Array, start);
      for (let i = 0; i < end - start; i++) {
        maps.push((mapData as Float32Array).slice(i * pixels, (i + 1) * pixels));
        extras.push(out.extras?.[i] ?? {});
      }
    } finally {
      tf.dispose([out.map, out.scores, ...(out.dispose ?? [])]);
    }
    // Kernels chosen by timing (a runtime's 'auto' kernels) time the shapes this batch met; none registered: no-op.
    await tunePendingKernels();
    options.onProgress?.(end, count);
  }
  return { scores, maps, size, extras };
}

/** Throws the signal's reason (an AbortError) when it has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason = signal.reason;
  if (reason instanceof Error) throw reason;
  const error = new Error(typeof reason === 'string' ? reason : 'the operation was aborted');
  error.name = 'AbortError';
  throw error;
}
