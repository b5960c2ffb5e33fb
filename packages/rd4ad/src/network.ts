import { tf } from '@thfr/tensor';
import { GraphRecorder, Initializer, Module, type NetworkGraph } from '@thfr/nn';
import { LocalBottleneck } from '@thfr/bottleneck';
import { RestorationDecoder, codeGeometry, type LevelGeometry, type RestorationNetwork } from '@thfr/restoration';
import type { Rd4adConfig } from './config.js';

/**
 * RD4AD's trainable network (hq-deng/RD4AD, `resnet.py` / `de_resnet.py`): the multi-scale feature fusion (MFF:
 * the shallower levels brought down to the deepest one's resolution by stride-2 3x3 convs, concatenated with it)
 * and the one-class bottleneck embedding (OCBE: `localBottleneckBlocks` Bottleneck blocks, the first with stride
 * 2) — @thfr/bottleneck's LocalBottleneck — then the de_resnet decoder (@thfr/restoration's RestorationDecoder),
 * which restores every level from the code. No template, no global stream.
 */
export class Rd4adNetwork extends Module implements RestorationNetwork {
  readonly lbn: LocalBottleneck;
  readonly decoder: RestorationDecoder;
  /** Channels of the code: 2 C_K x codeWidthRatio (RD4AD: 2048 for WideResNet50's 1024-channel layer3). */
  readonly codeChannels: number;

  constructor(readonly levels: LevelGeometry[], readonly config: Rd4adConfig) {
    super();
    const code = codeGeometry(levels, config, 'RD4AD');
    // Parameters are drawn in module order from one seeded stream (OCBE, then decoder).
    const init = new Initializer(config.seed);
    this.codeChannels = code.channels;
    this.lbn = this.registerModule('lbn', new LocalBottleneck({
      levels: levels.map((l) => ({ channels: l.channels, size: l.size })), outChannels: this.codeChannels, width: code.blockWidth,
      downsampleWidthRatio: config.codeWidthRatio, blocks: config.localBottleneckBlocks,
    }, init));
    this.decoder = this.registerModule('decoder', new RestorationDecoder(this.codeChannels, levels.map((l) => l.channels), config.decoderBlocks, config.decoderWidthRatio, init));
  }

  /** Backbone levels [I_1..I_K] -> restored levels [Î_1..Î_K]. */
  forward(features: tf.Tensor4D[]): tf.Tensor4D[] {
    return tf.tidy(() => this.decoder.forward(this.lbn.forward(features)));
  }

  toGraph(): NetworkGraph {
    const g = new GraphRecorder(this);
    const features = this.levels.map((l) => g.input(l.name, [null, l.size, l.size, l.channels]));
    return g.finish(this.decoder.record(g, this.lbn.record(g, features)));
  }
}
