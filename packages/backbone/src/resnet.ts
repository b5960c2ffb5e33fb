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

export interface ResNetOptions {
  /** Taps to return, in order (default layer1..layer3; layer4 is computed only when asked for). */
  levels?: ResNetLayerName[];
  /** BatchNorm epsilon used when folding (torch default 1e-5). */
  eps?: number;
  /** Identity of the weights (e.g. 'sha256:<hex>'); loaders fill it in. */
  weightsId?: string;
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

  constructor(private readonly plan: ResNetPlan, private readonly convs: Map<string, FoldedConv>, levelNames: ResNetLayerName[], identity: BackboneIdentity) {
    this.levels = levelNames.map((name) => {
      const stage = plan.stages.find((s) => s.name === name)!;
      return { name, stride: stage.stride, channels: stage.channels };
    });
    this.lastStage = Math.max(...levelNames.map((n) => RESNET_LAYER_NAMES.indexOf(n)));
    this.identity = identity;
    this.mean = tf.keep(tf.tensor1d([...IMAGENET_MEAN]));
    this.std = tf.keep(tf.tensor1d([...IMAGENET_STD]));
  }

  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    if (this.disposed) throw new Error(`${this.identity.architecture}: extract() called after dispose()`);
    return tf.tidy(() => {
      const unit = imagesToUnitRange(images);
      let x = tf.div(tf.sub(unit, this.mean), this.std) as tf.Tensor4D;
      x = this.conv(this.plan.stem.conv, x, true);
      x = tf.maxPool(x, 3, 2, 1);
      const taps = new Map<string, tf.Tensor4D>();
      for (const stage of this.plan.stages.slice(0, this.lastStage + 1)) {
        for (const block of stage.blocks) x = this.block(block.convs.map((c) => c.conv), block.downsample?.conv, x);
        taps.set(stage.name, x);
      }
      return this.levels.map((level) => taps.get(level.name)!);
    });
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
  const lastStage = Math.max(...levels.map((n) => RESNET_LAYER_NAMES.indexOf(n)));
  const convs = foldResNetWeights(weights, plan, lastStage, options.eps ?? 1e-5);
  return new ResNetBackbone(plan, convs, levels, {
    architecture: architectureName(arch),
    weights: options.weightsId ?? `unidentified:${weights.source}`,
    taps: levels,
  });
}
