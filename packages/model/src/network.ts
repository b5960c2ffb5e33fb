import { tf } from '@thfr/tensor';
import { ConvBnAct, GraphRecorder, Initializer, Module, type NetworkGraph } from '@thfr/nn';
import { GlobalBottleneck, LocalBottleneck } from '@thfr/bottleneck';
import { CompensationModule } from '@thfr/compensation';
import { RestorationDecoder, codeGeometry, type LevelGeometry, type RestorationNetwork } from '@thfr/restoration';
import type { ThfrConfig } from './config.js';

export type { LevelGeometry };

/**
 * The trainable part of THFR (paper Fig. 3): bottleneck stream(s), template-guided compensation of
 * each stream, fusion and the restoration decoder. The config's ablation switches change which
 * modules exist, not just flags: 'gbn'/'lbn' build one stream, `template: false` builds no
 * compensation, `relation: false` builds compensation without theta/phi.
 */
export class ThfrNetwork extends Module implements RestorationNetwork {
  readonly gbn?: GlobalBottleneck;
  readonly lbn?: LocalBottleneck;
  readonly compensateGlobal?: CompensationModule;
  readonly compensateLocal?: CompensationModule;
  readonly fusion?: ConvBnAct;
  readonly decoder: RestorationDecoder;
  /** Size (H = W) of the compressed streams and of the template reference. */
  readonly codeSize: number;
  readonly codeChannels: number;
  readonly templateChannels: number;
  /** Channels of the template the global stream's compensation sees: all of T ('pooled') or T_K ('per-stream'). */
  readonly globalTemplateChannels: number;

  constructor(readonly levels: LevelGeometry[], readonly config: ThfrConfig) {
    super();
    const code = codeGeometry(levels, config, 'THFR');
    const init = new Initializer(config.seed);
    const deepest = levels[levels.length - 1];
    this.codeChannels = code.channels;
    this.codeSize = code.size;
    this.templateChannels = levels.reduce((sum, l) => sum + l.channels, 0);
    const width = code.blockWidth;
    const useGlobal = config.bottleneck !== 'lbn';
    const useLocal = config.bottleneck !== 'gbn';
    this.globalTemplateChannels = config.templateReferences === 'per-stream' ? deepest.channels : this.templateChannels;
    const compensation = (templateChannels: number, inputEmbedChannels: number, templateEmbedChannels: number) =>
      new CompensationModule({
        streamChannels: this.codeChannels,
        templateChannels,
        size: this.codeSize,
        inputEmbedChannels,
        templateEmbedChannels,
        relation: config.relation,
        fuseLayers: config.compensationFuseLayers,
        resBlocks: config.compensationResBlocks,
      }, init);
    if (useGlobal) {
      this.gbn = this.registerModule('gbn', new GlobalBottleneck({ inChannels: deepest.channels, inputSize: deepest.size, outChannels: this.codeChannels, width }, init));
      // GBN stream: keep its own channels (C_i = C), one-channel layout cue from the template (C_t = 1).
      if (config.template) this.compensateGlobal = this.registerModule('compensate_global', compensation(this.globalTemplateChannels, this.codeChannels, 1));
    }
    if (useLocal) {
      this.lbn = this.registerModule('lbn', new LocalBottleneck({ levels: levels.map((l) => ({ channels: l.channels, size: l.size })), outChannels: this.codeChannels, width, downsampleWidthRatio: config.codeWidthRatio, blocks: config.localBottleneckBlocks }, init));
      // LBN stream: one-channel spatial cue from the input (C_i = 1), details from the template (C_t = C).
      if (config.template) this.compensateLocal = this.registerModule('compensate_local', compensation(this.templateChannels, 1, this.codeChannels));
    }
    if (useGlobal && useLocal) this.fusion = this.registerModule('fusion', new ConvBnAct(2 * this.codeChannels, this.codeChannels, 1, init));
    this.decoder = this.registerModule('decoder', new RestorationDecoder(this.codeChannels, levels.map((l) => l.channels), config.decoderBlocks, config.decoderWidthRatio, init));
  }

  /**
   * features: the backbone levels [I_1..I_K]; template: the template reference T [B, s, s, sum C_k]
   * (required when the config uses templates). Returns the restored levels [Î_1..Î_K].
   */
  forward(features: tf.Tensor4D[], template?: tf.Tensor4D): tf.Tensor4D[] {
    if (this.config.template && !template) throw new Error('ThfrNetwork.forward: this network uses templates; pass the template reference');
    return tf.tidy(() => {
      const streams: tf.Tensor4D[] = [];
      if (this.gbn) {
        const s = this.gbn.forward(features[features.length - 1]);
        streams.push(this.compensateGlobal ? this.compensateGlobal.forward(s, this.globalTemplate(template!)) : s);
      }
      if (this.lbn) {
        const s = this.lbn.forward(features);
        streams.push(this.compensateLocal ? this.compensateLocal.forward(s, template!) : s);
      }
      const code = this.fusion ? this.fusion.forward(tf.concat(streams, 3) as tf.Tensor4D) : streams[0];
      return this.decoder.forward(code);
    });
  }

  toGraph(): NetworkGraph {
    const g = new GraphRecorder(this);
    const features = this.levels.map((l) => g.input(l.name, [null, l.size, l.size, l.channels]));
    const template = this.config.template ? g.input('template', [null, this.codeSize, this.codeSize, this.templateChannels]) : undefined;
    const streams: string[] = [];
    if (this.gbn) {
      const s = this.gbn.record(g, features[features.length - 1]);
      const reference = this.globalTemplateChannels === this.templateChannels ? template! : g.node('slice_channels', [template!], { attrs: { start: this.templateChannels - this.globalTemplateChannels, size: this.globalTemplateChannels } });
      streams.push(this.compensateGlobal ? this.compensateGlobal.record(g, s, reference) : s);
    }
    if (this.lbn) {
      const s = this.lbn.record(g, features);
      streams.push(this.compensateLocal ? this.compensateLocal.record(g, s, template!) : s);
    }
    const code = this.fusion ? this.fusion.record(g, g.node('concat', streams)) : streams[0];
    return g.finish(this.decoder.record(g, code));
  }

  /** The part of T the global stream is compensated with: T_K, the last C_K channels, when references are per stream. */
  private globalTemplate(template: tf.Tensor4D): tf.Tensor4D {
    if (this.globalTemplateChannels === this.templateChannels) return template;
    return tf.slice(template, [0, 0, 0, this.templateChannels - this.globalTemplateChannels], [-1, -1, -1, this.globalTemplateChannels]);
  }
}

/** Trainable parameters of the network a config builds on these levels (builds it once, then disposes it). */
export function countNetworkParameters(levels: LevelGeometry[], config: ThfrConfig): number {
  const network = new ThfrNetwork(levels, config);
  try {
    return network.parameterCount();
  } finally {
    network.dispose();
  }
}
