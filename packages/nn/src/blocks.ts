import { tf } from '@thfr/tensor';
import { Module } from './module.js';
import { Initializer } from './init.js';
import { BatchNorm2d, Conv2d, ConvBnAct, ConvTranspose2d } from './layers.js';
import type { GraphRecorder } from './graph.js';

export interface BottleneckOptions {
  /** Channels of the 3x3 middle conv (torchvision: planes * width_per_group / 64). */
  width: number;
  /** 2 halves the resolution (strided 3x3 conv + 1x1/s2 shortcut), 1 keeps it. */
  stride?: number;
}

/**
 * torchvision's Bottleneck (ResNet v1.5): 1x1 -> 3x3 (stride) -> 1x1, batch norms, ReLU, and a 1x1
 * projection shortcut when the shape changes. Channel counts are explicit so that any backbone's
 * widths can be used. The paper's "ResBlock".
 */
export class Bottleneck extends Module {
  readonly reduce: ConvBnAct;
  readonly spatial: ConvBnAct;
  readonly expand: ConvBnAct;
  readonly shortcut?: ConvBnAct;

  constructor(readonly inChannels: number, readonly outChannels: number, init: Initializer, options: BottleneckOptions) {
    super();
    const stride = options.stride ?? 1;
    this.reduce = this.registerModule('conv1', new ConvBnAct(inChannels, options.width, 1, init));
    this.spatial = this.registerModule('conv2', new ConvBnAct(options.width, options.width, 3, init, { stride }));
    this.expand = this.registerModule('conv3', new ConvBnAct(options.width, outChannels, 1, init, { relu: false }));
    if (stride !== 1 || inChannels !== outChannels) {
      this.shortcut = this.registerModule('downsample', new ConvBnAct(inChannels, outChannels, 1, init, { relu: false, stride }));
    }
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.expand.forward(this.spatial.forward(this.reduce.forward(x)));
      const identity = this.shortcut ? this.shortcut.forward(x) : x;
      return tf.relu(tf.add(y, identity)) as tf.Tensor4D;
    });
  }

  record(g: GraphRecorder, x: string): string {
    const y = this.expand.record(g, this.spatial.record(g, this.reduce.record(g, x)));
    const identity = this.shortcut ? this.shortcut.record(g, x) : x;
    return g.node('relu', [g.node('add', [y, identity])]);
  }
}

/**
 * RD4AD's decoder block (de_resnet's DeBottleneck): like Bottleneck, but with stride 2 the middle
 * conv is a 2x2/s2 transposed conv that doubles the resolution, and so is the shortcut.
 */
export class UpBottleneck extends Module {
  readonly reduce: ConvBnAct;
  readonly up?: ConvTranspose2d;
  readonly upBn?: BatchNorm2d;
  readonly spatial?: ConvBnAct;
  readonly expand: ConvBnAct;
  readonly shortcutUp?: ConvTranspose2d;
  readonly shortcutConv?: Conv2d;
  readonly shortcutBn?: BatchNorm2d;

  constructor(readonly inChannels: number, readonly outChannels: number, init: Initializer, options: BottleneckOptions) {
    super();
    const upsample = (options.stride ?? 1) === 2;
    this.reduce = this.registerModule('conv1', new ConvBnAct(inChannels, options.width, 1, init));
    if (upsample) {
      this.up = this.registerModule('conv2', new ConvTranspose2d(options.width, options.width, 2, init));
      this.upBn = this.registerModule('bn2', new BatchNorm2d(options.width));
    } else {
      this.spatial = this.registerModule('conv2', new ConvBnAct(options.width, options.width, 3, init));
    }
    this.expand = this.registerModule('conv3', new ConvBnAct(options.width, outChannels, 1, init, { relu: false }));
    if (upsample) {
      this.shortcutUp = this.registerModule('upsample', new ConvTranspose2d(inChannels, outChannels, 2, init));
      this.shortcutBn = this.registerModule('upsample_bn', new BatchNorm2d(outChannels));
    } else if (inChannels !== outChannels) {
      this.shortcutConv = this.registerModule('downsample', new Conv2d(inChannels, outChannels, 1, init));
      this.shortcutBn = this.registerModule('downsample_bn', new BatchNorm2d(outChannels));
    }
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let y = this.reduce.forward(x);
      y = this.up ? this.upBn!.forward(this.up.forward(y), true) : this.spatial!.forward(y);
      y = this.expand.forward(y);
      let identity: tf.Tensor4D = x;
      if (this.shortcutUp) identity = this.shortcutBn!.forward(this.shortcutUp.forward(x));
      else if (this.shortcutConv) identity = this.shortcutBn!.forward(this.shortcutConv.forward(x));
      return tf.relu(tf.add(y, identity)) as tf.Tensor4D;
    });
  }

  record(g: GraphRecorder, x: string): string {
    let y = this.reduce.record(g, x);
    y = this.up ? g.node('relu', [this.upBn!.record(g, this.up.record(g, y))]) : this.spatial!.record(g, y);
    y = this.expand.record(g, y);
    let identity = x;
    if (this.shortcutUp) identity = this.shortcutBn!.record(g, this.shortcutUp.record(g, x));
    else if (this.shortcutConv) identity = this.shortcutBn!.record(g, this.shortcutConv.record(g, x));
    return g.node('relu', [g.node('add', [y, identity])]);
  }
}

/** Applies modules one after another. */
export class Sequential<M extends Module & { forward(x: tf.Tensor4D): tf.Tensor4D; record(g: GraphRecorder, x: string): string }> extends Module {
  readonly layers: M[];
  constructor(layers: M[]) {
    super();
    this.layers = layers.map((layer, i) => this.registerModule(String(i), layer));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.layers.reduce((h, layer) => layer.forward(h), x));
  }
  record(g: GraphRecorder, x: string): string {
    return this.layers.reduce((h, layer) => layer.record(g, h), x);
  }
}

/** A stage of `count` blocks: the first changes channels/resolution, the rest keep them. */
export function bottleneckStage(kind: 'down' | 'up', inChannels: number, outChannels: number, width: number, count: number, stride: number, init: Initializer): Sequential<Bottleneck | UpBottleneck> {
  const Block = kind === 'down' ? Bottleneck : UpBottleneck;
  const blocks: Array<Bottleneck | UpBottleneck> = [];
  for (let i = 0; i < count; i++) {
    blocks.push(new Block(i === 0 ? inChannels : outChannels, outChannels, init, { width, stride: i === 0 ? stride : 1 }));
  }
  return new Sequential(blocks);
}
