import { tf, assertShape } from '@thfr/tensor';
import { ConvBnAct, Initializer, Module, Sequential, bottleneckStage, type GraphRecorder } from '@thfr/nn';
import type { Bottleneck, UpBottleneck } from '@thfr/nn';

export interface LevelShape {
  /** Channels of the level. */
  channels: number;
  /** Spatial size (H = W) of the level. */
  size: number;
}

export interface LocalBottleneckOptions {
  /** The backbone levels, shallowest first, each half the size of the previous (strides 4, 8, 16). */
  levels: LevelShape[];
  /** Channels of the compressed feature (the paper: 2 C_K). */
  outChannels?: number;
  /** Middle width of the fusing ResBlocks (default C_K, RD4AD's WideResNet value). */
  width?: number;
  /** Number of ResBlocks after the fusion (RD4AD: 1). */
  blocks?: number;
  /**
   * Channels of the downsampling convs' outputs as a fraction of the next level's channels (default 1, RD4AD's
   * MFF: 256 -> 512 -> 1024). Below 1 the strided 3x3 convs, the costliest part of the LBN, shrink ~ratio^2.
   */
  downsampleWidthRatio?: number;
}

/**
 * Local bottleneck (paper 3.1), RD4AD's multi-scale feature fusion + one-class embedding: every level
 * but the deepest is brought to the deepest level's size by chained 3x3/s2 convs (each step doubling
 * channels toward the next level's count), concatenated with I_K, and fused by ResBlock(s), the first
 * with stride 2, giving S_L of size H_K/2 with 2 C_K channels.
 */
export class LocalBottleneck extends Module {
  readonly downsamplers: ConvBnAct[][] = [];
  readonly fuse: Sequential<Bottleneck | UpBottleneck>;
  readonly outChannels: number;
  readonly outputSize: number;

  constructor(readonly options: LocalBottleneckOptions, init: Initializer) {
    super();
    const levels = options.levels;
    if (levels.length < 1) throw new Error('LocalBottleneck needs at least one feature level');
    const deepest = levels[levels.length - 1];
    for (let k = 0; k < levels.length; k++) {
      const expected = deepest.size * 2 ** (levels.length - 1 - k);
      if (levels[k].size !== expected) {
        throw new Error(`LocalBottleneck: level ${k + 1} is ${levels[k].size}x${levels[k].size}, expected ${expected}x${expected} (levels must halve in size: strides 4, 8, 16)`);
      }
    }
    // Level k is downsampled (K-1-k) times; each step moves to the channel count of the next level.
    const ratio = options.downsampleWidthRatio ?? 1;
    if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`LocalBottleneck: downsampleWidthRatio must be in (0, 1], got ${ratio}`);
    const stepChannels = (step: number) => Math.max(1, Math.round(levels[step + 1].channels * ratio));
    let fusedChannels = deepest.channels;
    for (let k = 0; k < levels.length - 1; k++) {
      const chain: ConvBnAct[] = [];
      for (let step = k; step < levels.length - 1; step++) {
        const inChannels = step === k ? levels[step].channels : stepChannels(step - 1);
        const conv = new ConvBnAct(inChannels, stepChannels(step), 3, init, { stride: 2 });
        chain.push(this.registerModule(`level${k + 1}_down${step - k}`, conv));
      }
      this.downsamplers.push(chain);
      fusedChannels += stepChannels(levels.length - 2);
    }
    this.outChannels = options.outChannels ?? 2 * deepest.channels;
    this.outputSize = deepest.size / 2;
    this.fuse = this.registerModule('fuse', bottleneckStage('down', fusedChannels, this.outChannels, options.width ?? deepest.channels, options.blocks ?? 1, 2, init));
  }

  /** [I_1 .. I_K] -> S_L [B, H_K/2, W_K/2, outChannels]. */
  forward(features: tf.Tensor4D[]): tf.Tensor4D {
    const levels = this.options.levels;
    if (features.length !== levels.length) throw new Error(`LocalBottleneck expects ${levels.length} feature levels, got ${features.length}`);
    features.forEach((f, k) => assertShape(f, [null, levels[k].size, levels[k].size, levels[k].channels], `LocalBottleneck input I_${k + 1}`));
    return tf.tidy(() => {
      const aligned = this.downsamplers.map((chain, k) => chain.reduce((h, conv) => conv.forward(h), features[k]));
      const fused = tf.concat([...aligned, features[features.length - 1]], 3) as tf.Tensor4D;
      return this.fuse.forward(fused);
    });
  }

  record(g: GraphRecorder, features: string[]): string {
    const aligned = this.downsamplers.map((chain, k) => chain.reduce((h, conv) => conv.record(g, h), features[k]));
    return this.fuse.record(g, g.node('concat', [...aligned, features[features.length - 1]]));
  }
}
