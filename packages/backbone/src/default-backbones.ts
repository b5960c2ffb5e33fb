/** The pretrained backbones that install offline (with nsfwjs 4.4.0) and their taps at strides 4, 8, 16. */
export type DefaultBackboneName = 'mobilenet_v2' | 'inception_v3';

export interface DefaultBackboneInfo {
  name: DefaultBackboneName;
  taps: [string, string, string];
  inputRange: [number, number];
  identity: string;
  /** Resize taps to ceil(H/stride) (InceptionV3's 'valid' convs give 60/29/14 at 256 px). */
  resizeToStride: boolean;
}

export const DEFAULT_BACKBONES: Record<DefaultBackboneName, DefaultBackboneInfo> = {
  mobilenet_v2: { name: 'mobilenet_v2', taps: ['block_2_add', 'block_5_add', 'block_12_add'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/mobilenet_v2', resizeToStride: false },
  inception_v3: { name: 'inception_v3', taps: ['activation_5', 'mixed2', 'mixed7'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/inception_v3', resizeToStride: true },
};

/**
 * The default backbone. Measured (README "Measurements"): with a nearest-neighbour detector on the
 * synthetic dataset InceptionV3 scores best (image AUROC ad 1.000 / loco 1.000 vs MobileNetV2 1.000 /
 * 0.939), at ~4.6x MobileNetV2's forward time on wasm. For THFR the taps' channels set the size of the
 * trainable network (C_K = 768 vs 96: a code of 1536 vs 192 channels), which puts InceptionV3 far outside a
 * CPU training budget, while THFR with MobileNetV2 separates both synthetic categories (image AUROC 0.85-0.96
 * in the demo). So MobileNetV2 is the default; InceptionV3 stays one option away ({ name: 'inception_v3' }).
 */
export const DEFAULT_BACKBONE_NAME: DefaultBackboneName = 'mobilenet_v2';
