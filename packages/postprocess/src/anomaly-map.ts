import { assertRank, tf, type Tensor1D, type Tensor3D, type Tensor4D } from '@thfr/tensor';
import { cosineDistanceMap } from './cosine-distance.js';
import { gaussianBlur } from './gaussian-blur.js';

export interface AnomalyMapOptions {
  /** Output size [H, W] (or one number for a square), normally the input image size. */
  outputSize: number | readonly [number, number];
  /** Gaussian blur sigma: 4 for MVTec AD, 2 for MVTec LOCO AD, 0 = no blur. Default 4. */
  sigma?: number;
  /** Weight of each level in the sum (default 1 each). */
  levelWeights?: readonly number[];
}

/**
 * Result of `anomalyMap`. The caller owns every tensor in it: dispose with `disposeAnomalyMap`
 * (or `tf.dispose([r.map, r.scores, ...r.levelMaps])`).
 */
export interface AnomalyMapResult {
  /** [B,H,W]: blurred sum of the weighted, upsampled level maps. */
  map: Tensor3D;
  /** Per level, [B,H,W]: weight * (1 - cosine) upsampled to the output size (before the blur). */
  levelMaps: Tensor3D[];
  /** [B]: image score = max of `map`. */
  scores: Tensor1D;
}

/**
 * The THFR / RD4AD anomaly map (paper eq. 4, 5): per level, 1 - cosine along channels between the
 * encoder features and their restoration; bilinear upsampling to the output size (torch
 * F.interpolate(mode='bilinear', align_corners=False) = tfjs resizeBilinear with half-pixel
 * centres); weighted sum over levels; Gaussian blur (scipy 'reflect'); image score = max.
 */
export function anomalyMap(features: readonly Tensor4D[], restored: readonly Tensor4D[], options: AnomalyMapOptions): AnomalyMapResult {
  const { sigma = 4 } = options;
  if (features.length === 0 || features.length !== restored.length) {
    throw new Error(`anomalyMap: expected as many restored levels as feature levels (at least one), got ${features.length} feature and ${restored.length} restored levels`);
  }
  const [height, width] = typeof options.outputSize === 'number' ? [options.outputSize, options.outputSize] : options.outputSize;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`anomalyMap: outputSize must be positive integers, got ${JSON.stringify(options.outputSize)}`);
  }
  const weights = options.levelWeights ?? features.map(() => 1);
  if (weights.length !== features.length || !weights.every(Number.isFinite)) {
    throw new Error(`anomalyMap: levelWeights must hold ${features.length} finite numbers, got ${JSON.stringify(options.levelWeights)}`);
  }
  features.forEach((f, i) => {
    assertRank(f, 4, `anomalyMap features[${i}]`);
    if (f.shape[0] !== features[0].shape[0]) throw new Error(`anomalyMap features[${i}]: batch ${f.shape[0]} differs from features[0]'s ${features[0].shape[0]}`);
  });
  return tf.tidy(() => {
    const levelMaps = features.map((f, i) => {
      const distance = cosineDistanceMap(f, restored[i], 1e-8, `anomalyMap level ${i} (features vs restored)`);
      const upsampled = tf.image.resizeBilinear(tf.expandDims(distance, -1) as Tensor4D, [height, width], false, true);
      const level = tf.squeeze(upsampled, [3]) as Tensor3D;
      return weights[i] === 1 ? level : (tf.mul(level, weights[i]) as Tensor3D);
    });
    const summed = levelMaps.length === 1 ? levelMaps[0] : (tf.addN(levelMaps) as Tensor3D);
    const map = gaussianBlur(summed, sigma, 'anomalyMap sum');
    const scores = tf.max(map, [1, 2]) as Tensor1D;
    return { map, levelMaps, scores };
  });
}

/** Disposes every tensor of an `anomalyMap` result. */
export function disposeAnomalyMap(result: AnomalyMapResult): void {
  tf.dispose([result.map, result.scores, ...result.levelMaps]);
}
