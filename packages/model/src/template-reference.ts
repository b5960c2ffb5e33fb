import { tf } from '@thfr/tensor';

/**
 * The template reference T at the bottleneck's resolution (DESIGN.md): every level average-pooled
 * down to `size` and concatenated along channels, e.g. 64x64x256, 32x32x512, 16x16x1024 -> 8x8x1792.
 */
export function templateReference(features: tf.Tensor4D[], size: number): tf.Tensor4D {
  return tf.tidy(() => {
    const pooled = features.map((f, k) => {
      const factor = f.shape[1] / size;
      if (!Number.isInteger(factor) || factor < 1) {
        throw new Error(`templateReference: level ${k + 1} (${f.shape[1]}x${f.shape[2]}) cannot be pooled to ${size}x${size}`);
      }
      return factor === 1 ? f : tf.avgPool(f, factor, factor, 'valid');
    });
    return tf.concat(pooled, 3) as tf.Tensor4D;
  });
}
