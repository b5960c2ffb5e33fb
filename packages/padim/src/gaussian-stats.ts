/**
 * Per-position Gaussian statistics in plain JavaScript: tfjs has no matrix inverse, and PaDiM needs one
 * d x d inverse per map position. Cholesky (covariance + epsilon I is symmetric positive definite).
 */

/** Inverts `count` symmetric positive definite d x d matrices stored back to back (in place is not needed: returns new). */
export function invertSpdBatch(matrices: Float32Array, count: number, d: number): Float32Array {
  const out = new Float32Array(count * d * d);
  const l = new Float64Array(d * d);
  const inv = new Float64Array(d * d);
  for (let p = 0; p < count; p++) {
    const a = matrices.subarray(p * d * d, (p + 1) * d * d);
    l.fill(0);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = a[i * d + j];
        for (let k = 0; k < j; k++) sum -= l[i * d + k] * l[j * d + k];
        if (i === j) {
          if (!(sum > 0)) throw new Error(`PaDiM: the covariance at position ${p} is not positive definite (raise config.epsilon)`);
          l[i * d + i] = Math.sqrt(sum);
        } else {
          l[i * d + j] = sum / l[j * d + j];
        }
      }
    }
    // inv(A) = inv(L)^T inv(L): first inv(L) (lower triangular), then the product.
    inv.fill(0);
    for (let j = 0; j < d; j++) {
      inv[j * d + j] = 1 / l[j * d + j];
      for (let i = j + 1; i < d; i++) {
        let sum = 0;
        for (let k = j; k < i; k++) sum -= l[i * d + k] * inv[k * d + j];
        inv[i * d + j] = sum / l[i * d + i];
      }
    }
    const base = p * d * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = 0;
        for (let k = i; k < d; k++) sum += inv[k * d + i] * inv[k * d + j];
        out[base + i * d + j] = sum;
        out[base + j * d + i] = sum;
      }
    }
  }
  return out;
}
