import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import type { LevelGeometry } from './network.js';

/**
 * The actual size and channels of every backbone level at `imageSize`, read from one probe forward
 * pass (adapters may round sizes differently from stride arithmetic). Levels must halve in size.
 */
export function measureLevels(backbone: FeatureExtractor, imageSize: number): LevelGeometry[] {
  const shapes = tf.tidy(() => backbone.extract(tf.zeros([1, imageSize, imageSize, 3]) as tf.Tensor4D).map((f) => f.shape));
  const levels = shapes.map((shape, k) => {
    if (shape[1] !== shape[2]) throw new Error(`backbone level '${backbone.levels[k].name}' is ${shape[1]}x${shape[2]} at ${imageSize}px: THFR needs square levels`);
    return { name: backbone.levels[k].name, channels: shape[3], size: shape[1] };
  });
  for (let k = 1; k < levels.length; k++) {
    if (levels[k - 1].size !== 2 * levels[k].size) {
      throw new Error(`backbone levels '${levels[k - 1].name}' (${levels[k - 1].size}px) and '${levels[k].name}' (${levels[k].size}px) must differ by a factor 2 (taps at strides 4, 8, 16)`);
    }
  }
  return levels;
}
