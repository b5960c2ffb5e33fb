import { tf } from '@thfr/tensor';
import * as tfl from '@tensorflow/tfjs-layers';
import { imagesToUnitRange, type BackboneIdentity, type FeatureExtractor, type FeatureLevel } from './feature-extractor.js';

/** The part of a tfjs-converter GraphModel the adapter uses (duck-typed: tfjs-converter is not a dependency). */
export interface GraphModelLike {
  execute(inputs: tf.Tensor, outputs: string[]): tf.Tensor | tf.Tensor[];
  readonly inputs: Array<{ shape?: number[] }>;
  dispose(): void;
}

export interface TapOptions {
  /** Layer names (LayersModel) or node names (GraphModel) to tap, one per level, shallow to deep. */
  taps: string[];
  /** The value range the model expects for RGB inputs: [0,1] (default), [-1,1], [0,255], ... */
  inputRange?: [number, number];
  /** Identity to report; defaults to the model's name and 'unidentified' weights. */
  identity?: Partial<BackboneIdentity>;
  /** Names of the levels (default: the tap names). */
  levelNames?: string[];
  /** Side of the square image used to measure strides when the model's input size is not fixed (default 256). */
  probeSize?: number;
  /** Dispose the wrapped model when the backbone is disposed (default false). */
  ownsModel?: boolean;
  /**
   * Bilinearly resize each tap to exactly ceil(H/stride) x ceil(W/stride) (torch's ResNet sizes) when the model's
   * 'valid' paddings make it smaller (InceptionV3: 60/29/14 at 256 px -> 64/32/16). Default false.
   */
  resizeToStride?: boolean;
}

function isLayersModel(model: unknown): model is tfl.LayersModel {
  return model instanceof tfl.LayersModel || (typeof (model as tfl.LayersModel).getLayer === 'function' && Array.isArray((model as tfl.LayersModel).layers));
}

/** The power of two nearest to in/out: 'valid' paddings (InceptionV3) shrink maps a little below in/stride. */
function strideOf(inputSize: number, outputSize: number): number {
  return 2 ** Math.round(Math.log2(inputSize / outputSize));
}

/** A backbone made of a tfjs model and named taps. The tap sub-model is `model` (for export). */
export class LayersBackbone implements FeatureExtractor {
  readonly identity: BackboneIdentity;
  readonly levels: FeatureLevel[];
  readonly inputRange: [number, number];
  readonly resizeToStride: boolean;
  private disposed = false;

  constructor(
    readonly model: tfl.LayersModel | GraphModelLike,
    private readonly run: (x: tf.Tensor4D) => tf.Tensor[],
    levels: FeatureLevel[],
    identity: BackboneIdentity,
    inputRange: [number, number],
    private readonly disposeModel: () => void,
    resizeToStride = false,
  ) {
    this.resizeToStride = resizeToStride;
    this.levels = levels;
    this.identity = identity;
    this.inputRange = inputRange;
  }

  extract(images: tf.Tensor4D): tf.Tensor4D[] {
    if (this.disposed) throw new Error(`${this.identity.architecture}: extract() called after dispose()`);
    return tf.tidy(() => {
      const unit = imagesToUnitRange(images);
      const [lo, hi] = this.inputRange;
      const x = lo === 0 && hi === 1 ? unit : (tf.add(tf.mul(unit, hi - lo), lo) as tf.Tensor4D);
      const outputs = this.run(x);
      return outputs.map((t, i) => {
        if (t.rank !== 4) throw new Error(`${this.identity.architecture}: tap '${this.identity.taps[i]}' gave shape [${t.shape.join(', ')}], expected a rank-4 NHWC map`);
        const map = t as tf.Tensor4D;
        if (!this.resizeToStride) return map;
        const stride = this.levels[i].stride;
        const size: [number, number] = [Math.ceil(images.shape[1] / stride), Math.ceil(images.shape[2] / stride)];
        return map.shape[1] === size[0] && map.shape[2] === size[1] ? map : tf.image.resizeBilinear(map, size);
      });
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposeModel();
    this.disposed = true;
  }
}

/**
 * Makes any tfjs LayersModel (or GraphModel) with named layers/nodes a backbone: a sub-model returns the taps'
 * outputs; channel counts and strides come from the taps' output shapes (measured with one probe forward pass
 * at `probeSize` when the model's spatial input size is not fixed).
 */
export function layersModelBackbone(model: tfl.LayersModel | GraphModelLike, options: TapOptions): LayersBackbone {
  const { taps } = options;
  if (!Array.isArray(taps) || taps.length === 0) throw new Error('layersModelBackbone: options.taps must name at least one layer');
  const inputRange = options.inputRange ?? [0, 1];
  if (!(inputRange.length === 2 && inputRange[1] > inputRange[0])) throw new Error(`layersModelBackbone: inputRange must be [lo, hi] with hi > lo, got [${inputRange.join(', ')}]`);
  const levelNames = options.levelNames ?? taps;
  if (levelNames.length !== taps.length) throw new Error(`layersModelBackbone: ${levelNames.length} levelNames for ${taps.length} taps`);

  let run: (x: tf.Tensor4D) => tf.Tensor[];
  let held: tfl.LayersModel | GraphModelLike;
  let inputShape: Array<number | null>;
  let disposeModel: () => void;
  let architecture: string;
  if (isLayersModel(model)) {
    const missing = taps.filter((name) => !model.layers.some((l) => l.name === name));
    if (missing.length > 0) {
      const names = model.layers.map((l) => l.name);
      throw new Error(`layersModelBackbone: model '${model.name}' has no layer named ${missing.map((m) => `'${m}'`).join(', ')} (it has ${names.length} layers: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})`);
    }
    const outputs = taps.map((name) => {
      const output = model.getLayer(name).output;
      if (Array.isArray(output)) throw new Error(`layersModelBackbone: layer '${name}' has several outputs; tap a single-output layer`);
      return output;
    });
    const sub = tfl.model({ inputs: model.inputs, outputs, name: `${model.name}_taps` });
    held = sub;
    inputShape = model.inputs[0].shape;
    run = (x) => {
      const out = sub.predict(x, { batchSize: Math.max(1, x.shape[0]) });
      return Array.isArray(out) ? out : [out];
    };
    // The sub-model shares the layers (and weights) of `model`: disposing it would free the caller's weights,
    // so only an owned model is disposed (which frees every layer, the sub-model's included).
    disposeModel = () => {
      if (options.ownsModel) model.dispose();
    };
    architecture = model.name;
  } else {
    held = model;
    inputShape = model.inputs[0]?.shape ?? [null, null, null, 3];
    run = (x) => {
      const out = model.execute(x, taps);
      return Array.isArray(out) ? out : [out];
    };
    disposeModel = () => {
      if (options.ownsModel) model.dispose();
    };
    architecture = 'graph-model';
  }

  // Strides and channels: from one probe pass (exact whatever the layer types are).
  const height = typeof inputShape[1] === 'number' && inputShape[1] > 0 ? inputShape[1] : options.probeSize ?? 256;
  const width = typeof inputShape[2] === 'number' && inputShape[2] > 0 ? inputShape[2] : options.probeSize ?? 256;
  const shapes = tf.tidy(() => run(tf.zeros([1, height, width, 3]) as tf.Tensor4D).map((t) => t.shape));
  const levels = shapes.map((shape, i) => {
    if (shape.length !== 4) throw new Error(`layersModelBackbone: tap '${taps[i]}' outputs shape [${shape.join(', ')}], expected NHWC [B, H, W, C]`);
    return { name: levelNames[i], stride: strideOf(height, shape[1]), channels: shape[3] };
  });
  const identity: BackboneIdentity = {
    architecture: options.identity?.architecture ?? architecture,
    weights: options.identity?.weights ?? 'unidentified',
    taps: options.identity?.taps ?? [...taps],
  };
  return new LayersBackbone(held, run, levels, identity, [inputRange[0], inputRange[1]], disposeModel, options.resizeToStride ?? false);
}
