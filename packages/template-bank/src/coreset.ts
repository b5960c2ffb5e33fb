/** Coreset: which templates a subsampled bank keeps (paper Table 6), by greedy k-center on the keys. */
import { tf } from '@thfr/tensor';
import { greedyKCenter } from './greedy-k-center.js';
import type { ProjectionKind } from './random-projection.js';

export interface SubsampleOptions {
  /** Random projection dimension of the keys for k-center (default 128; none if keyDim <= it). */
  projectionDim?: number;
  projectionKind?: ProjectionKind;
  seed?: number;
  startIndex?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Templates kept at `ratio` of `n`: ceil(ratio * n), at least 1 (the epsilon keeps 0.1 * 30 at 3). */
export function coresetCount(ratio: number, n: number): number {
  if (!(typeof ratio === 'number' && ratio > 0 && ratio <= 1)) throw new RangeError(`TemplateBank.subsample: ratio must be in (0, 1], got ${ratio}`);
  return Math.min(n, Math.max(1, Math.ceil(ratio * n - 1e-9)));
}

/** The `count` rows of keys [n, dim] greedy k-center picks, in ascending order. */
export async function selectCoreset(keys: Float32Array, n: number, dim: number, count: number, opts: SubsampleOptions = {}): Promise<Int32Array> {
  const tensor = tf.tensor2d(keys, [n, dim], 'float32');
  try {
    return (await greedyKCenter(tensor, count, opts)).slice().sort();
  } finally {
    tensor.dispose();
  }
}
