import { tf } from '@thfr/tensor';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';

/** Channels and spatial size of each backbone level at the configured input size, shallowest first. */
export interface LevelGeometry {
  name: string;
  channels: number;
  size: number;
}

/**
 * The actual size and channels of every backbone level at `imageSize`, read from one probe forward
 * pass (adapters may round sizes differently from stride arithmetic). Levels must halve in size.
 * Runs the backbone synchronously; `measureLevelsAsync` also serves backbones that only extract
 * asynchronously (onnxruntime).
 */
export function measureLevels(backbone: FeatureExtractor, imageSize: number): LevelGeometry[] {
  const shapes = tf.tidy(() => backbone.extract(tf.zeros([1, imageSize, imageSize, 3]) as tf.Tensor4D).map((f) => f.shape));
  return checkLevels(backbone, shapes, imageSize);
}

/** measureLevels through the backbone's asynchronous extraction when it has one. */
export async function measureLevelsAsync(backbone: FeatureExtractor, imageSize: number): Promise<LevelGeometry[]> {
  const probe = tf.zeros([1, imageSize, imageSize, 3]) as tf.Tensor4D;
  try {
    const features = await extractFeatures(backbone, probe);
    const shapes = features.map((f) => f.shape);
    tf.dispose(features);
    return checkLevels(backbone, shapes, imageSize);
  } finally {
    probe.dispose();
  }
}

function checkLevels(backbone: FeatureExtractor, shapes: number[][], imageSize: number): LevelGeometry[] {
  const levels = shapes.map((shape, k) => {
    if (shape[1] !== shape[2]) throw new Error(`backbone level '${backbone.levels[k].name}' is ${shape[1]}x${shape[2]} at ${imageSize}px: feature restoration needs square levels`);
    return { name: backbone.levels[k].name, channels: shape[3], size: shape[1] };
  });
  for (let k = 1; k < levels.length; k++) {
    if (levels[k - 1].size !== 2 * levels[k].size) {
      throw new Error(`backbone levels '${levels[k - 1].name}' (${levels[k - 1].size}px) and '${levels[k].name}' (${levels[k].size}px) must differ by a factor 2 (taps at strides 4, 8, 16)`);
    }
  }
  return levels;
}
