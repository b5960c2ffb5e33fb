import { tf } from '@thfr/tensor';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackboneIdentity } from './feature-extractor.js';
import { layersModelBackbone, type LayersBackbone } from './layers-adapter.js';
import { patchTopology } from './layers-topology.js';

/** A Keras/tfjs-layers model in memory: topology JSON, weight specs (manifest entries) and the weight bytes. */
export interface KerasArtifacts {
  modelTopology: unknown;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export interface TappedModelOptions {
  taps: string[];
  inputRange?: [number, number];
  identity?: Partial<BackboneIdentity>;
  levelNames?: string[];
  resizeToStride?: boolean;
  /** Fixed input [height, width], or null for free sizes (default [null, null]). */
  inputSize?: [number | null, number | null];
}

/**
 * Builds a frozen backbone from Keras artifacts: the topology is cut after the taps (the classifier head and any
 * layer past the deepest tap are never built), weights are decoded (uint8/uint16 quantisation included) and loaded
 * strictly for the kept layers; BatchNorms stored with `scale: false` get gamma = 1 (same function, and a gradient).
 */
export async function buildTappedLayersBackbone(artifacts: KerasArtifacts, options: TappedModelOptions): Promise<LayersBackbone> {
  const patched = patchTopology(artifacts.modelTopology, options.taps, options.inputSize ?? [null, null]);
  const model = (await tfl.models.modelFromJSON({ modelTopology: patched.topology as unknown as tf.io.ModelJSON['modelTopology'] } as never)) as tfl.LayersModel;
  const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const owned: tf.Tensor[] = Object.values(decoded);
  try {
    const weights: tf.NamedTensorMap = {};
    for (const [name, tensor] of Object.entries(decoded)) {
      if (patched.kept.has(name.split('/')[0])) weights[name] = tensor;
    }
    for (const layer of patched.scaleAdded) {
      const beta = weights[`${layer}/beta`];
      if (!beta) throw new Error(`Keras weights: BatchNormalization '${layer}' has no beta to size its gamma`);
      const gamma = tf.onesLike(beta);
      owned.push(gamma);
      weights[`${layer}/gamma`] = gamma;
    }
    model.loadWeights(weights, true);
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    for (const t of owned) t.dispose();
  }
  model.trainable = false;
  return layersModelBackbone(model, {
    taps: options.taps,
    inputRange: options.inputRange,
    identity: options.identity,
    levelNames: options.levelNames,
    resizeToStride: options.resizeToStride,
    ownsModel: true,
  });
}
