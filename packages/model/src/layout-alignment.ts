import { tf } from '@thfr/tensor';
import type { FeatureCache } from '@thfr/restoration';

/** What measureLayoutAlignment found. */
export interface LayoutAlignment {
  /** Mean over the levels of perLevel: about 1 when positions correspond, about 0 when they do not. */
  alignment: number;
  /** Per backbone level, shallow to deep. */
  perLevel: number[];
  /** Training images it looked at (at most maxImages, evenly spaced). */
  images: number;
}

/** Images per chunk of the per-level pass: bounds the tensors alive at once (16 x 4 MB at level 1, 256 px). */
const CHUNK = 16;

/**
 * How much the same positions of an image and of its nearest other training image (the template THFR would give
 * it: cosine of the flattened deepest level) hold the same content. Per image and level, with u(p) the unit
 * feature at position p and v(p) the neighbour's:
 *
 *     aligned  = mean_p u(p) . v(p)                 (same position)
 *     anywhere = mean_p mean_q u(p) . v(q)           (any two positions) = mean_p u(p) . mean_q v(q)
 *     ratio    = (aligned - anywhere) / (1 - anywhere)
 *
 * averaged over images, then levels. Objects photographed in place (MVTec AD objects, LOCO layouts) score near 1;
 * a stationary texture, whose nearest neighbour is another arrangement of the same texture, near 0 (a periodic
 * one such as brick in between, where the neighbour's period happens to line up). Reads the training features from
 * the cache; leaves nothing on the backend.
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
    let sum = 0;
    for (let start = 0; start < count; start += CHUNK) {
      const chunk = picks.subarray(start, Math.min(count, start + CHUNK));
      const [own] = cache.gather(chunk, [level]);
      const [other] = cache.gather(partners.subarray(start, start + chunk.length), [level]);
      const ratios = tf.tidy(() => {
        const u = unitPerPosition(own);
        const v = unitPerPosition(other);
        const aligned = tf.mean(tf.sum(tf.mul(u, v), 2), 1);
        const anywhere = tf.sum(tf.mul(tf.mean(u, 1), tf.mean(v, 1)), 1);
        return tf.sum(tf.div(tf.sub(aligned, anywhere), tf.maximum(tf.sub(1, anywhere), 1e-6)));
      });
      tf.dispose([own, other]);
      sum += (await ratios.data())[0];
      ratios.dispose();
    }
    perLevel.push(sum / count);
  }
  return { alignment: perLevel.reduce((a, b) => a + b, 0) / perLevel.length, perLevel, images: count };
}

/** [b, h, w, c] -> [b, h*w, c] with each position's feature at unit length (zero features stay zero). */
function unitPerPosition(features: tf.Tensor4D): tf.Tensor3D {
  const [b, h, w, c] = features.shape;
  const norms = tf.sqrt(tf.sum(tf.square(features), 3, true));
  return tf.reshape(tf.div(features, tf.maximum(norms, 1e-12)), [b, h * w, c]);
}

/** For each picked image, the cache index of its nearest other picked image by cosine of the flattened deepest level. */
async function nearestOther(cache: FeatureCache, picks: Int32Array): Promise<Int32Array> {
  const [deepest] = cache.gather(picks, [cache.levelCount - 1]);
  const best = tf.tidy(() => {
    const flat = tf.reshape(deepest, [picks.length, -1]);
    const unit = tf.div(flat, tf.maximum(tf.sqrt(tf.sum(tf.square(flat), 1, true)), 1e-12));
    // Cosines lie in [-1, 1]: minus 3 on the diagonal keeps an image from being its own neighbour.
    const similarity = tf.sub(tf.matMul(unit, unit, false, true), tf.mul(tf.eye(picks.length), 3));
    return tf.argMax(similarity, 1);
  });
  deepest.dispose();
  const local = await best.data();
  best.dispose();
  return Int32Array.from(local, (j) => picks[j]);
}
