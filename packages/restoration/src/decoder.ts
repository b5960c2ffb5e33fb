import { tf } from '@thfr/tensor';
import { Initializer, Module, Sequential, bottleneckStage, type GraphRecorder } from '@thfr/nn';
import type { Bottleneck, UpBottleneck } from '@thfr/nn';

/**
 * The restoration decoder, RD4AD's de_resnet: one stage per backbone level, deepest first, each
 * starting with a block that doubles the resolution (2x2/s2 transposed convs) and ending with the
 * level's channel count, so stage k restores I_{K-k}.
 */
export class RestorationDecoder extends Module {
  readonly stages: Array<Sequential<Bottleneck | UpBottleneck>> = [];

  constructor(inChannels: number, levelChannels: number[], blocks: number[], widthRatio: number, init: Initializer) {
    super();
    if (blocks.length !== levelChannels.length) {
      throw new Error(`RestorationDecoder: ${levelChannels.length} backbone levels need ${levelChannels.length} decoder stages, config.decoderBlocks has ${blocks.length}`);
    }
    let channels = inChannels;
    for (let s = 0; s < levelChannels.length; s++) {
      const out = levelChannels[levelChannels.length - 1 - s];
      const width = Math.max(1, Math.round(out * widthRatio));
      this.stages.push(this.registerModule(`stage${s + 1}`, bottleneckStage('up', channels, out, width, blocks[s], 2, init)));
      channels = out;
    }
  }

  /** Fused code [B, s, s, C] -> restored levels, shallowest first (the order of the backbone's levels). */
  forward(code: tf.Tensor4D): tf.Tensor4D[] {
    return tf.tidy(() => {
      const restored: tf.Tensor4D[] = [];
      let h = code;
      for (const stage of this.stages) {
        h = stage.forward(h);
        restored.unshift(h);
      }
      return restored;
    });
  }

  /** The restored levels' value names, shallowest first. */
  record(g: GraphRecorder, code: string): string[] {
    const restored: string[] = [];
    let h = code;
    for (const stage of this.stages) {
      h = stage.record(g, h);
      restored.unshift(h);
    }
    return restored;
  }
}
