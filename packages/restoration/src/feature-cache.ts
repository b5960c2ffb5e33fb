import { tf, tunePendingKernels } from '@thfr/tensor';
import { extractFeatures, type FeatureExtractor } from '@thfr/backbone';

/**
 * Backbone features of every training image, computed once. The backbone is frozen, so re-running it
 * every epoch would only repeat work: a restoration network's training then touches just its own weights.
 *
 * The features live in host (JavaScript) memory, one Float32Array per image and level, and only the images
 * of the current step are uploaded as tensors. At 256 px ResNet-50's three levels are 7.3 MB per image: kept
 * as tensors, a few hundred training images would fill the wasm backend's 4 GiB heap, which also has to hold
 * the network, Adam's moments and a step's activations. Uploading a batch costs a memory copy (29 MB at
 * 256 px / batch 4), small next to the training step it feeds.
 */
export class FeatureCache {
  /** rows[level][image]: that image's [h, w, c] features, row-major. */
  private rows: Float32Array[][] | undefined;

  private constructor(rows: Float32Array[][], readonly levelShapes: ReadonlyArray<readonly [number, number, number]>) {
    this.rows = rows;
  }

  /**
   * Runs `backbone` over `count` images provided in batches by `batchAt(start, end)` (which returns a
   * [end-start, H, W, 3] tensor the cache disposes). Reads each batch back asynchronously (WebGPU in Node has
   * no synchronous read) and keeps no tensor.
   */
  static async build(backbone: FeatureExtractor, count: number, batchSize: number, batchAt: (start: number, end: number) => tf.Tensor4D, onProgress?: (done: number, total: number) => void): Promise<FeatureCache> {
    if (count === 0) throw new Error('FeatureCache: no training images');
    const rows: Float32Array[][] = backbone.levels.map(() => []);
    let shapes: Array<[number, number, number]> = [];
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(count, start + batchSize);
      const batch = batchAt(start, end);
      let features: tf.Tensor4D[];
      try {
        features = await extractFeatures(backbone, batch);
      } finally {
        batch.dispose();
      }
      try {
        shapes = features.map((f) => [f.shape[1], f.shape[2], f.shape[3]]);
        const data = await Promise.all(features.map((f) => f.data() as Promise<Float32Array>));
        data.forEach((levelData, k) => {
          const perImage = shapes[k][0] * shapes[k][1] * shapes[k][2];
          for (let i = 0; i < end - start; i++) rows[k].push(levelData.slice(i * perImage, (i + 1) * perImage));
        });
      } finally {
        tf.dispose(features);
      }
      // Kernels chosen by timing (a runtime's 'auto' kernels) time the shapes this batch met; none registered: no-op.
      await tunePendingKernels();
      onProgress?.(end, count);
    }
    return new FeatureCache(rows, shapes);
  }

  get count(): number {
    return this.live[0].length;
  }

  get levelCount(): number {
    return this.levelShapes.length;
  }

  /**
   * The features of the given images, one new [indices.length, h, w, c] tensor per level (the caller owns
   * them); `levels` picks which levels (default: all, in order).
   */
  gather(indices: ArrayLike<number>, levels: readonly number[] = this.levelShapes.map((_, k) => k)): tf.Tensor4D[] {
    const rows = this.live;
    const picks = Array.from(indices);
    picks.forEach((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`FeatureCache.gather: index ${i} is outside 0..${this.count - 1}`);
    });
    return levels.map((k) => {
      if (!this.levelShapes[k]) throw new RangeError(`FeatureCache.gather: level ${k} is outside 0..${this.levelCount - 1}`);
      const [h, w, c] = this.levelShapes[k];
      const perImage = h * w * c;
      const out = new Float32Array(picks.length * perImage);
      picks.forEach((i, j) => out.set(rows[k][i], j * perImage));
      return tf.tensor4d(out, [picks.length, h, w, c], 'float32');
    });
  }

  /** Images start..end-1 (clamped to the cache), one new tensor per requested level. */
  slice(start: number, end: number, levels?: readonly number[]): tf.Tensor4D[] {
    const last = Math.min(end, this.count);
    return this.gather(Array.from({ length: Math.max(0, last - start) }, (_, j) => start + j), levels);
  }

  /** Host bytes held (the features are not on the tensor backend). */
  memoryBytes(): number {
    return this.levelShapes.reduce((sum, [h, w, c]) => sum + this.count * h * w * c * 4, 0);
  }

  dispose(): void {
    this.rows = undefined;
  }

  private get live(): Float32Array[][] {
    if (!this.rows) throw new Error('FeatureCache: used after dispose()');
    return this.rows;
  }
}
