import { tf } from '@thfr/tensor';
import { cosineDistanceMap } from '@thfr/postprocess';

/**
 * Restoration loss (paper eq. 3): per level, 1 - cosine similarity between the backbone feature and
 * its restoration along channels, averaged over positions and batch; summed over levels.
 */
export function restorationLoss(features: tf.Tensor4D[], restored: tf.Tensor4D[]): tf.Scalar {
  if (features.length !== restored.length) throw new Error(`restorationLoss: ${features.length} feature levels but ${restored.length} restored levels`);
  return tf.tidy(() => tf.addN(features.map((f, k) => tf.mean(cosineDistanceMap(f, restored[k])))) as tf.Scalar);
}
