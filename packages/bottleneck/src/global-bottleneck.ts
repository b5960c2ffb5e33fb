import { tf, assertShape } from '@thfr/tensor';
import { BatchNorm2d, Bottleneck, ConvTranspose2d, Initializer, Module, type GraphRecorder } from '@thfr/nn';

export interface GlobalBottleneckOptions {
  /** Channels of the deepest backbone feature I_K. */
  inChannels: number;
  /** Spatial size (H = W) of I_K, e.g. 16 for a 256px input at stride 16. */
  inputSize: number;
  /** Channels of the compressed feature (the paper: 2 C_K). */
  outChannels?: number;
  /** Channels of the ResBlock's middle convs (default C_K, as the WideResNet bottleneck layer). */
  width?: number;
}

/**
 * Global bottleneck (paper 3.1, Fig. 3b): a ResBlock reforms I_K, global max pooling squeezes it to a
 * 1x1 vector Z_GBN (filtering out spatially local anomaly evidence), and 2x2/s2 transposed convs
 * upsample it back to (H_K/2)^2. One 2x2/s2 deconv cannot reach 8x8 from 1x1, so we stack
 * log2(H_K/2) of them, each with BN and ReLU (DESIGN.md).
 */
export class GlobalBottleneck extends Module {
  readonly block: Bottleneck;
  readonly upsamplers: Array<{ deconv: ConvTranspose2d; bn: BatchNorm2d }> = [];
  readonly outChannels: number;
  readonly outputSize: number;

  constructor(readonly options: GlobalBottleneckOptions, init: Initializer) {
    super();
    const { inChannels, inputSize } = options;
    this.outChannels = options.outChannels ?? 2 * inChannels;
    this.outputSize = inputSize / 2;
    const steps = Math.log2(this.outputSize);
    if (!Number.isInteger(steps) || steps < 0) {
      throw new Error(`GlobalBottleneck: the deepest feature must be a power-of-two size >= 2, got ${inputSize}x${inputSize}`);
    }
    this.block = this.registerModule('block', new Bottleneck(inChannels, this.outChannels, init, { width: options.width ?? inChannels }));
    for (let i = 0; i < steps; i++) {
      const deconv = this.registerModule(`up${i}`, new ConvTranspose2d(this.outChannels, this.outChannels, 2, init));
      const bn = this.registerModule(`up${i}_bn`, new BatchNorm2d(this.outChannels));
      this.upsamplers.push({ deconv, bn });
    }
  }

  /** I_K [B, H, W, C_K] -> S_G [B, H/2, W/2, outChannels]. */
  forward(deepest: tf.Tensor4D): tf.Tensor4D {
    assertShape(deepest, [null, this.options.inputSize, this.options.inputSize, this.options.inChannels], 'GlobalBottleneck input I_K');
    return tf.tidy(() => {
      let z = tf.max(this.block.forward(deepest), [1, 2], true) as tf.Tensor4D;
      for (const { deconv, bn } of this.upsamplers) z = tf.relu(bn.forward(deconv.forward(z)));
      return z;
    });
  }

  record(g: GraphRecorder, deepest: string): string {
    let z = g.node('global_max_pool', [this.block.record(g, deepest)]);
    for (const { deconv, bn } of this.upsamplers) z = g.node('relu', [bn.record(g, deconv.record(g, z))]);
    return z;
  }
}
