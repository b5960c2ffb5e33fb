/**
 * Training-mode batch norm (+ optional ReLU): one fused kernel forwards and one backwards where the backend has them
 * (@thfr/runtime-common registers THFR_BATCH_NORM_TRAIN for cpu, wasm and webgpu), else the same arithmetic
 * composed from tfjs ops (`batchNormTrainComposed`). The contract is in @thfr/tensor's batch-norm-kernel.ts.
 */
import { missingKernels, tf, THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD } from '@thfr/tensor';

export interface BatchNormTrainResult {
  y: tf.Tensor4D;
  /** Running statistics after this batch (torch's update; unbiased variance). */
  newRunningMean: tf.Tensor1D;
  newRunningVar: tf.Tensor1D;
}

export interface BatchNormTrainOptions {
  epsilon: number;
  momentum: number;
  /** max(0, ·) after the affine part (a ConvBnAct's activation inside the same kernel). */
  relu?: boolean;
}

let gradientRegistered = false;

/** The backward kernel as the forward kernel's gradient (registered once, on first use). */
function registerBatchNormGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: THFR_BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [true, true, false, false],
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, y, stats] = saved;
      const dy = (dys as tf.Tensor[])[0];
      // One kernel gives all three gradients: run it here, not in the per-input closures, so that the enclosing
      // gradient scope owns (and frees) the two that a closure does not return.
      const [dx, dGamma, dBeta] = tf.engine().runKernel(THFR_BATCH_NORM_TRAIN_GRAD, { dy, x, stats, gamma, y }, { epsilon: (attrs as { epsilon: number }).epsilon, relu: (attrs as { relu: boolean }).relu }) as tf.Tensor[];
      return {
        x: () => dx,
        gamma: () => dGamma,
        beta: () => dBeta,
        // State, not parameters: no gradient reaches the running statistics.
        runningMean: () => tf.zerosLike(gamma),
        runningVar: () => tf.zerosLike(gamma),
      };
    },
  });
}

/** Whether the active backend has the fused kernels. */
export function hasFusedBatchNorm(): boolean {
  return missingKernels([THFR_BATCH_NORM_TRAIN, THFR_BATCH_NORM_TRAIN_GRAD]).length === 0;
}

/**
 * y = γ (x - μ) / sqrt(σ² + ε) + β over N, H, W with the batch's statistics (then ReLU when `relu`), and the running
 * statistics after this batch. Differentiable in x, γ and β. The caller owns (and disposes) all three tensors.
 */
export function batchNormTrainStep(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, runningMean: tf.Tensor1D, runningVar: tf.Tensor1D, options: BatchNormTrainOptions): BatchNormTrainResult {
  if (hasFusedBatchNorm()) {
    registerBatchNormGradient();
    const [y, stats, newRunningMean, newRunningVar] = tf.engine().runKernel(
      THFR_BATCH_NORM_TRAIN,
      { x, gamma, beta, runningMean, runningVar },
      { epsilon: options.epsilon, momentum: options.momentum, relu: Boolean(options.relu) },
    ) as tf.Tensor[];
    stats.dispose();
    return { y: y as tf.Tensor4D, newRunningMean: newRunningMean as tf.Tensor1D, newRunningVar: newRunningVar as tf.Tensor1D };
  }
  const count = x.size / x.shape[3];
  const m = options.momentum;
  let newRunningMean: tf.Tensor1D | undefined;
  let newRunningVar: tf.Tensor1D | undefined;
  const normalised = batchNormTrainComposed(x, gamma, beta, options.epsilon, (mean, variance) => {
    // torch keeps the unbiased variance: the factor n / (n - 1) folds into the momentum.
    newRunningMean = tf.keep(tf.add(tf.mul(runningMean, 1 - m), tf.mul(mean, m)) as tf.Tensor1D);
    newRunningVar = tf.keep(tf.add(tf.mul(runningVar, 1 - m), tf.mul(variance, (m * count) / Math.max(count - 1, 1))) as tf.Tensor1D);
  });
  let y = normalised;
  if (options.relu) {
    y = tf.relu(normalised);
    normalised.dispose();
  }
  return { y, newRunningMean: newRunningMean!, newRunningVar: newRunningVar! };
}

/**
 * The composed form, y = γ (x - μ) / sqrt(σ² + ε) + β, with a hand-written gradient (tf.customGrad) in closed form:
 *   dβ = Σ dy,  dγ = Σ dy x̂,  dx = γ / sqrt(σ² + ε) · (dy - dβ / n - x̂ dγ / n).
 * Autodiff of these ops took ~30 kernels per layer backwards; the closed form takes 10, reusing dβ and dγ for the two
 * means and 1 / sqrt(σ² + ε) from the forward pass. The statistics and x̂ are computed outside the custom op and enter
 * it by closure, not as inputs: the tape then never differentiates them (the closed form accounts for their
 * dependence on x), and `onStatistics` runs as ordinary ops that lead to no loss. The op creates only its output:
 * tfjs counts any other tensor a custom op leaves behind as a leak. onStatistics receives the batch mean and biased
 * variance and must not keep them (clone what it needs).
 */
export function batchNormTrainComposed(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, onStatistics?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void): tf.Tensor4D {
  return tf.tidy(() => {
    const count = x.size / x.shape[3];
    const mean = tf.mean(x, [0, 1, 2]) as tf.Tensor1D;
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), [0, 1, 2]) as tf.Tensor1D;
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalised = tf.mul(centred, inverseStd);
    if (onStatistics) tf.tidy(() => onStatistics(mean, variance));
    const op = tf.customGrad(((_input: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, save: tf.GradSaveFunc) => {
      save([normalised, inverseStd, scale]);
      return {
        value: tf.add(tf.mul(normalised, scale), shift),
        gradFunc: (dy: tf.Tensor, [xHat, invStd, gammaSaved]: tf.Tensor[]) => {
          const dBeta = tf.sum(dy, [0, 1, 2]);
          const dGamma = tf.sum(tf.mul(dy, xHat), [0, 1, 2]);
          const dx = tf.mul(tf.sub(tf.sub(dy, tf.mul(dBeta, 1 / count)), tf.mul(xHat, tf.mul(dGamma, 1 / count))), tf.mul(gammaSaved, invStd));
          return [dx, dGamma, dBeta];
        },
      };
    }) as never); // tfjs types f's arguments as Tensor | GradSaveFunc
    return (op as (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor)(x, gamma, beta) as tf.Tensor4D;
  });
}
