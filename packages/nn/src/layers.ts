import { tf } from '@thfr/tensor';
import { Module } from './module.js';
import { Initializer } from './init.js';

export interface Conv2dOptions {
  stride?: number;
  /** 'same' pads k // 2 on every side as PyTorch's padding=k//2 (keeps H/stride for odd k); 'valid' pads nothing. */
  padding?: 'same' | 'valid';
  bias?: boolean;
}

/** 2-D convolution on NHWC tensors; weight is HWIO [k, k, in, out]. */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly stride: number;
  readonly padding: 'same' | 'valid';

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, init: Initializer, options: Conv2dOptions = {}) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 'same';
    this.weight = this.registerParameter('weight', init.kaimingNormalFanOut([kernelSize, kernelSize, inChannels, outChannels], outChannels * kernelSize * kernelSize));
    if (options.bias) this.bias = this.registerParameter('bias', tf.zeros([outChannels]));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, this.tfPadding());
    return this.bias ? tf.add(y, this.bias) : y;
  }

  /**
   * 'same' as PyTorch means it (padding = k // 2 on every side), not as TensorFlow does: with stride 2
   * TF puts the extra row at the bottom/right while torch pads symmetrically, which shifts the sampling grid.
   */
  private tfPadding(): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
    if (this.padding === 'valid' || this.kernelSize === 1) return 'valid';
    const p = Math.floor(this.kernelSize / 2);
    return [[0, 0], [p, p], [p, p], [0, 0]];
  }
}

/** Transposed convolution with kernel k and stride k (exact k-times upsampling), torch's ConvTranspose2d(k, stride=k). */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, init: Initializer, options: { bias?: boolean } = {}) {
    super();
    // tfjs' conv2dTranspose filter is [k, k, out, in].
    this.weight = this.registerParameter('weight', init.kaimingNormalFanOut([kernelSize, kernelSize, outChannels, inChannels], outChannels * kernelSize * kernelSize));
    if (options.bias) this.bias = this.registerParameter('bias', tf.zeros([outChannels]));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w] = x.shape;
    const k = this.kernelSize;
    const y = tf.conv2dTranspose(x, this.weight as tf.Tensor4D, [b, h * k, w * k, this.outChannels], k, 'valid');
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

export interface BatchNorm2dOptions {
  momentum?: number;
  epsilon?: number;
}

/**
 * Batch normalisation over N, H, W with torch's semantics: batch statistics (biased variance for the
 * normalisation, unbiased for the running estimate) in training mode, running statistics in eval mode.
 */
export class BatchNorm2d extends Module {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;

  readonly momentum: number;
  readonly epsilon: number;

  /** momentum (torch's, default 0.1) weighs the new batch in the running statistics; epsilon (default 1e-5) guards the variance. */
  constructor(readonly channels: number, options: BatchNorm2dOptions = {}) {
    super();
    this.momentum = options.momentum ?? 0.1;
    this.epsilon = options.epsilon ?? 1e-5;
    this.gamma = this.registerParameter('weight', tf.ones([channels]));
    this.beta = this.registerParameter('bias', tf.zeros([channels]));
    this.runningMean = this.registerBuffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.registerBuffer('running_var', tf.ones([channels]));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    if (!this.training) {
      return tf.batchNorm(x, this.runningMean, this.runningVar, this.beta, this.gamma, this.epsilon) as tf.Tensor4D;
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const count = x.size / this.channels;
    // Running statistics are state, not part of the differentiated graph: update them from copies.
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    });
    // Written out rather than tf.batchNorm: tfjs' FusedBatchNorm gradient tiles the statistics to the
    // full input shape, which dominated training time on wasm; broadcasting ops reduce instead.
    const scale = tf.mul(tf.rsqrt(tf.add(variance, this.epsilon)), this.gamma);
    const shift = tf.sub(this.beta, tf.mul(mean, scale));
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  }
}

export interface ConvBnActOptions {
  /** Apply a ReLU after the batch norm (default true; false for the last conv of a residual branch). */
  relu?: boolean;
  stride?: number;
}

/** conv -> batch norm -> optional ReLU, the unit most blocks are made of. */
export class ConvBnAct extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly relu: boolean;

  constructor(inChannels: number, outChannels: number, kernelSize: number, init: Initializer, options: ConvBnActOptions = {}) {
    super();
    this.relu = options.relu ?? true;
    const stride = options.stride ?? 1;
    this.conv = this.registerModule('conv', new Conv2d(inChannels, outChannels, kernelSize, init, { stride }));
    this.bn = this.registerModule('bn', new BatchNorm2d(outChannels));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.bn.forward(this.conv.forward(x));
    return this.relu ? tf.relu(y) : y;
  }
}
