import * as tf from '@tensorflow/tfjs-core';

/** Above this many runs of consecutive indices a GPU backend gathers in one kernel instead (one dispatch per slice). */
const GPU_MAX_SLICES = 16;

/**
 * x[indices] along the first axis. On the CPU backends (wasm, cpu) as one slice per run of consecutive indices
 * joined by concat; on the others, as tf.gather once there are more than 16 runs.
 *
 * Why not tf.gather everywhere: tfjs-backend-wasm's GatherV2 copies element by element, about 10x slower than a
 * slice (the memcpy of a contiguous block) on this project's row gathers: one template of [8, 8, 1792] from a
 * bank of 100 took 4.7 ms against 0.5, 64 of them 259 ms against 25, PatchCore's 3276 coreset rows of [32768,
 * 1536] 180-240 ms against 40-150. On a GPU each slice is a dispatch, and one gather kernel is cheap. The result
 * equals tf.gather's (indices may repeat and come in any order). Runs inside tidy; the caller owns the result.
 */
export function takeRows<T extends tf.Tensor>(x: T, indices: ArrayLike<number>): T {
  const rows = x.shape[0];
  if (rows === undefined) throw new RangeError(`takeRows: needs a tensor of rank >= 1, got a scalar`);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!Number.isInteger(r) || r < 0 || r >= rows) throw new RangeError(`takeRows: index ${r} at position ${i} is outside [0, ${rows - 1}]`);
  }
  return tf.tidy(() => {
    if (indices.length === 0) return tf.slice(x, 0, 0) as T;
    if (!['wasm', 'cpu'].includes(tf.getBackend()) && countRuns(indices) > GPU_MAX_SLICES) return tf.gather(x, tf.tensor1d(Int32Array.from(indices), 'int32'), 0) as T;
    const parts: tf.Tensor[] = [];
    let start = indices[0];
    let length = 1;
    for (let i = 1; i <= indices.length; i++) {
      if (i < indices.length && indices[i] === start + length) {
        length++;
        continue;
      }
      parts.push(tf.slice(x, start, length));
      if (i < indices.length) {
        start = indices[i];
        length = 1;
      }
    }
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as T;
  });
}

function countRuns(indices: ArrayLike<number>): number {
  let runs = 1;
  for (let i = 1; i < indices.length; i++) if (indices[i] !== indices[i - 1] + 1) runs++;
  return runs;
}
