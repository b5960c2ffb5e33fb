import { tf, assertRank, type Tensor2D, type Tensor4D } from '@thfr/tensor';
import { randomProjection } from '@thfr/template-bank';
import type { PatchReduction } from './config.js';

/**
 * PatchCore's locally aware patch features of one level: each position becomes the mean of its
 * `neighborhood` x `neighborhood` neighbourhood (stride 1, 'same' size). Borders are zero-padded and
 * the zeros count in the mean, as torch's AvgPool2d(k, 1, k // 2) (anomalib) and the reference
 * implementation's zero-padded unfold do. The caller owns the result.
 */
export function locallyAwareFeatures(feature: Tensor4D, neighborhood: number): Tensor4D {
  assertRank(feature, 4, 'locallyAwareFeatures feature');
  if (!Number.isInteger(neighborhood) || neighborhood < 1 || neighborhood % 2 === 0) {
    throw new RangeError(`locallyAwareFeatures: neighborhood must be an odd positive integer, got ${neighborhood}`);
  }
  if (neighborhood === 1) return tf.clone(feature);
  const pad = (neighborhood - 1) / 2;
  return tf.tidy(() => tf.avgPool(tf.pad(feature, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) as Tensor4D, neighborhood, 1, 'valid') as Tensor4D);
}

/**
 * The [D, d] matrix of torch's adaptive_avg_pool1d over channels (PatchCore's MeanMapper /
 * Aggregator): output channel i is the mean of input channels floor(i*D/d) .. ceil((i+1)*D/d) - 1.
 */
export function adaptiveAveragePoolMatrix(inputDim: number, outputDim: number): Tensor2D {
  if (!Number.isInteger(inputDim) || inputDim < 1 || !Number.isInteger(outputDim) || outputDim < 1) {
    throw new RangeError(`adaptiveAveragePoolMatrix: dims must be positive integers, got ${inputDim} -> ${outputDim}`);
  }
  const values = new Float32Array(inputDim * outputDim);
  for (let i = 0; i < outputDim; i++) {
    const start = Math.floor((i * inputDim) / outputDim);
    const end = Math.ceil(((i + 1) * inputDim) / outputDim);
    for (let j = start; j < end; j++) values[j * outputDim + i] = 1 / (end - start);
  }
  return tf.tensor2d(values, [inputDim, outputDim], 'float32');
}

/**
 * The channel reduction applied to concatenated patch features of `inputDim` channels, or null when
 * `inputDim <= targetDim` (PatchCore would then repeat channels, which only rescales distances).
 * 'random-projection' is a seeded Gaussian Johnson-Lindenstrauss matrix from @thfr/template-bank,
 * so it is regenerated identically from (dims, seed) and never needs saving.
 */
export function reductionMatrix(inputDim: number, targetDim: number, kind: PatchReduction, seed: number): Tensor2D | null {
  if (inputDim <= targetDim) return null;
  return kind === 'adaptive-avg' ? adaptiveAveragePoolMatrix(inputDim, targetDim) : randomProjection(inputDim, targetDim, seed, 'gaussian');
}

export interface PatchEmbedding {
  /** [B * h * w, d] patch features, row = (image, y, x) in row-major order. */
  features: Tensor2D;
  /** Patch grid [h, w] = the first (shallowest) used level's size. */
  grid: [number, number];
}

/**
 * From backbone levels (shallowest first) to PatchCore patch features: locally aware averaging of
 * each level, bilinear upsampling (half-pixel centres = torch align_corners=False) of the deeper
 * levels to the first level's size, channel concatenation, then the optional reduction [D, d].
 * The caller owns the result.
 */
export function patchEmbedding(levels: readonly Tensor4D[], neighborhood: number, reduction: Tensor2D | null): PatchEmbedding {
  if (levels.length === 0) throw new Error('patchEmbedding: no feature levels given');
  levels.forEach((l, i) => {
    assertRank(l, 4, `patchEmbedding level ${i}`);
    if (l.shape[0] !== levels[0].shape[0]) throw new Error(`patchEmbedding level ${i}: batch ${l.shape[0]} differs from level 0's ${levels[0].shape[0]}`);
  });
  const [batch, h, w] = levels[0].shape;
  const dim = levels.reduce((s, l) => s + l.shape[3], 0);
  if (reduction && reduction.shape[0] !== dim) throw new Error(`patchEmbedding: reduction expects ${reduction.shape[0]} input channels, the levels have ${dim}`);
  const features = tf.tidy(() => {
    const parts = levels.map((level, i) => {
      const local = locallyAwareFeatures(level, neighborhood);
      return i === 0 || (level.shape[1] === h && level.shape[2] === w) ? local : tf.image.resizeBilinear(local, [h, w], false, true);
    });
    const flat = tf.reshape(parts.length === 1 ? parts[0] : tf.concat(parts, 3), [batch * h * w, dim]) as Tensor2D;
    return reduction ? (tf.matMul(flat, reduction) as Tensor2D) : flat;
  });
  return { features, grid: [h, w] };
}
