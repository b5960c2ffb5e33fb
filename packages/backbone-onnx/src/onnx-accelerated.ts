import type { tf } from '@thfr/tensor';
import type { BackboneIdentity, FeatureExtractor, FeatureLevel, ResNetBackbone } from '@thfr/backbone';
import type { OnnxFeatureExtractor } from './onnx-extractor.js';

/**
 * A tfjs ResNet backbone whose asynchronous extraction runs on onnxruntime: the same network, weights, identity
 * and levels (features equal within ~1e-5 relative, the ONNX export's test). Every async path of thfr
 * (`extractFeatures`: feature caches, predict, PatchCore and PaDiM fits) takes onnxruntime; synchronous callers
 * (shape probes, tfjs benchmarks) keep the tfjs network, and `tfjs` stays available, e.g. to export the backbone
 * for browsers. Disposing it disposes both.
 */
export class OnnxAcceleratedBackbone implements FeatureExtractor {
  constructor(readonly tfjs: ResNetBackbone, readonly onnx: OnnxFeatureExtractor) {
    if (onnx.identity.weights !== tfjs.identity.weights || onnx.levels.length !== tfjs.levels.length) {
      throw new Error(`OnnxAcceleratedBackbone: the ONNX backbone (${JSON.stringify(onnx.identity)}) is not the tfjs one (${JSON.stringify(tfjs.identity)})`);
    }
  }

  get identity(): BackboneIdentity {
    return this.tfjs.identity;
  }

  get levels(): FeatureLevel[] {
    return this.tfjs.levels;
  }

  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    return this.tfjs.extract(images);
  }

  extractAsync(images: tf.Tensor4D): Promise<tf.Tensor4D[]> {
    return this.onnx.extractAsync(images);
  }

  dispose(): void {
    this.onnx.dispose();
    this.tfjs.dispose();
  }
}
