import { assertRank, tf, type Tensor3D, type Tensor4D } from '@thfr/tensor';

/** Kernel radius of scipy.ndimage.gaussian_filter (truncate = 4): int(4 * sigma + 0.5). */
export function gaussianRadius(sigma: number, truncate = 4): number {
  return Math.trunc(truncate * sigma + 0.5);
}

/** Normalised 1-D Gaussian weights of length 2 * radius + 1, as scipy's _gaussian_kernel1d. */
export function gaussianKernel1d(sigma: number, radius = gaussianRadius(sigma)): Float64Array {
  const weights = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp((-0.5 * i * i) / (sigma * sigma));
    weights[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < weights.length; i++) weights[i] /= sum;
  return weights;
}

/** Source index of padded position `index` under scipy's 'reflect' (d c b a | a b c d | d c b a). */
export function reflectIndex(index: number, length: number): number {
  const period = 2 * length;
  const m = ((index % period) + period) % period;
  return m < length ? m : period - 1 - m;
}

/**
 * Pads `x` along `axis` by `radius` on both sides with scipy's 'reflect' mode, from slices,
 * reverses and one concat (ops every backend has, with gradients). Works for any radius, also
 * one larger than the axis (the reflection then repeats, as in scipy).
 */
export function reflectPad(x: tf.Tensor, axis: number, radius: number): tf.Tensor {
  if (radius === 0) return tf.clone(x);
  const length = x.shape[axis];
  const indices: number[] = [];
  for (let i = -radius; i < length + radius; i++) indices.push(reflectIndex(i, length));
  return tf.tidy(() => {
    // Split the index sequence into runs of consecutive (+1) or reversed (-1) indices: one slice each.
    const pieces: tf.Tensor[] = [];
    let start = 0;
    while (start < indices.length) {
      let end = start + 1;
      const step = end < indices.length ? indices[end] - indices[start] : 1;
      if (step === 1 || step === -1) while (end < indices.length && indices[end] - indices[end - 1] === step) end++;
      const first = Math.min(indices[start], indices[end - 1]);
      const begin = x.shape.map((_, d) => (d === axis ? first : 0));
      const size = x.shape.map((s, d) => (d === axis ? end - start : s));
      const piece = tf.slice(x, begin, size);
      pieces.push(step === -1 && end - start > 1 ? tf.reverse(piece, axis) : piece);
      start = end;
    }
    return pieces.length === 1 ? pieces[0] : tf.concat(pieces, axis);
  });
}

/**
 * Gaussian blur of [B,H,W] maps over H and W, as scipy.ndimage.gaussian_filter(map, (0, sigma, sigma),
 * mode='reflect', truncate=4): two separable 1-D passes with reflecting boundaries. sigma 0 returns a
 * copy. Differentiable; the caller owns the result.
 */
export function gaussianBlur(maps: Tensor3D, sigma: number, what = 'gaussianBlur input'): Tensor3D {
  assertRank(maps, 3, what);
  if (!(sigma >= 0) || !Number.isFinite(sigma)) throw new Error(`gaussianBlur: sigma must be a finite number >= 0, got ${sigma}`);
  if (sigma === 0) return tf.clone(maps);
  const [batch, height, width] = maps.shape;
  const weights = gaussianKernel1d(sigma);
  return tf.tidy(() => {
    // Each 1-D pass is one matMul with the reflect-folded band matrix (blurMatrix), given already transposed: on
    // wasm a 1-channel conv with a 33-tap kernel ran at ~0.25 GFLOP/s (18 ms for a 256x256 map) and a matMul with
    // transposeB 10x slower than without (24 vs 2 ms for 256x256); the reflect padding's slices, reverses and concat
    // disappear into the matrix.
    const rows = tf.matMul(tf.reshape(maps, [batch * height, width]), blurMatrix(width, weights));
    const columns = tf.reshape(tf.transpose(tf.reshape(rows, [batch, height, width]), [0, 2, 1]), [batch * width, height]);
    const both = tf.matMul(columns, blurMatrix(height, weights));
    return tf.transpose(tf.reshape(both, [batch, width, height]), [0, 2, 1]) as Tensor3D;
  });
}

/**
 * The 1-D Gaussian filter with scipy's 'reflect' boundary as a [length, length] matrix B that blurs rows from the
 * right (x B): (x B)[i] = sum_t w[t] x[reflectIndex(i + t - radius)], so reflected taps add onto the source sample
 * they copy. B is the transpose of the filter's usual matrix form.
 */
export function blurMatrix(length: number, weights: ArrayLike<number>): tf.Tensor2D {
  return tf.tensor2d(blurMatrixValues(length, weights), [length, length]);
}

/** blurMatrix's values, row-major [length, length] (summed in float64), for engines other than tfjs (the ONNX export of a whole inference). */
export function blurMatrixValues(length: number, weights: ArrayLike<number>): Float32Array {
  const radius = (weights.length - 1) / 2;
  const matrix = new Float64Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let t = 0; t < weights.length; t++) matrix[reflectIndex(i + t - radius, length) * length + i] += weights[t];
  }
  return Float32Array.from(matrix);
}
