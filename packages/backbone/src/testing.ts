/**
 * Test helpers for packages that consume backbones (import from "@thfr/backbone/testing"): a tiny
 * deterministic extractor and toy images, so model tests need no weights file and run in seconds.
 */
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from './feature-extractor.js';

/**
 * A deterministic 3-level extractor (strides 4, 8, 16) made of fixed random patchify convs, so the
 * model tests need no weights file and run in seconds.
 */
export function tinyBackbone(channels: [number, number, number] = [8, 12, 16], seed = 11): FeatureExtractor {
  const w1 = tf.randomNormal([4, 4, 3, channels[0]], 0, 0.5, 'float32', seed) as tf.Tensor4D;
  const w2 = tf.randomNormal([2, 2, channels[0], channels[1]], 0, 0.3, 'float32', seed + 1) as tf.Tensor4D;
  const w3 = tf.randomNormal([2, 2, channels[1], channels[2]], 0, 0.3, 'float32', seed + 2) as tf.Tensor4D;
  return {
    identity: { architecture: 'tiny-test', weights: `seed:${seed}`, taps: ['l1', 'l2', 'l3'] },
    levels: [
      { name: 'l1', stride: 4, channels: channels[0] },
      { name: 'l2', stride: 8, channels: channels[1] },
      { name: 'l3', stride: 16, channels: channels[2] },
    ],
    extract(images: tf.Tensor4D): tf.Tensor4D[] {
      return tf.tidy(() => {
        const f1 = tf.relu(tf.conv2d(tf.sub(images, 0.5) as tf.Tensor4D, w1, 4, 'valid'));
        const f2 = tf.relu(tf.conv2d(f1, w2, 2, 'valid'));
        const f3 = tf.relu(tf.conv2d(f2, w3, 2, 'valid'));
        return [f1, f2, f3] as tf.Tensor4D[];
      });
    },
    dispose() {
      tf.dispose([w1, w2, w3]);
    },
  };
}

/** Simple RGB images: a smooth gradient background with a bright square whose place varies a little. */
export function toyImages(count: number, size: number, seed: number, anomaly = false): Array<{ width: number; height: number; data: Uint8Array }> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Array.from({ length: count }, () => {
    const data = new Uint8Array(size * size * 3);
    const ox = Math.floor(size / 4 + rand() * 4);
    const oy = Math.floor(size / 4 + rand() * 4);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (y * size + x) * 3;
        const inSquare = x >= ox && x < ox + size / 4 && y >= oy && y < oy + size / 4;
        const inDefect = anomaly && x >= size * 0.6 && x < size * 0.8 && y >= size * 0.6 && y < size * 0.8;
        data[i] = inDefect ? 20 : inSquare ? 230 : 60 + (x * 100) / size;
        data[i + 1] = inDefect ? 200 : inSquare ? 200 : 80 + (y * 80) / size;
        data[i + 2] = inDefect ? 30 : inSquare ? 40 : 120;
      }
    }
    return { width: size, height: size, data };
  });
}

/**
 * `backbone` as an engine that only runs asynchronously would expose it (onnxruntime, in @thfr/backbone-onnx):
 * `extractAsync` gives its features, `extract` throws. Methods that pass `extractFeatures` work with it unchanged.
 * Disposing the wrapper leaves `backbone` alone.
 */
export function asyncOnlyBackbone(backbone: FeatureExtractor): FeatureExtractor {
  return {
    identity: backbone.identity,
    levels: backbone.levels,
    extract(): tf.Tensor4D[] {
      throw new Error(`asyncOnlyBackbone(${backbone.identity.architecture}): extract() called; use extractFeatures(backbone, images)`);
    },
    async extractAsync(images: tf.Tensor4D): Promise<tf.Tensor4D[]> {
      return backbone.extract(images);
    },
    dispose() {},
  };
}
