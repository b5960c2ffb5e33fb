/**
 * The fused training batch norm as two tfjs kernels, so that a layer costs two kernel launches per step instead of
 * ~25 (moments, normalisation, running statistics, ReLU and their gradients: each a dispatch on WebGPU). This file
 * is the contract shared by the op (@thfr/nn's BatchNorm2d) and the kernels (@thfr/runtime-common registers them per
 * backend), plus the reference arithmetic the cpu and wasm kernels run.
 *
 * Forward, `THFR_BATCH_NORM_TRAIN`: inputs { x (channels last, any rank), gamma [C], beta [C], runningMean [C],
 * runningVar [C] }, attrs { epsilon, momentum, relu } -> outputs [y (x's shape), stats [2, C] (batch mean and biased
 * variance), newRunningMean [C], newRunningVar [C]]. PyTorch's semantics: y = γ (x - μ) / sqrt(σ² + ε) + β (then
 * max(0, ·) when relu), running = (1 - momentum) running + momentum batch, with the unbiased variance n / (n - 1) σ².
 *
 * Backward, `THFR_BATCH_NORM_TRAIN_GRAD`: inputs { dy, x, stats, gamma, y } (y is read only when relu), attrs
 * { epsilon, relu } -> outputs [dx, dGamma, dBeta], with g = dy (masked by y > 0 when relu):
 *   dβ = Σ g,  dγ = Σ g x̂,  dx = γ / sqrt(σ² + ε) · (g - dβ / n - x̂ dγ / n).
 */
export const THFR_BATCH_NORM_TRAIN = 'ThfrBatchNormTrain';
export const THFR_BATCH_NORM_TRAIN_GRAD = 'ThfrBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  epsilon: number;
  momentum: number;
  relu: boolean;
}

export interface BatchNormTrainForwardValues {
  y: Float32Array;
  /** [mean..., variance...] (biased). */
  stats: Float32Array;
  newRunningMean: Float32Array;
  newRunningVar: Float32Array;
}

/**
 * The forward kernel's arithmetic on flat channels-last values (`channels` = the last dim), written into `out` when
 * given (a backend's own output buffers) or into new arrays.
 */
export function batchNormTrainForwardValues(
  x: Float32Array, channels: number, gamma: Float32Array, beta: Float32Array, runningMean: Float32Array, runningVar: Float32Array, attrs: BatchNormTrainAttrs,
  out?: BatchNormTrainForwardValues,
): BatchNormTrainForwardValues {
  const rows = x.length / channels;
  const { y, stats, newRunningMean, newRunningVar } = out ?? {
    y: new Float32Array(x.length), stats: new Float32Array(2 * channels), newRunningMean: new Float32Array(channels), newRunningVar: new Float32Array(channels),
  };
  // One pass for both moments, shifted by the first row: sums of (x - x₀) and (x - x₀)² keep the variance of
  // features with a large mean from cancelling (E[x²] - E[x]² would), as a second pass would, at half the reads.
  const shift = new Float64Array(channels);
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let c = 0; c < channels; c++) shift[c] = x[c];
  for (let o = 0; o < x.length; o += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[o + c] - shift[c];
      sum[c] += d;
      squares[c] += d * d;
    }
  }
  const { scale, offset } = batchNormForwardChannels(sum, squares, shift, rows, gamma, beta, runningMean, runningVar, attrs, { stats, newRunningMean, newRunningVar });
  if (attrs.relu) {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) {
        const v = x[o + c] * scale[c] + offset[c];
        y[o + c] = v > 0 ? v : 0;
      }
    }
  } else {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) y[o + c] = x[o + c] * scale[c] + offset[c];
    }
  }
  return { y, stats, newRunningMean, newRunningVar };
}

/**
 * The forward kernel's per-channel step, shared by every implementation of its two passes: from the moments' sums
 * (Σ (x - shift) and Σ (x - shift)² over `rows` rows, per channel) writes the batch statistics and the new running
 * ones into `out` and returns y = x scale + offset's coefficients (before the ReLU).
 */
export function batchNormForwardChannels(
  sum: ArrayLike<number>, squares: ArrayLike<number>, shift: ArrayLike<number>, rows: number, gamma: Float32Array, beta: Float32Array,
  runningMean: Float32Array, runningVar: Float32Array, attrs: BatchNormTrainAttrs, out: Omit<BatchNormTrainForwardValues, 'y'>,
): { scale: Float64Array; offset: Float64Array } {
  const channels = gamma.length;
  const { stats, newRunningMean, newRunningVar } = out;
  const scale = new Float64Array(channels);
  const offset = new Float64Array(channels);
  const m = attrs.momentum;
  for (let c = 0; c < channels; c++) {
    const meanShifted = sum[c] / rows;
    const mean = shift[c] + meanShifted;
    const variance = Math.max(squares[c] / rows - meanShifted * meanShifted, 0);
    const invStd = 1 / Math.sqrt(variance + attrs.epsilon);
    scale[c] = gamma[c] * invStd;
    offset[c] = beta[c] - mean * scale[c];
    stats[c] = mean;
    stats[channels + c] = variance;
    newRunningMean[c] = (1 - m) * runningMean[c] + m * mean;
    newRunningVar[c] = (1 - m) * runningVar[c] + m * variance * (rows / Math.max(rows - 1, 1));
  }
  return { scale, offset };
}

export interface BatchNormTrainBackwardValues {
  dx: Float32Array;
  dGamma: Float32Array;
  dBeta: Float32Array;
}

/** The backward kernel's arithmetic; `y` is read only when `relu`. Written into `out` when given. */
export function batchNormTrainBackwardValues(
  dy: Float32Array, x: Float32Array, stats: Float32Array, gamma: Float32Array, y: Float32Array | undefined, channels: number, attrs: Pick<BatchNormTrainAttrs, 'epsilon' | 'relu'>,
  out?: BatchNormTrainBackwardValues,
): BatchNormTrainBackwardValues {
  if (attrs.relu && !y) throw new Error(`${THFR_BATCH_NORM_TRAIN_GRAD}: relu needs the forward output y`);
  const rows = x.length / channels;
  const { dx, dGamma, dBeta } = out ?? { dx: new Float32Array(x.length), dGamma: new Float32Array(channels), dBeta: new Float32Array(channels) };
  const mean = Float64Array.from(stats.subarray(0, channels));
  // Σ g and Σ g (x - μ); x̂ = (x - μ) / sqrt(σ² + ε) is applied per channel afterwards. The ReLU's mask gets loops
  // of its own: no per-element test of whether there is one.
  const sumG = new Float64Array(channels);
  const sumGX = new Float64Array(channels);
  const masked = attrs.relu ? y! : undefined;
  if (masked) {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) {
        if (masked[o + c] > 0) {
          const g = dy[o + c];
          sumG[c] += g;
          sumGX[c] += g * (x[o + c] - mean[c]);
        }
      }
    }
  } else {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) {
        const g = dy[o + c];
        sumG[c] += g;
        sumGX[c] += g * (x[o + c] - mean[c]);
      }
    }
  }
  // dx = γ / sqrt(σ² + ε) · (g - dβ / n - x̂ dγ / n) = k g + a (x - μ) + b per channel.
  const { k, a, b } = batchNormBackwardChannels(sumG, sumGX, stats, gamma, rows, attrs.epsilon, { dGamma, dBeta });
  if (masked) {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) {
        const i = o + c;
        dx[i] = (masked[i] > 0 ? k[c] * dy[i] : 0) + a[c] * (x[i] - mean[c]) + b[c];
      }
    }
  } else {
    for (let o = 0; o < x.length; o += channels) {
      for (let c = 0; c < channels; c++) {
        const i = o + c;
        dx[i] = k[c] * dy[i] + a[c] * (x[i] - mean[c]) + b[c];
      }
    }
  }
  return { dx, dGamma, dBeta };
}

/**
 * The backward kernel's per-channel step, shared by every implementation of its two passes: from Σ g and Σ g (x - μ)
 * per channel writes dγ and dβ into `out` and returns dx = k g + a (x - μ) + b's coefficients.
 */
export function batchNormBackwardChannels(
  sumG: ArrayLike<number>, sumGX: ArrayLike<number>, stats: Float32Array, gamma: Float32Array, rows: number, epsilon: number,
  out: Pick<BatchNormTrainBackwardValues, 'dGamma' | 'dBeta'>,
): { k: Float64Array; a: Float64Array; b: Float64Array } {
  const channels = gamma.length;
  const k = new Float64Array(channels);
  const a = new Float64Array(channels);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const invStd = 1 / Math.sqrt(stats[channels + c] + epsilon);
    out.dGamma[c] = sumGX[c] * invStd;
    out.dBeta[c] = sumG[c];
    k[c] = gamma[c] * invStd;
    a[c] = (-k[c] * invStd * invStd * sumGX[c]) / rows;
    b[c] = (-k[c] * sumG[c]) / rows;
  }
  return { k, a, b };
}
