// The maximum image size, checked from the PNG/JPEG header before anything is decoded (browser-safe).

/**
 * Default maximum pixels per image: 2^28 = 268,435,456 (16384 x 16384). From the file to a float32
 * tensor an image needs up to ~64 bytes per pixel at peak (inflated 16-bit RGBA PNG rows, 8-bit samples,
 * RGB, then the float32 copies of imagesToTensor), so one image at this limit peaks near 16 GiB:
 * sized for a 24 GiB machine. Raise it per call (`maxPixels`) or, in Node, with THFR_MAX_IMAGE_PIXELS.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 2 ** 28;
/** Peak bytes per pixel used for the estimate in the message. */
const PEAK_BYTES_PER_PIXEL = 64;

export interface ImageDimensions {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the image size. */
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Width and height from a PNG's IHDR or a JPEG's start-of-frame segment; undefined when not found. */
export function readImageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR') {
    return { format: 'png', width: u32(bytes, 16), height: u32(bytes, 20) };
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let p = 2;
    while (p + 3 < bytes.length) {
      if (bytes[p] !== 0xff) return undefined;
      const marker = bytes[p + 1];
      if (marker === 0xff) {
        p += 1; // fill byte
        continue;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        p += 2; // markers without a length
        continue;
      }
      if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / start of scan before any frame
      if (JPEG_SOF.has(marker)) {
        if (p + 9 > bytes.length) return undefined;
        return { format: 'jpeg', height: u16(bytes, p + 5), width: u16(bytes, p + 7) };
      }
      p += 2 + u16(bytes, p + 2);
    }
  }
  return undefined;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * Throws a RangeError naming the file when its header declares more than `maxPixels` pixels, before
 * any memory is allocated for it.
 */
export function checkImagePixels(bytes: Uint8Array, name: string, maxPixels = DEFAULT_MAX_IMAGE_PIXELS): void {
  const dims = readImageDimensions(bytes);
  if (!dims) return; // the decoder reports what is wrong with the file
  const pixels = dims.width * dims.height;
  if (pixels > maxPixels) {
    throw new RangeError(
      `${name}: ${dims.format.toUpperCase()} of ${dims.width}x${dims.height} = ${pixels} pixels exceeds the limit of ${maxPixels} pixels ` +
        `(decoding it would need about ${gib(pixels * PEAK_BYTES_PER_PIXEL)}); resize the image, or raise the limit ` +
        '(maxPixels / maxImagePixels options, or THFR_MAX_IMAGE_PIXELS in Node) if this machine has the memory',
    );
  }
}
