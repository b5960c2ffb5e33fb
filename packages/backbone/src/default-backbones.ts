/** The pretrained backbones that install offline (with nsfwjs 4.4.0) and their taps at strides 4, 8, 16. */
export type DefaultBackboneName = 'mobilenet_v2' | 'inception_v3';

export interface DefaultBackboneInfo {
  name: DefaultBackboneName;
  taps: [string, string, string];
  inputRange: [number, number];
  identity: string;
}

export const DEFAULT_BACKBONES: Record<DefaultBackboneName, DefaultBackboneInfo> = {
  mobilenet_v2: { name: 'mobilenet_v2', taps: ['block_2_add', 'block_5_add', 'block_12_add'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/mobilenet_v2' },
  inception_v3: { name: 'inception_v3', taps: ['activation_5', 'mixed2', 'mixed7'], inputRange: [0, 1], identity: 'nsfwjs@4.4.0/inception_v3' },
};

/** The default chosen by measurement (see README: image AUROC on the synthetic dataset). */
export const DEFAULT_BACKBONE_NAME: DefaultBackboneName = 'mobilenet_v2';
