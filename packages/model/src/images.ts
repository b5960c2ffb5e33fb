import { tf } from '@thfr/tensor';

/** A decoded RGB image: 3 bytes per pixel, row-major (the shape @thfr/data produces). */
export interface RgbImageLike {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * Packs RGB images into a float32 [B, size, size, 3] tensor in [0, 1], resizing (bilinear, half-pixel
 * centres) any image that is not already size x size. Checks each buffer's length.
 */
export function imagesToTensor(images: readonly RgbImageLike[], size: number): tf.Tensor4D {
  if (images.length === 0) throw new Error('imagesToTensor: no images given');
  return tf.tidy(() => {
    const tensors = images.map((image, i) => {
      const expected = image.width * image.height * 3;
      if (image.data.length !== expected) {
        throw new Error(`image ${i}: expected ${image.width}x${image.height}x3 = ${expected} bytes of RGB, got ${image.data.length}`);
      }
      const t = tf.div(tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3]), 255) as tf.Tensor3D;
      return image.width === size && image.height === size ? t : tf.image.resizeBilinear(t, [size, size], false, true);
    });
    return tf.stack(tensors) as tf.Tensor4D;
  });
}
