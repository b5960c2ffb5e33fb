/**
 * ResNet architecture descriptions and the parameter list each one implies, with torchvision's parameter names.
 * Two layouts of the Bottleneck: torchvision's v1.5 (a downsampling block strides on its 3x3 conv) and the
 * original v1 of He et al. / Caffe / Keras (it strides on its first 1x1 conv), whose convs also carry biases.
 */

export type ResNetBlock = 'basic' | 'bottleneck';
export type ResNetLayerName = 'layer1' | 'layer2' | 'layer3' | 'layer4';
export const RESNET_LAYER_NAMES: readonly ResNetLayerName[] = ['layer1', 'layer2', 'layer3', 'layer4'];

/** A ResNet: block type, blocks per stage, stage widths ("planes"), stem width and torchvision's width_per_group. */
export interface ResNetSpec {
  block: ResNetBlock;
  layers: [number, number, number, number];
  /** Planes of layer1..layer4 (torchvision: 64, 128, 256, 512). */
  widths: [number, number, number, number];
  /** Output channels of conv1 (torchvision: 64). */
  stemWidth: number;
  /** torchvision's width_per_group (64; 128 for the wide ResNets). */
  widthPerGroup: number;
  /**
   * Which conv of a downsampling Bottleneck carries the stride: 'conv3x3' (torchvision v1.5, the default) or
   * 'conv1x1' (v1: Caffe's and Keras' ResNet-50, whose first 1x1 conv strides and so skips 3 of 4 positions).
   */
  strideOn?: 'conv3x3' | 'conv1x1';
  /** Convs have biases (Caffe/Keras weights); folded into the batch-norm shift at load time. Default false. */
  convBias?: boolean;
}

export type ResNetArchitecture = 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101' | 'wide_resnet50_2' | 'wide_resnet101_2' | 'resnet50_v1';

const TORCHVISION_WIDTHS: [number, number, number, number] = [64, 128, 256, 512];

export const RESNET_SPECS: Record<ResNetArchitecture, ResNetSpec> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 64 },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 64 },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 64 },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 64 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 128 },
  wide_resnet101_2: { block: 'bottleneck', layers: [3, 4, 23, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 128 },
  // He et al.'s original ResNet-50 (Caffe, Keras applications): stride on the first 1x1 conv, convs with biases.
  resnet50_v1: { block: 'bottleneck', layers: [3, 4, 6, 3], widths: TORCHVISION_WIDTHS, stemWidth: 64, widthPerGroup: 64, strideOn: 'conv1x1', convBias: true },
};

/** Resolves an architecture name or a spec; throws naming the valid names. */
export function resolveResNetSpec(arch: ResNetArchitecture | ResNetSpec): ResNetSpec {
  if (typeof arch === 'string') {
    const spec = RESNET_SPECS[arch as ResNetArchitecture];
    if (!spec) throw new Error(`Unknown ResNet architecture '${arch}' (expected one of: ${Object.keys(RESNET_SPECS).join(', ')})`);
    return spec;
  }
  if (arch.block !== 'basic' && arch.block !== 'bottleneck') throw new Error(`ResNetSpec.block must be 'basic' or 'bottleneck', got '${arch.block}'`);
  if (arch.block === 'basic' && arch.widthPerGroup !== 64) throw new Error('ResNetSpec: BasicBlock only supports widthPerGroup 64 (as torchvision)');
  if (arch.strideOn !== undefined && arch.strideOn !== 'conv3x3' && arch.strideOn !== 'conv1x1') throw new Error(`ResNetSpec.strideOn must be 'conv3x3' or 'conv1x1', got '${arch.strideOn}'`);
  return arch;
}

export function architectureName(arch: ResNetArchitecture | ResNetSpec): string {
  if (typeof arch === 'string') return arch;
  const v1 = arch.strideOn === 'conv1x1' ? ',v1' : '';
  const bias = arch.convBias ? ',bias' : '';
  return `resnet(${arch.block},[${arch.layers.join(',')}],widths=[${arch.widths.join(',')}],stem=${arch.stemWidth},wpg=${arch.widthPerGroup}${v1}${bias})`;
}

/** One conv followed by a BatchNorm, with torchvision's key prefixes (`<conv>.weight`, `<bn>.running_mean`, ...). */
export interface ConvBnSpec {
  conv: string;
  bn: string;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
  /** The conv has a bias (`<conv>.bias`), folded into the BN shift. */
  bias: boolean;
}

export interface BlockSpec {
  prefix: string;
  convs: ConvBnSpec[];
  downsample?: ConvBnSpec;
}

export interface StageSpec {
  name: ResNetLayerName;
  stride: number;
  channels: number;
  blocks: BlockSpec[];
}

export interface ResNetPlan {
  stem: ConvBnSpec;
  stages: StageSpec[];
}

const EXPANSION: Record<ResNetBlock, number> = { basic: 1, bottleneck: 4 };

/** The whole network as torchvision builds it (ResNet._make_layer). */
export function planResNet(spec: ResNetSpec): ResNetPlan {
  const bias = spec.convBias ?? false;
  const strideOn1x1 = spec.strideOn === 'conv1x1';
  const stem: ConvBnSpec = { conv: 'conv1', bn: 'bn1', inChannels: 3, outChannels: spec.stemWidth, kernel: 7, stride: 2, pad: 3, bias };
  const expansion = EXPANSION[spec.block];
  let inplanes = spec.stemWidth;
  let totalStride = 4;
  const stages: StageSpec[] = [];
  RESNET_LAYER_NAMES.forEach((name, stageIndex) => {
    const planes = spec.widths[stageIndex];
    const firstStride = stageIndex === 0 ? 1 : 2;
    totalStride *= firstStride;
    const blocks: BlockSpec[] = [];
    for (let b = 0; b < spec.layers[stageIndex]; b++) {
      const prefix = `${name}.${b}`;
      const stride = b === 0 ? firstStride : 1;
      const convs: ConvBnSpec[] = [];
      if (spec.block === 'basic') {
        convs.push({ conv: `${prefix}.conv1`, bn: `${prefix}.bn1`, inChannels: inplanes, outChannels: planes, kernel: 3, stride, pad: 1, bias });
        convs.push({ conv: `${prefix}.conv2`, bn: `${prefix}.bn2`, inChannels: planes, outChannels: planes, kernel: 3, stride: 1, pad: 1, bias });
      } else {
        const width = Math.floor(planes * (spec.widthPerGroup / 64));
        convs.push({ conv: `${prefix}.conv1`, bn: `${prefix}.bn1`, inChannels: inplanes, outChannels: width, kernel: 1, stride: strideOn1x1 ? stride : 1, pad: 0, bias });
        convs.push({ conv: `${prefix}.conv2`, bn: `${prefix}.bn2`, inChannels: width, outChannels: width, kernel: 3, stride: strideOn1x1 ? 1 : stride, pad: 1, bias });
        convs.push({ conv: `${prefix}.conv3`, bn: `${prefix}.bn3`, inChannels: width, outChannels: planes * expansion, kernel: 1, stride: 1, pad: 0, bias });
      }
      const needsDownsample = b === 0 && (stride !== 1 || inplanes !== planes * expansion);
      const downsample = needsDownsample
        ? { conv: `${prefix}.downsample.0`, bn: `${prefix}.downsample.1`, inChannels: inplanes, outChannels: planes * expansion, kernel: 1, stride, pad: 0, bias }
        : undefined;
      blocks.push({ prefix, convs, downsample });
      inplanes = planes * expansion;
    }
    stages.push({ name, stride: totalStride, channels: planes * expansion, blocks });
  });
  return { stem, stages };
}

/** Every conv+BN of the plan up to and including stage `lastStage` (0-based). */
export function convBnsOf(plan: ResNetPlan, lastStage = 3): ConvBnSpec[] {
  const out = [plan.stem];
  for (const stage of plan.stages.slice(0, lastStage + 1)) {
    for (const block of stage.blocks) {
      out.push(...block.convs);
      if (block.downsample) out.push(block.downsample);
    }
  }
  return out;
}

/** The float parameters (name -> torch shape) that a conv+BN pair needs. */
export function parameterShapesOf(convBn: ConvBnSpec): Array<[string, number[]]> {
  const c = convBn.outChannels;
  return [
    [`${convBn.conv}.weight`, [c, convBn.inChannels, convBn.kernel, convBn.kernel]],
    ...(convBn.bias ? ([[`${convBn.conv}.bias`, [c]]] as Array<[string, number[]]>) : []),
    [`${convBn.bn}.weight`, [c]],
    [`${convBn.bn}.bias`, [c]],
    [`${convBn.bn}.running_mean`, [c]],
    [`${convBn.bn}.running_var`, [c]],
  ];
}
