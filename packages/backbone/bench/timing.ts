import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '../src/feature-extractor.js';

/** Median wall time (ms) of `extract` on a [batch, size, size, 3] image after one warm-up call. */
export async function timeExtract(backbone: FeatureExtractor, batch: number, size: number, repeats: number): Promise<number> {
  const images = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const once = async () => {
    const start = performance.now();
    const features = backbone.extract(images);
    await features[features.length - 1].data(); // wait for the backend
    const ms = performance.now() - start;
    tf.dispose(features);
    return ms;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  images.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
