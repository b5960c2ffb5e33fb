import { tf, assertRank, ShapeError } from '@thfr/tensor';

/** One feature map produced by a backbone: its name, its stride relative to the input and its channel count. */
export interface FeatureLevel {
  name: string;
  stride: number;
  channels: number;
}

/** What a backbone is: architecture, which weights (a checksum or a package@version id) and the tap names. */
export interface BackboneIdentity {
  architecture: string;
  /** e.g. 'sha256:<hex>' of the weight bytes, or a package@version id. */
  weights: string;
  taps: string[];
}

/**
 * A frozen feature extractor.
 *
 * `extract(images)` takes `[B, H, W, 3]` RGB images, either float32 in [0, 1] or int32 valued 0..255, does the
 * backbone's own normalisation inside and returns one new tensor per level `[B, H/stride, W/stride, C]` (rounded
 * as the network's padding rounds); the caller owns (and disposes) them.
 *
 * `extractAsync(images)`, when present, returns the same tensors through a promise. Extractors whose engine only
 * runs asynchronously (onnxruntime's `run`, in `@thfr/backbone-onnx`) implement it and make `extract` throw, so
 * code that may be handed any backbone calls `extractFeatures(backbone, images)`, which uses `extractAsync` when
 * there is one and `extract` otherwise. Synchronous code keeps calling `extract` and so accepts only the tfjs
 * backbones.
 */
export interface FeatureExtractor {
  readonly identity: BackboneIdentity;
  readonly levels: FeatureLevel[];
  extract(images: tf.Tensor4D): tf.Tensor4D[];
  /** As `extract`, through a promise; optional (see the interface's comment and `extractFeatures`). */
  extractAsync?(images: tf.Tensor4D): Promise<tf.Tensor4D[]>;
  dispose(): void;
}

/**
 * The features of `images`, one new tensor per level (the caller disposes them): `backbone.extractAsync` when the
 * backbone has it (e.g. an ONNX backbone on onnxruntime), else `backbone.extract`. Use it in every async path.
 */
export async function extractFeatures(backbone: FeatureExtractor, images: tf.Tensor4D): Promise<tf.Tensor4D[]> {
  return backbone.extractAsync ? backbone.extractAsync(images) : backbone.extract(images);
}

/**
 * Checks `images` ([B,H,W,3], float32 or int32) and returns them as float32 in [0, 1].
 * Must be called inside a tidy scope.
 */
export function imagesToUnitRange(images: tf.Tensor4D, what = 'images'): tf.Tensor4D {
  assertRank(images, 4, what);
  if (images.shape[3] !== 3) {
    throw new ShapeError(`${what}: expected RGB images [B, H, W, 3], got shape [${images.shape.join(', ')}]`);
  }
  if (images.dtype === 'int32') return tf.div(tf.cast(images, 'float32'), 255) as tf.Tensor4D;
  if (images.dtype === 'float32') return images;
  throw new ShapeError(`${what}: expected dtype float32 (values in [0,1]) or int32 (values 0..255), got ${images.dtype}`);
}
