import { tf } from '@thfr/tensor';
import { imagesToUnitRange, type BackboneIdentity, type FeatureExtractor, type FeatureLevel } from './feature-extractor.js';
import {
  architectureName,
  planResNet,
  RESNET_LAYER_NAMES,
  resolveResNetSpec,
  type ResNetArchitecture,
  type ResNetLayerName,
  type ResNetPlan,
  type ResNetSpec,
} from './resnet-spec.js';
import { foldResNetWeights, type FoldedConv, type NamedFloatArrays } from './resnet-weights.js';

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Keras 'caffe' preprocessing: the BGR mean in 0..255 (no scaling by a std). */
export const CAFFE_BGR_MEAN = [103.939, 116.779, 123.68] as const;

/**
 * How pixels are normalised before the stem: 'imagenet' = torchvision ((x/255 - mean) / std, RGB);
 * 'caffe' = Keras applications' caffe mode (RGB -> BGR, 0..255, minus the BGR mean), what the Caffe-converted
 * ResNet-50 weights were trained with.
 */
export type ResNetPreprocessing = 'imagenet' | 'caffe';

export interface ResNetOptions {
  /** Taps to return, in order (default layer1..layer3; layer4 is computed only when asked for). */
  levels?: ResNetLayerName[];
  /** BatchNorm epsilon used when folding (torch default 1e-5). */
  eps?: number;
  /** Identity of the weights (e.g. 'sha256:<hex>'); loaders fill it in. */
  weightsId?: string;
  /** Pixel normalisation (default 'imagenet', torchvision's). */
  preprocessing?: ResNetPreprocessing;
  /** Architecture name recorded in the identity (default: the spec's name). */
  architectureName?: string;
  /** Also load the ImageNet classifier (`fc.weight` [1000, 2048], `fc.bias`) so that `classify()` works. */
  classifier?: boolean;
}

/** The ImageNet head: global average pool of layer4, then a dense layer (torch layout [out, in] kept as [in, out]). */
interface ClassifierHead {
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/**
 * A torchvision ResNet / WideResNet (v1.5) in NHWC with BatchNorm folded into the convs. The convs use torch's
 * symmetric zero padding (explicit numeric padding, never 'same', which pads asymmetrically for stride 2 on even
 * sizes) and the max pool pads with -inf as torch does (tfjs's numeric pool padding skips out-of-range cells).
 */
export class ResNetBackbone implements FeatureExtractor {
  readonly identity: BackboneIdentity;
  readonly levels: FeatureLevel[];
  private readonly lastStage: number;
  private readonly mean: tf.Tensor1D;
  private readonly std: tf.Tensor1D;
  private disposed = false;

  constructor(
    readonly spec: ResNetSpec,
    readonly plan: ResNetPlan,
    private readonly convs: Map<string, FoldedConv>,
    levelNames: ResNetLayerName[],
    identity: BackboneIdentity,
    readonly preprocessing: ResNetPreprocessing = 'imagenet',
    private readonly head?: ClassifierHead,
  ) {
    this.levels = levelNames.map((name) => {
      const stage = plan.stages.find((s) => s.name === name)!;
      return { name, stride: stage.stride, channels: stage.channels };
    });
    this.lastStage = Math.max(...levelNames.map((n) => RESNET_LAYER_NAMES.indexOf(n)));
    this.identity = identity;
    if (preprocessing === 'caffe') {
      this.mean = tf.keep(tf.tensor1d([...CAFFE_BGR_MEAN]));
      this.std = tf.keep(tf.tensor1d([1, 1, 1]));
    } else {
      this.mean = tf.keep(tf.tensor1d([...IMAGENET_MEAN]));
      this.std = tf.keep(tf.tensor1d([...IMAGENET_STD]));
    }
  }

  /** The folded convs (HWIO filter + bias), e.g. to export them; owned by the backbone. */
  foldedConvs(): ReadonlyMap<string, FoldedConv> {
    return this.convs;
  }

  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    if (this.disposed) throw new Error(`${this.identity.architecture}: extract() called after dispose()`);
    return tf.tidy(() => {
      const taps = this.run(images, this.lastStage);
      return this.levels.map((level) => taps.get(level.name)!);
    });
  }

  /** ImageNet logits [B, 1000] (needs `classifier: true` at load, which also builds layer4). */
  classify(images: tf.Tensor4D): tf.Tensor2D {
    if (this.disposed) throw new Error(`${this.identity.architecture}: classify() called after dispose()`);
    const head = this.head;
    if (!head) throw new Error(`${this.identity.architecture}: classify() needs the classifier; load with { classifier: true }`);
    return tf.tidy(() => {
      const deepest = this.run(images, 3).get('layer4')!;
      const pooled = tf.mean(deepest, [1, 2]) as tf.Tensor2D;
      return tf.add(tf.matMul(pooled, head.kernel), head.bias) as tf.Tensor2D;
    });
  }

  private normalise(images: tf.Tensor4D): tf.Tensor4D {
    const unit = imagesToUnitRange(images);
    if (this.preprocessing === 'caffe') {
      // Keras 'caffe' mode: 0..255, channels reversed to BGR, BGR mean subtracted, no std.
      const bgr = tf.reverse(tf.mul(unit, 255), 3);
      return tf.sub(bgr, this.mean) as tf.Tensor4D;
    }
    return tf.div(tf.sub(unit, this.mean), this.std) as tf.Tensor4D;
  }

  /** Runs the stem and stages 0..lastStage; must be called inside a tidy scope. */
  private run(images: tf.Tensor4D, lastStage: number): Map<string, tf.Tensor4D> {
    let x = this.normalise(images);
    x = this.conv(this.plan.stem.conv, x, true);
    // Pads with -inf (tfjs skips out-of-range cells); after the ReLU this equals Keras' zero padding.
    x = tf.maxPool(x, 3, 2, 1);
    const taps = new Map<string, tf.Tensor4D>();
    for (const stage of this.plan.stages.slice(0, lastStage + 1)) {
      for (const block of stage.blocks) x = this.block(block.convs.map((c) => c.conv), block.downsample?.conv, x);
      taps.set(stage.name, x);
    }
    return taps;
  }

  private conv(name: string, x: tf.Tensor4D, relu: boolean): tf.Tensor4D {
    const { spec, filter, bias } = this.convs.get(name)!;
    return tf.fused.conv2d({ x, filter, bias, strides: spec.stride, pad: spec.pad, activation: relu ? 'relu' : 'linear' });
  }

  private block(convNames: string[], downsampleName: string | undefined, x: tf.Tensor4D): tf.Tensor4D {
    const identity = downsampleName ? this.conv(downsampleName, x, false) : x;
    let y = x;
    convNames.forEach((name, i) => {
      y = this.conv(name, y, i < convNames.length - 1);
    });
    return tf.relu(tf.add(y, identity)) as tf.Tensor4D;
  }

  dispose(): void {
    if (this.disposed) return;
    for (const { filter, bias } of this.convs.values()) {
      filter.dispose();
      bias.dispose();
    }
    this.mean.dispose();
    this.std.dispose();
    this.head?.kernel.dispose();
    this.head?.bias.dispose();
    this.disposed = true;
  }
}

function resolveLevels(levels: ResNetLayerName[] | undefined): ResNetLayerName[] {
  const names = levels ?? ['layer1', 'layer2', 'layer3'];
  if (names.length === 0) throw new Error('ResNet options.levels: expected at least one of layer1..layer4');
  for (const name of names) {
    if (!RESNET_LAYER_NAMES.includes(name)) throw new Error(`ResNet options.levels: unknown level '${name}' (expected layer1, layer2, layer3 or layer4)`);
  }
  return names;
}

/** Builds a ResNet backbone from named torch-layout weights (validates, folds BN, transposes to HWIO). */
export function buildResNet(arch: ResNetArchitecture | ResNetSpec, weights: NamedFloatArrays, options: ResNetOptions = {}): ResNetBackbone {
  const spec = resolveResNetSpec(arch);
  const plan = planResNet(spec);
  const levels = resolveLevels(options.levels);
  const lastStage = options.classifier ? 3 : Math.max(...levels.map((n) => RESNET_LAYER_NAMES.indexOf(n)));
  const convs = foldResNetWeights(weights, plan, lastStage, options.eps ?? 1e-5);
  let head: ClassifierHead | undefined;
  try {
    if (options.classifier) head = loadClassifierHead(weights, plan.stages[3].channels);
  } catch (error) {
    for (const { filter, bias } of convs.values()) tf.dispose([filter, bias]);
    throw error;
  }
  const identity: BackboneIdentity = {
    architecture: options.architectureName ?? architectureName(arch),
    weights: options.weightsId ?? `unidentified:${weights.source}`,
    taps: levels,
  };
  return new ResNetBackbone(spec, plan, convs, levels, identity, options.preprocessing ?? 'imagenet', head);
}

function loadClassifierHead(weights: NamedFloatArrays, channels: number): ClassifierHead {
  const w = weights.info('fc.weight');
  const b = weights.info('fc.bias');
  if (!w || !b || w.shape.length !== 2 || w.shape[1] !== channels || b.shape[0] !== w.shape[0]) {
    throw new Error(`${weights.source}: classifier: expected 'fc.weight' [classes, ${channels}] and 'fc.bias' [classes], got ${w ? `[${w.shape.join(', ')}]` : 'none'} / ${b ? `[${b.shape.join(', ')}]` : 'none'}`);
  }
  const classes = w.shape[0];
  return tf.tidy(() => ({
    kernel: tf.keep(tf.transpose(tf.tensor2d(weights.readFloat32('fc.weight'), [classes, channels]))),
    bias: tf.keep(tf.tensor1d(weights.readFloat32('fc.bias'))),
  }));
}
