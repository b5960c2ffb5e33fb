/** An 8-bit RGB image, row-major, 3 bytes per pixel (R, G, B). */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An 8-bit single-channel image. For masks the values are the raw pixel values (0 = normal). */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Any 8-bit image with an explicit channel count (1 = gray, 3 = RGB, 4 = RGBA), e.g. canvas ImageData. */
export interface ChannelImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels: 1 | 3 | 4;
}

/** Throws unless `data` holds exactly width*height*channels bytes. */
export function assertImageSize(
  what: string,
  img: { width: number; height: number; data: ArrayLike<number> },
  channels: number,
): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new Error(`${what}: width and height must be positive integers, got ${img.width}x${img.height}`);
  }
  const expected = img.width * img.height * channels;
  if (img.data.length !== expected) {
    throw new Error(
      `${what}: expected ${expected} bytes (${img.width}x${img.height}x${channels}), got ${img.data.length}`,
    );
  }
}
