import { tf } from '@thfr/tensor';
import type { FeatureCache } from '@thfr/restoration';
import { l2NormalizeRows } from '@thfr/template-bank';

/** What measureLayoutAlignment found. */
export interface LayoutAlignment {
  /** Mean over the levels of perLevel: about 1 when positions correspond, about 0 when they do not. */
  alignment: number;
  /** Per backbone level, shallow to deep. */
  perLevel: number[];
  /** Training images it looked at (at most maxImages, evenly spaced; each paired with its nearest among all). */
  images: number;
}

/** Images per chunk: bounds the tensors alive at once (16 x 4 MB at level 1, 256 px). */
const CHUNK = 16;

/**
 * How much the same positions of an image and of its nearest other training image (the template THFR gives it:
 * cosine of the flattened deepest level, searched among all the training images) hold the same content. Per level,
 * with u(p) an image's unit feature at position p and v(p) its neighbour's, summed over the images looked at:
 *
 *     aligned  = mean_p u(p) . v(p)                 (same position)
 *     anywhere = mean_p mean_q u(p) . v(q)           (any two positions) = mean_p u(p) . mean_q v(q)
 *     ratio    = sum(aligned - anywhere) / sum(1 - anywhere)
 *
 * then the mean over levels. Objects photographed in place (MVTec AD-like objects, LOCO layouts) score near 1; a
 * stationary texture, whose nearest neighbour is another arrangement of the same texture, near 0 (a periodic one
 * such as brick in between, where the neighbour's period happens to line up). The ratio is pooled over images, so
 * near-uniform feature maps (anywhere close to 1) weigh little instead of dividing by almost nothing. Reads the
 * training features from the cache; leaves nothing on the backend.
 */
export async function measureLayoutAlignment(cache: FeatureCache, maxImages = 64): Promise<LayoutAlignment> {
  const n = cache.count;
  if (n < 2) throw new RangeError(`measureLayoutAlignment: needs at least 2 images, got ${n}`);
  if (!(Number.isInteger(maxImages) && maxImages >= 2)) throw new RangeError(`measureLayoutAlignment: maxImages must be an integer >= 2, got ${maxImages}`);
  const count = Math.min(n, maxImages);
  const picks = Int32Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
  const partners = await nearestOther(cache, picks);
  const perLevel: number[] = [];
  for (let level = 0; level < cache.levelCount; level++) {
    let gain = 0;
    let room = 0;
    for (let start = 0; start < count; start += CHUNK) {
      const end = Math.min(count, start + CHUNK);
      const sums = withGathered(cache, [picks.subarray(start, end), partners.subarray(start, end)], level, ([own, other]) => tf.tidy(() => {
        const u = unitPerPosition(own);
        const v = unitPerPosition(other);
        const aligned = tf.mean(tf.sum(tf.mul(u, v), 2), 1);
        const anywhere = tf.sum(tf.mul(tf.mean(u, 1), tf.mean(v, 1)), 1);
        return tf.stack([tf.sum(tf.sub(aligned, anywhere)), tf.sum(tf.sub(1, anywhere))]);
      }));
      const [g, r] = await sums.data();
      sums.dispose();
      gain += g;
      room += r;
    }
    perLevel.push(gain / Math.max(room, 1e-12));
  }
  return { alignment: perLevel.reduce((a, b) => a + b, 0) / perLevel.length, perLevel, images: count };
}

/** Runs `use` on the given images' features at `level` (one tensor per index list), disposing them afterwards. */
function withGathered<T>(cache: FeatureCache, lists: Int32Array[], level: number, use: (features: tf.Tensor4D[]) => T): T {
  const features: tf.Tensor4D[] = [];
  try {
    for (const list of lists) features.push(...cache.gather(list, [level]));
    return use(features);
  } finally {
    tf.dispose(features);
  }
}

/** [b, h, w, c] -> [b, h*w, c] with each position's feature at unit length (zero features stay zero). */
function unitPerPosition(features: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w, c] = features.shape;
  const norms = tf.sqrt(tf.sum(tf.square(features), 3, true));
  return tf.reshape(tf.div(features, tf.maximum(norms, 1e-12)), [b, h * w, c]);
}

/** [b, h, w, c] -> [b, h*w*c] at unit length: the template search's key, normalised as its cosine index does. */
function unitKeys(deepest: tf.Tensor4D): tf.Tensor2D {
  return l2NormalizeRows(tf.reshape(deepest, [deepest.shape[0], -1]));
}

/**
 * For each picked image, the index of its nearest other image among all the cache's images by the cosine of the
 * flattened deepest level, as THFR's template search finds it; the candidates are read in chunks.
 */
async function nearestOther(cache: FeatureCache, picks: Int32Array): Promise<Int32Array> {
  const deepest = cache.levelCount - 1;
  const best = new Int32Array(picks.length).fill(-1);
  const bestSimilarity = new Float64Array(picks.length).fill(-Infinity);
  for (let q = 0; q < picks.length; q += CHUNK) {
    const queries = picks.subarray(q, Math.min(picks.length, q + CHUNK));
    const queryKeys = withGathered(cache, [queries], deepest, ([f]) => tf.tidy(() => unitKeys(f)));
    try {
      for (let start = 0; start < cache.count; start += CHUNK) {
        const candidates = Int32Array.from({ length: Math.min(cache.count, start + CHUNK) - start }, (_, j) => start + j);
        const similarity = withGathered(cache, [candidates], deepest, ([f]) => tf.tidy(() => tf.matMul(queryKeys, unitKeys(f), false, true)));
        const values = await similarity.data();
        similarity.dispose();
        for (let i = 0; i < queries.length; i++) {
          for (let j = 0; j < candidates.length; j++) {
            const s = values[i * candidates.length + j];
            if (candidates[j] !== queries[i] && s > bestSimilarity[q + i]) {
              bestSimilarity[q + i] = s;
              best[q + i] = candidates[j];
            }
          }
        }
      }
    } finally {
      queryKeys.dispose();
    }
  }
  return best;
}
