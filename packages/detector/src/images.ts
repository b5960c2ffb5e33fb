import { tf } from '@thfr/tensor';

/** A decoded RGB image: 3 bytes per pixel, row-major (the shape @thfr/data produces). */
export interface RgbImageLike {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** What a detector accepts: decoded RGB images of any size, or a [B, size, size, 3] float32 tensor in [0, 1]. */
export type DetectorInput = readonly RgbImageLike[] | tf.Tensor4D;

/**
 * Packs RGB images into a float32 [B, size, size, 3] tensor in [0, 1], resizing any image that is not
 * already size x size: when shrinking, box-filtered by the integer part of the factor first (plain
 * bilinear sampling aliases fine texture and defects, which measurably hurt detection), then bilinear
 * with half-pixel centres. Checks each buffer's length.
 */
export function imagesToTensor(images: readonly RgbImageLike[], size: number): tf.Tensor4D {
  if (images.length === 0) throw new Error('imagesToTensor: no images given');
  return tf.tidy(() => {
    const tensors = images.map((image, i) => {
      const expected = image.width * image.height * 3;
      if (image.data.length !== expected) {
        throw new Error(`image ${i}: expected ${image.width}x${image.height}x3 = ${expected} bytes of RGB, got ${image.data.length}`);
      }
      let t = tf.div(tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3]), 255) as tf.Tensor3D;
      if (image.width === size && image.height === size) return t;
      const boxH = Math.max(1, Math.floor(image.height / size));
      const boxW = Math.max(1, Math.floor(image.width / size));
      if (boxH > 1 || boxW > 1) t = tf.avgPool(t, [boxH, boxW], [boxH, boxW], 'valid') as tf.Tensor3D;
      return t.shape[0] === size && t.shape[1] === size ? t : tf.image.resizeBilinear(t, [size, size], false, true);
    });
    return tf.stack(tensors) as tf.Tensor4D;
  });
}

/** Number of images in a DetectorInput. */
export function inputCount(images: DetectorInput): number {
  return Array.isArray(images) ? images.length : (images as tf.Tensor4D).shape[0];
}

/**
 * Images start..end of a DetectorInput as a new [end - start, size, size, 3] tensor the caller owns:
 * RGB images are preprocessed with imagesToTensor, a tensor is sliced (and must already be size x size).
 */
export function inputBatch(images: DetectorInput, start: number, end: number, size: number, who = 'images'): tf.Tensor4D {
  if (Array.isArray(images)) return imagesToTensor((images as readonly RgbImageLike[]).slice(start, end), size);
  const tensor = images as tf.Tensor4D;
  if (tensor.rank !== 4 || tensor.shape[1] !== size || tensor.shape[2] !== size || tensor.shape[3] !== 3) {
    throw new Error(`${who} must be [B, ${size}, ${size}, 3], got [${tensor.shape.join(', ')}]; use imagesToTensor() to resize`);
  }
  return tf.slice(tensor, [start, 0, 0, 0], [end - start, -1, -1, -1]) as tf.Tensor4D;
}
