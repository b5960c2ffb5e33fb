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
import { inputBatch, inputCount, predictInBatches, type AnomalyDetector, type DetectorFitOptions, type DetectorFitSummary, type DetectorInput, type DetectorPrediction, type DetectorPredictOptions } from '@thfr/detector';

export interface TemplateDistanceOptions {
  /** Square input size. */
  size: number;
  /** Neighbourhood radius (in feature cells) searched for the best-matching template position. */
  radius?: number;
  sigma?: number;
  batchSize?: number;
}

/** A training-free detector implementing thfr's AnomalyDetector contract (@thfr/detector). */
export class TemplateDistanceDetector implements AnomalyDetector {
  readonly method = 'template-distance';
  readonly options: Required<TemplateDistanceOptions>;
  fitSummary?: DetectorFitSummary;
  private bank?: TemplateBank;

  constructor(readonly backbone: FeatureExtractor, options: TemplateDistanceOptions) {
    this.options = { radius: 1, sigma: 4, batchSize: 8, ...options };
  }

  get imageSize(): number { return this.options.size; }
  get batchSize(): number { return this.options.batchSize; }
  get fitted(): boolean { return this.bank !== undefined; }

  /** Stores every normal image's features in a template bank (keys: the deepest level). */
  async fit(normal: DetectorInput, _options: DetectorFitOptions = {}): Promise<DetectorFitSummary> {
    const started = performance.now();
    const x = inputBatch(normal, 0, inputCount(normal), this.imageSize);
    const features = this.backbone.extract(x);
    this.bank?.dispose();
    this.bank = await TemplateBank.fromFeatures(features[features.length - 1], features.slice(0, 2));
    tf.dispose([x, ...features]);
    this.fitSummary = { images: inputCount(normal), seconds: (performance.now() - started) / 1000, backend: tf.getBackend() };
    return this.fitSummary;
  }

  /** Anomaly maps [B, size, size] and image scores (max of the map). */
  async predict(images: DetectorInput, options: DetectorPredictOptions = {}): Promise<DetectorPrediction> {
    const bank = this.bank;
    if (!bank) throw new Error('TemplateDistanceDetector: call fit(images) first');
    const { size, radius, sigma } = this.options;
    return predictInBatches(images, async (x) => {
      const features = this.backbone.extract(x);
      const nearest = await bank.search(features[features.length - 1], { topN: 1 });
      const templates = bank.gather(nearest.indices.map((i) => i[0]));
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
      tf.dispose([...features, ...templates]);
      return { map, scores: tf.max(map, [1, 2]), extras: Array.from(nearest.indices, (i) => ({ template: i[0] })) };
    }, { batchSize: options.batchSize ?? this.batchSize, size, who: 'TemplateDistanceDetector.predict images', onProgress: options.onProgress, signal: options.signal });
  }

  memoryBytes(): Record<string, number> {
    return { bank: this.bank?.memoryBytes() ?? 0 };
  }

  dispose(): void {
    this.bank?.dispose();
    this.bank = undefined;
  }
}
