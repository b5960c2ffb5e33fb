import { tf } from '@thfr/tensor';
import { cosineDistance, cosineDistanceMap } from '@thfr/postprocess';

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
      // One cosine per sample over the whole level: the same fused kernel (or ops) along the flattened axis. The
      // norms' product is clamped at eps^2, as sqrt(|a|^2) sqrt(|b|^2) clamped at eps (torch's CosineSimilarity) is.
      const batch = f.shape[0];
      return tf.mean(cosineDistance(tf.reshape(f, [batch, -1]), tf.reshape(restored[k], [batch, -1]), 1e-8, `restorationLoss level ${k}`));
    });
    return tf.addN(perLevel) as tf.Scalar;
  });
}
