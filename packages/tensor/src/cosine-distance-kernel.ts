/**
 * 1 - cosine along channels as two tfjs kernels: the anomaly map of every restoration method and THFR's 'position'
 * loss take it per position. Composed of tfjs ops it is nine kernels and as many passes over both inputs forward,
 * more backward (on wasm ~6 ms for one [1, 64, 64, 256] level, a third of an inference's map); one kernel reads each
 * input once. This file is the contract shared by the op (@thfr/postprocess's cosineDistanceMap) and the kernels
 * (@thfr/runtime-common registers them per backend), plus the reference arithmetic the cpu kernel runs.
 *
 * Forward, `THFR_COSINE_DISTANCE`: inputs { a, b } (the same shape, channels last, rank >= 2), attrs { epsilon } ->
 * [distance (the shape without its last dim)], per position d = 1 - a·b / sqrt(max(|a|² |b|², ε²)) (torch's
 * F.cosine_similarity: a zero vector gives distance 1 and finite gradients).
 *
 * Backward, `THFR_COSINE_DISTANCE_GRAD`: inputs { a, b, dy }, attrs { epsilon } -> [da, db], with D = sqrt(|a|² |b|²):
 *   da = dy (-b / D + (a·b) a / (D |a|²)),  db = dy (-a / D + (a·b) b / (D |b|²))   where |a|² |b|² >= ε²,
 *   da = -dy b / ε,                         db = -dy a / ε                          where it is clamped
 * (the composed ops' gradient: tfjs' Maximum passes it to its first input where that input >= the second).
 */
export const THFR_COSINE_DISTANCE = 'ThfrCosineDistance';
export const THFR_COSINE_DISTANCE_GRAD = 'ThfrCosineDistanceGrad';

export interface CosineDistanceAttrs {
  epsilon: number;
}

/** Per-row coefficients of the gradient: da = alpha b + betaA a, db = alpha a + betaB b. */
export interface CosineGradientCoefficients {
  alpha: number;
  betaA: number;
  betaB: number;
}

/** The gradient's coefficients for one position from its dot product, squared norms and upstream gradient. */
export function cosineGradientCoefficients(dot: number, squaredA: number, squaredB: number, dy: number, epsilon: number): CosineGradientCoefficients {
  const product = squaredA * squaredB;
  if (product >= epsilon * epsilon) {
    const denominator = Math.sqrt(product);
    return { alpha: -dy / denominator, betaA: (dy * dot) / (denominator * squaredA), betaB: (dy * dot) / (denominator * squaredB) };
  }
  return { alpha: -dy / epsilon, betaA: 0, betaB: 0 };
}

/** The distance for one position from its dot product and squared norms. */
export function cosineDistanceOf(dot: number, squaredA: number, squaredB: number, epsilon: number): number {
  return 1 - dot / Math.sqrt(Math.max(squaredA * squaredB, epsilon * epsilon));
}

/** a·b, |a|² and |b|² over the `channels` values from `offset` (float64 sums). */
function rowSums(a: Float32Array, b: Float32Array, offset: number, channels: number): { dot: number; squaredA: number; squaredB: number } {
  let dot = 0;
  let squaredA = 0;
  let squaredB = 0;
  for (let c = offset; c < offset + channels; c++) {
    dot += a[c] * b[c];
    squaredA += a[c] * a[c];
    squaredB += b[c] * b[c];
  }
  return { dot, squaredA, squaredB };
}

/** The forward kernel's arithmetic on flat channels-last values (float64 sums), into `out` when given. */
export function cosineDistanceValues(a: Float32Array, b: Float32Array, channels: number, epsilon: number, out?: Float32Array): Float32Array {
  const rows = a.length / channels;
  const distance = out ?? new Float32Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += channels) {
    const { dot, squaredA, squaredB } = rowSums(a, b, o, channels);
    distance[r] = cosineDistanceOf(dot, squaredA, squaredB, epsilon);
  }
  return distance;
}

/** The backward kernel's arithmetic on flat channels-last values (float64 sums), into `out` when given. */
export function cosineDistanceGradValues(
  a: Float32Array, b: Float32Array, dy: Float32Array, channels: number, epsilon: number, out?: { da: Float32Array; db: Float32Array },
): { da: Float32Array; db: Float32Array } {
  const { da, db } = out ?? { da: new Float32Array(a.length), db: new Float32Array(a.length) };
  for (let r = 0, o = 0; r < dy.length; r++, o += channels) {
    const { dot, squaredA, squaredB } = rowSums(a, b, o, channels);
    const { alpha, betaA, betaB } = cosineGradientCoefficients(dot, squaredA, squaredB, dy[r], epsilon);
    for (let c = o; c < o + channels; c++) {
      da[c] = alpha * b[c] + betaA * a[c];
      db[c] = alpha * a[c] + betaB * b[c];
    }
  }
  return { da, db };
}
