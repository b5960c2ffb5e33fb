import { tf } from '@thfr/tensor';
import { createGaussian, createRandom } from '@thfr/detector';

export type ProjectionKind = 'gaussian' | 'sparse';

/**
 * A Johnson-Lindenstrauss random projection matrix [dim, projectedDim]: `matMul(x, P)` maps rows of x
 * to projectedDim dimensions with pairwise distances kept approximately (E ||xP||^2 = ||x||^2).
 *
 * - 'gaussian' (default): entries N(0, 1/projectedDim).
 * - 'sparse': Li et al.'s very sparse projection as scikit-learn's SparseRandomProjection (which
 *   anomalib's PatchCore uses) with density 1/sqrt(dim): +-sqrt(1/(density*projectedDim)) with
 *   probability density/2 each, else 0.
 *
 * Same (dim, projectedDim, seed, kind) gives the same matrix everywhere. The caller owns the tensor.
 */
export function randomProjection(dim: number, projectedDim: number, seed: number, kind: ProjectionKind = 'gaussian'): tf.Tensor2D {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`randomProjection: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(projectedDim) || projectedDim < 1) throw new RangeError(`randomProjection: projectedDim must be a positive integer, got ${projectedDim}`);
  const random = createRandom(seed);
  const values = new Float32Array(dim * projectedDim);
  if (kind === 'gaussian') {
    const gaussian = createGaussian(random);
    const scale = 1 / Math.sqrt(projectedDim);
    for (let i = 0; i < values.length; i++) values[i] = gaussian() * scale;
  } else if (kind === 'sparse') {
    const density = Math.min(1, 1 / Math.sqrt(dim));
    const magnitude = Math.sqrt(1 / (density * projectedDim));
    for (let i = 0; i < values.length; i++) {
      const u = random();
      values[i] = u < density / 2 ? -magnitude : u < density ? magnitude : 0;
    }
  } else {
    throw new RangeError(`randomProjection: kind must be 'gaussian' or 'sparse', got '${String(kind)}'`);
  }
  return tf.tensor2d(values, [dim, projectedDim], 'float32');
}
