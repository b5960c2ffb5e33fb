import { tf, TensorStore } from '@thfr/tensor';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';

/**
 * Backbone features of every training image, computed once. The backbone is frozen, so re-running it
 * every epoch would only repeat work: a restoration network's training then touches just its own weights.
 */
export class FeatureCache {
  private readonly store = new TensorStore('FeatureCache');

  private constructor(readonly count: number, readonly levelCount: number) {}

  /**
   * Runs `backbone` over `count` images provided in batches by `batchAt(start, end)` (which returns a
   * [end-start, H, W, 3] tensor the cache disposes).
   */
  static async build(backbone: FeatureExtractor, count: number, batchSize: number, batchAt: (start: number, end: number) => tf.Tensor4D, onProgress?: (done: number, total: number) => void): Promise<FeatureCache> {
    if (count === 0) throw new Error('FeatureCache: no training images');
    const parts: tf.Tensor4D[][] = backbone.levels.map(() => []);
    try {
      for (let start = 0; start < count; start += batchSize) {
        const end = Math.min(count, start + batchSize);
        const batch = batchAt(start, end);
        let features: tf.Tensor4D[];
        try {
          features = await extractFeatures(backbone, batch);
        } finally {
          batch.dispose();
        }
        features.forEach((f, k) => parts[k].push(f));
        await features[features.length - 1].data(); // let async backends finish before the next batch
        onProgress?.(end, count);
      }
      const cache = new FeatureCache(count, parts.length);
      parts.forEach((levelParts, k) => cache.store.set(`level${k}`, tf.concat(levelParts, 0) as tf.Tensor4D));
      return cache;
    } finally {
      parts.flat().forEach((t) => t.dispose());
    }
  }

  /** All images of level k: [N, h, w, c] (owned by the cache). */
  level(k: number): tf.Tensor4D {
    return this.store.get(`level${k}`) as tf.Tensor4D;
  }

  levels(): tf.Tensor4D[] {
    return Array.from({ length: this.levelCount }, (_, k) => this.level(k));
  }

  /** The features of the given images, one new tensor per level. */
  gather(indices: ArrayLike<number>): tf.Tensor4D[] {
    return tf.tidy(() => {
      const idx = tf.tensor1d(Int32Array.from(indices), 'int32');
      return this.levels().map((level) => tf.gather(level, idx) as tf.Tensor4D);
    });
  }

  memoryBytes(): number {
    return this.levels().reduce((sum, t) => sum + t.size * 4, 0);
  }

  dispose(): void {
    this.store.dispose();
  }
}
