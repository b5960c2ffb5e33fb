import { assertRank, assertSameShape, missingKernels, tf, THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD, type Tensor3D, type Tensor4D } from '@thfr/tensor';

let gradientRegistered = false;

/** The backward kernel as the forward kernel's gradient (registered once, on first use). */
function registerCosineDistanceGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: THFR_COSINE_DISTANCE,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      // One kernel gives both gradients: run it here, not in the per-input closures, so that the enclosing gradient
      // scope owns (and frees) the one a closure does not return.
      const [da, db] = tf.engine().runKernel(THFR_COSINE_DISTANCE_GRAD, { a, b, dy: dy as tf.Tensor }, { epsilon: (attrs as { epsilon: number }).epsilon }) as tf.Tensor[];
      return { a: () => da, b: () => db };
    },
  });
}

/** Whether the active backend has the fused kernels (@thfr/runtime-common registers them for cpu and wasm). */
export function hasFusedCosineDistance(): boolean {
  return missingKernels([THFR_COSINE_DISTANCE, THFR_COSINE_DISTANCE_GRAD]).length === 0;
}

/**
 * 1 - cosine similarity along the last axis: [..., C] x [..., C] -> [...] (rank >= 2). As torch's
 * F.cosine_similarity: dot / sqrt(max(|a|^2 |b|^2, eps^2)), so a zero vector gives similarity 0 (distance 1) and
 * finite gradients. One fused kernel forward and one backward where the backend has them (@thfr/tensor's
 * cosine-distance-kernel.ts), else tfjs ops. Differentiable; the caller owns the result.
 */
export function cosineDistance(a: tf.Tensor, b: tf.Tensor, eps = 1e-8, what = 'cosineDistance'): tf.Tensor {
  if (a.rank < 2) throw new Error(`${what} first input: expected rank >= 2 (vectors along the last axis), got [${a.shape.join(', ')}]`);
  assertSameShape(a, b, `${what} first input`, 'second input');
  if (hasFusedCosineDistance() && a.dtype === 'float32' && b.dtype === 'float32') {
    registerCosineDistanceGradient();
    return tf.engine().runKernel(THFR_COSINE_DISTANCE, { a, b }, { epsilon: eps }) as tf.Tensor;
  }
  return cosineDistanceComposed(a, b, eps);
}

/** Per position of feature maps: [B,h,w,C] x [B,h,w,C] -> [B,h,w] (`cosineDistance` along channels). */
export function cosineDistanceMap(a: Tensor4D, b: Tensor4D, eps = 1e-8, what = 'cosineDistanceMap'): Tensor3D {
  assertRank(a, 4, `${what} first input`);
  assertRank(b, 4, `${what} second input`);
  return cosineDistance(a, b, eps, what) as Tensor3D;
}

/** The same distance composed of tfjs ops (every backend; the fused kernels' reference in tests). */
export function cosineDistanceComposed<T extends tf.Tensor>(a: T, b: T, eps = 1e-8): tf.Tensor {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(a, b), -1);
    const squaredNorms = tf.mul(tf.sum(tf.square(a), -1), tf.sum(tf.square(b), -1));
    const denominator = tf.sqrt(tf.maximum(squaredNorms, eps * eps));
    return tf.sub(1, tf.div(dot, denominator));
  });
}
