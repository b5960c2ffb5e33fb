import { tf, assertShape } from '@thfr/tensor';
import { Bottleneck, Conv2d, ConvBnAct, Initializer, Module, Sequential, type GraphRecorder } from '@thfr/nn';
import { PairwiseRelation } from './pairwise-relation.js';

export interface CompensationOptions {
  /** Channels C of the compressed stream (the bottleneck output). */
  streamChannels: number;
  /** Channels of the template reference T (e.g. C1 + C2 + C3 = 1792 for WideResNet50). */
  templateChannels: number;
  /** Spatial size (H = W) of the stream and template, e.g. 8. */
  size: number;
  /** C_i: channels of the input embedding E_i (GBN stream: C; LBN stream: 1). */
  inputEmbedChannels: number;
  /** C_t: channels of the template embedding E_t (GBN stream: 1; LBN stream: C). */
  templateEmbedChannels: number;
  /** Include the bidirectional relation feature (ablation "template without relation" sets false). */
  relation?: boolean;
  /** Width of theta/phi (default C/8, at least 8). */
  relationChannels?: number;
  /** Number of 1x1 conv + BN + ReLU layers fusing [E_i, E_t, R] (default 2). */
  fuseLayers?: number;
  /** ResBlocks after the fusion (default 1). */
  resBlocks?: number;
}

/**
 * Template-guided compensation (paper 3.2, Fig. 4): the compressed stream and the template are each
 * projected by a 1x1 conv (E_i with C_i channels, E_t with C_t), concatenated with the relation feature,
 * fused by 1x1 convs and refined by ResBlocks into the compensated stream (same shape as the input).
 * C_i / C_t decide what each side contributes: the GBN stream keeps its own channels and takes a
 * one-channel layout cue from the template; the LBN stream does the opposite.
 */
export class CompensationModule extends Module {
  readonly inputEmbed: Conv2d;
  readonly templateEmbed: Conv2d;
  readonly relation?: PairwiseRelation;
  readonly fuse: ConvBnAct[] = [];
  readonly refine: Sequential<Bottleneck>;

  constructor(readonly options: CompensationOptions, init: Initializer) {
    super();
    const { streamChannels: c, templateChannels, size } = options;
    // No biases: the embeddings feed a 1x1 conv followed by batch norm, which removes any per-channel
    // constant, so a bias here would get no gradient (caught by the every-weight-learns test).
    this.inputEmbed = this.registerModule('input_embed', new Conv2d(c, options.inputEmbedChannels, 1, init));
    this.templateEmbed = this.registerModule('template_embed', new Conv2d(templateChannels, options.templateEmbedChannels, 1, init));
    let fusedChannels = options.inputEmbedChannels + options.templateEmbedChannels;
    if (options.relation ?? true) {
      const embed = options.relationChannels ?? Math.max(8, Math.round(c / 8));
      this.relation = this.registerModule('relation', new PairwiseRelation(c, templateChannels, embed, init));
      fusedChannels += 2 * size * size;
    }
    const layers = options.fuseLayers ?? 2;
    for (let i = 0; i < layers; i++) {
      this.fuse.push(this.registerModule(`fuse${i}`, new ConvBnAct(i === 0 ? fusedChannels : c, c, 1, init)));
    }
    const blocks = Array.from({ length: options.resBlocks ?? 1 }, () => new Bottleneck(c, c, init, { width: Math.max(1, Math.round(c / 4)) }));
    this.refine = this.registerModule('refine', new Sequential(blocks));
  }

  /** stream [B,H,W,C], template [B,H,W,C_T] -> compensated stream [B,H,W,C]. */
  forward(stream: tf.Tensor4D, template: tf.Tensor4D): tf.Tensor4D {
    const { streamChannels, templateChannels, size } = this.options;
    assertShape(stream, [null, size, size, streamChannels], 'CompensationModule stream');
    assertShape(template, [stream.shape[0], size, size, templateChannels], 'CompensationModule template');
    return tf.tidy(() => {
      const parts: tf.Tensor4D[] = [this.inputEmbed.forward(stream), this.templateEmbed.forward(template)];
      if (this.relation) parts.push(this.relation.forward(stream, template));
      let h = tf.concat(parts, 3) as tf.Tensor4D;
      for (const layer of this.fuse) h = layer.forward(h);
      return this.refine.forward(h);
    });
  }

  record(g: GraphRecorder, stream: string, template: string): string {
    const parts = [this.inputEmbed.record(g, stream), this.templateEmbed.record(g, template)];
    if (this.relation) parts.push(this.relation.record(g, stream, template, this.options.size));
    let h = g.node('concat', parts);
    for (const layer of this.fuse) h = layer.record(g, h);
    return this.refine.record(g, h);
  }
}
