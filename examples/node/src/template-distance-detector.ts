/**
 * A detector that is not THFR, built only from thfr's public packages: for a test image, find its most
 * similar normal image with the template bank's image-level nearest-neighbour search, then score every
 * position by the cosine distance between the test image's features and that template's features,
 * taking the best match in a small neighbourhood (to tolerate misalignment). No training.
 */
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '@thfr/backbone';
import { TemplateBank } from '@thfr/template-bank';
import { cosineDistanceMap, gaussianBlur } from '@thfr/postprocess';

export interface TemplateDistanceOptions {
  /** Square input size. */
  size: number;
  /** Neighbourhood radius (in feature cells) searched for the best-matching template position. */
  radius?: number;
  sigma?: number;
}

function toTensor(images: Array<{ width: number; height: number; data: Uint8Array }>, size: number): tf.Tensor4D {
  return tf.tidy(() => tf.stack(images.map((im) => {
    const t = tf.div(tf.tensor3d(Float32Array.from(im.data), [im.height, im.width, 3]), 255) as tf.Tensor3D;
    return im.width === size && im.height === size ? t : tf.image.resizeBilinear(t, [size, size], false, true);
  })) as tf.Tensor4D);
}

export class TemplateDistanceDetector {
  private constructor(private readonly backbone: FeatureExtractor, private readonly bank: TemplateBank, private readonly options: Required<TemplateDistanceOptions>) {}

  /** Stores every normal image's features in a template bank (keys: the deepest level). */
  static async fit(backbone: FeatureExtractor, normal: Array<{ width: number; height: number; data: Uint8Array }>, options: TemplateDistanceOptions): Promise<TemplateDistanceDetector> {
    const x = toTensor(normal, options.size);
    const features = backbone.extract(x);
    const bank = await TemplateBank.fromFeaturesAsync(features[features.length - 1], features.slice(0, 2));
    tf.dispose([x, ...features]);
    return new TemplateDistanceDetector(backbone, bank, { radius: 1, sigma: 4, ...options });
  }

  /** Anomaly maps [B, size, size] and image scores (max of the map). */
  async predict(images: Array<{ width: number; height: number; data: Uint8Array }>): Promise<{ scores: Float32Array; maps: Float32Array[] }> {
    const { size, radius, sigma } = this.options;
    const x = toTensor(images, size);
    const features = this.backbone.extract(x);
    const nearest = await this.bank.searchAsync(features[features.length - 1], { topN: 1 });
    const templates = this.bank.gather(nearest.indices.map((i) => i[0]));
    const map = tf.tidy(() => {
      const perLevel = templates.map((template, level) => {
        const query = features[level];
        // Best match over shifted copies of the template: min over the neighbourhood of the cosine distance.
        const [b, h, w] = query.shape;
        const padded = tf.pad(template, [[0, 0], [radius, radius], [radius, radius], [0, 0]]);
        const shifted: tf.Tensor3D[] = [];
        for (let dy = 0; dy <= 2 * radius; dy++) {
          for (let dx = 0; dx <= 2 * radius; dx++) {
            shifted.push(cosineDistanceMap(query, tf.slice(padded, [0, dy, dx, 0], [b, h, w, -1]) as tf.Tensor4D) as tf.Tensor3D);
          }
        }
        const best = tf.min(tf.stack(shifted, 3), 3);
        return tf.squeeze(tf.image.resizeBilinear(tf.expandDims(best, 3) as tf.Tensor4D, [size, size], false, true), [3]);
      });
      return gaussianBlur(tf.addN(perLevel) as tf.Tensor3D, sigma);
    });
    const data = (await map.data()) as Float32Array;
    tf.dispose([x, map, ...features, ...templates]);
    const pixels = size * size;
    const maps = images.map((_, i) => data.slice(i * pixels, (i + 1) * pixels));
    return { scores: Float32Array.from(maps, (m) => m.reduce((a, v) => Math.max(a, v), -Infinity)), maps };
  }

  dispose(): void {
    this.bank.dispose();
  }
}
