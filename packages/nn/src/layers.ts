import { tf } from '@thfr/tensor';
import { Module } from './module.js';
import { batchNormTrainStep } from './batch-norm-train.js';
import { Initializer } from './init.js';
import type { GraphRecorder } from './graph.js';

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

  record(g: GraphRecorder, x: string): string {
    return g.node('conv2d', [x], { params: { weight: this.weight, bias: this.bias }, attrs: { stride: this.stride, pad: this.padAmount() } });
  }

  /**
   * Zero padding on every side: k // 2 for 'same' (0 for 1x1), 0 for 'valid'. 'same' as PyTorch means it, not as
   * TensorFlow does: with stride 2 TF puts the extra row at the bottom/right while torch pads symmetrically, which
   * shifts the sampling grid.
   */
  private padAmount(): number {
    return this.padding === 'valid' || this.kernelSize === 1 ? 0 : Math.floor(this.kernelSize / 2);
  }

  private tfPadding(): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
    const p = this.padAmount();
    return p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]];
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

  record(g: GraphRecorder, x: string): string {
    return g.node('conv_transpose2d', [x], { params: { weight: this.weight, bias: this.bias }, attrs: { kernel: this.kernelSize } });
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

  /** `relu`: max(0, ·) on the output, fused into the training kernel where the backend has it. */
  forward(x: tf.Tensor4D, relu = false): tf.Tensor4D {
    if (!this.training) {
      return tf.tidy(() => {
        const y = tf.batchNorm(x, this.runningMean, this.runningVar, this.beta, this.gamma, this.epsilon) as tf.Tensor4D;
        return relu ? tf.relu(y) : y;
      });
    }
    const { y, newRunningMean, newRunningVar } = batchNormTrainStep(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, {
      epsilon: this.epsilon, momentum: this.momentum, relu,
    });
    // Running statistics are state: the new values lead to no loss, so the gradient tape prunes them.
    this.runningMean.assign(newRunningMean);
    this.runningVar.assign(newRunningVar);
    tf.dispose([newRunningMean, newRunningVar]);
    return y;
  }

  record(g: GraphRecorder, x: string): string {
    return g.node('batch_norm', [x], { params: { weight: this.gamma, bias: this.beta, mean: this.runningMean, variance: this.runningVar }, attrs: { epsilon: this.epsilon, momentum: this.momentum } });
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
    return this.bn.forward(this.conv.forward(x), this.relu);
  }

  record(g: GraphRecorder, x: string): string {
    const y = this.bn.record(g, this.conv.record(g, x));
    return this.relu ? g.node('relu', [y]) : y;
  }
}
