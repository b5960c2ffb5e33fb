import { tf } from '@thfr/tensor';
import { cosineDistanceMap } from '@thfr/postprocess';

/**
 * How the restoration loss compares a level with its restoration:
 * - 'position': paper eq. 3 read literally: 1 - cosine along channels at every position, averaged over
 *   positions and batch ("the cosine similarity ... of each position");
 * - 'flattened': RD4AD's official code (`loss_function`: one cosine per sample over the whole flattened
 *   C x H x W map), whose numbers the paper's "without template" row reproduces. It weighs positions by their
 *   feature magnitude, so a region whose features mostly change in scale still moves the loss.
 */
export type RestorationLossForm = 'position' | 'flattened';

/** Restoration loss: per level 1 - cosine (see RestorationLossForm), summed over levels. */
export function restorationLoss(features: tf.Tensor4D[], restored: tf.Tensor4D[], form: RestorationLossForm = 'position'): tf.Scalar {
  if (features.length !== restored.length) throw new Error(`restorationLoss: ${features.length} feature levels but ${restored.length} restored levels`);
  return tf.tidy(() => {
    const perLevel = features.map((f, k) => {
      if (form === 'position') return tf.mean(cosineDistanceMap(f, restored[k]));
      const batch = f.shape[0];
      const a = tf.reshape(f, [batch, -1]);
      const b = tf.reshape(restored[k], [batch, -1]);
      const dot = tf.sum(tf.mul(a, b), 1);
      // sqrt(sum(x^2)) rather than tf.norm: tf.norm goes through Pow, an element-wise loop on wasm (a 3.4x
      // slower forward and backward over [8, 262144] here).
      const norms = tf.mul(tf.sqrt(tf.sum(tf.square(a), 1)), tf.sqrt(tf.sum(tf.square(b), 1)));
      // torch's CosineSimilarity clamps the norm product at eps = 1e-8.
      return tf.mean(tf.sub(1, tf.div(dot, tf.maximum(norms, 1e-8))));
    });
    return tf.addN(perLevel) as tf.Scalar;
  });
}
