import { assertRank, assertSameShape, tf, type Tensor3D, type Tensor4D } from '@thfr/tensor';

/**
 * 1 - cosine similarity along channels, per position: [B,h,w,C] x [B,h,w,C] -> [B,h,w].
 * As torch's F.cosine_similarity: dot / sqrt(max(|a|^2 |b|^2, eps^2)), so a zero vector gives
 * similarity 0 (distance 1) and finite gradients. Differentiable; the caller owns the result.
 */
export function cosineDistanceMap(a: Tensor4D, b: Tensor4D, eps = 1e-8, what = 'cosineDistanceMap'): Tensor3D {
  assertRank(a, 4, `${what} first input`);
  assertRank(b, 4, `${what} second input`);
  assertSameShape(a, b, `${what} first input`, 'second input');
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), -1);
    const squaredNorms = tf.mul(tf.sum(tf.square(a), -1), tf.sum(tf.square(b), -1));
    const denominator = tf.sqrt(tf.maximum(squaredNorms, eps * eps));
    return tf.sub(1, tf.div(dot, denominator)) as Tensor3D;
  });
}
