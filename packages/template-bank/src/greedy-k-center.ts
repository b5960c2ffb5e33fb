import { tf, assertRank } from '@thfr/tensor';
import { createRandom, throwIfAborted } from '@thfr/detector';
import { randomProjection, type ProjectionKind } from './random-projection.js';

export interface GreedyKCenterOptions {
  /** Project to this many dimensions first (default 128); none when the features have <= this many, or when 0. */
  projectionDim?: number;
  projectionKind?: ProjectionKind;
  /** Seeds the projection and, unless startIndex is given, the first centre (default 0). */
  seed?: number;
  /** The first centre; default: a seeded random index. */
  startIndex?: number;
  /** Use this [D, p] projection instead of a generated one (e.g. to compare with a reference). */
  projection?: tf.Tensor2D;
  /** Called after each selected centre with (selected so far, count). */
  onProgress?: (done: number, total: number) => void;
  /** Checked every 64 selected centres; aborting throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Greedy k-center coreset selection (Sener & Savarese; PatchCore's greedy coreset sampler and
 * anomalib's KCenterGreedy): optionally project the rows of `features` [N, D] with a random
 * projection, start at one index, then repeatedly add the point whose euclidean distance to its
 * nearest selected point is largest. Returns the `count` selected row indices in selection order
 * (distinct even when rows repeat).
 *
 * Runs on the projected features read back to JS: O(N * count * p) multiply-adds, which is
 * exact and backend independent (for PatchCore-sized inputs, 150k x 1.5k x 128, tens of seconds).
 * The read-back is asynchronous, so it runs on every backend (WebGPU in Node included).
 */
export async function greedyKCenter(features: tf.Tensor2D, count: number, opts: GreedyKCenterOptions = {}): Promise<Int32Array> {
  assertRank(features, 2, 'greedyKCenter features');
  const [n, d] = features.shape;
  if (n < 1) throw new RangeError('greedyKCenter: features has no rows');
  if (!Number.isInteger(count) || count < 1 || count > n) throw new RangeError(`greedyKCenter: count must be an integer in [1, ${n}], got ${count}`);
  const seed = opts.seed ?? 0;
  const startIndex = opts.startIndex ?? Math.floor(createRandom(seed ^ 0x5bd1e995)() * n);
  if (!Number.isInteger(startIndex) || startIndex < 0 || startIndex >= n) throw new RangeError(`greedyKCenter: startIndex must be an integer in [0, ${n - 1}], got ${startIndex}`);

  const { data, dim } = await projectedRows(features, opts, seed);
  const minDistance = new Float64Array(n).fill(Infinity);
  const selected = new Int32Array(count);
  let next = startIndex;
  for (let s = 0; s < count; s++) {
    if (s % 64 === 0) throwIfAborted(opts.signal);
    selected[s] = next;
    // -Infinity marks "selected" so duplicates of a centre (distance 0) can still be chosen later.
    minDistance[next] = -Infinity;
    const centre = next * dim;
    let best = -1;
    let bestDistance = -Infinity;
    for (let i = 0; i < n; i++) {
      const current = minDistance[i];
      if (current === -Infinity) continue;
      let sq = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) {
        const diff = data[row + j] - data[centre + j];
        sq += diff * diff;
      }
      const updated = sq < current ? sq : current;
      minDistance[i] = updated;
      if (updated > bestDistance) {
        bestDistance = updated;
        best = i;
      }
    }
    next = best;
    opts.onProgress?.(s + 1, count);
  }
  return selected;
}

async function projectedRows(features: tf.Tensor2D, opts: GreedyKCenterOptions, seed: number): Promise<{ data: Float32Array; dim: number }> {
  const d = features.shape[1];
  if (opts.projection) {
    assertRank(opts.projection, 2, 'greedyKCenter projection');
    if (opts.projection.shape[0] !== d) throw new RangeError(`greedyKCenter: projection must have ${d} rows (the feature dim), got shape [${opts.projection.shape.join(', ')}]`);
    return { data: await readBack(tf.tidy(() => tf.matMul(features, opts.projection as tf.Tensor2D))), dim: opts.projection.shape[1] };
  }
  const projectionDim = opts.projectionDim ?? 128;
  if (!Number.isInteger(projectionDim) || projectionDim < 0) throw new RangeError(`greedyKCenter: projectionDim must be a non-negative integer, got ${projectionDim}`);
  if (projectionDim === 0 || d <= projectionDim) {
    const data = await features.data();
    return { data: data instanceof Float32Array ? data : Float32Array.from(data), dim: d };
  }
  const projected = tf.tidy(() => tf.matMul(features, randomProjection(d, projectionDim, seed, opts.projectionKind)));
  return { data: await readBack(projected), dim: projectionDim };
}

/** Reads a tensor back asynchronously and disposes it. */
async function readBack(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
