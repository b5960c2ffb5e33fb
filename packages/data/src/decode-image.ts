// Format sniffing and conversion of decoded PNG/JPEG files to the RGB images and gray masks used everywhere.
import type { GrayImage, RgbImage } from './image-types.js';
import { decodePng, isPng, type DecodedPng } from './png-decode.js';
import { decodeJpeg, isJpeg } from './jpeg-decode.js';
import { checkImagePixels } from './image-limits.js';

export interface DecodeOptions {
  /** Refuse images with more pixels than this, from the header (default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
}

function sniffError(bytes: Uint8Array, name: string): Error {
  if (bytes.length === 0) return new Error(`${name}: empty file (expected a PNG or JPEG image)`);
  return new Error(`${name}: not a PNG or JPEG file (unrecognised signature)`);
}

/**
 * Decodes a PNG (any colour type, 1-16 bits, alpha is dropped, 16-bit keeps the high byte) or a JPEG to
 * 8-bit RGB. `name` (usually the file path) appears in every error.
 */
export function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): RgbImage {
  checkImagePixels(bytes, name, options.maxPixels);
  if (isPng(bytes)) return pngToRgb(decodePng(bytes, name));
  if (isJpeg(bytes)) return decodeJpeg(bytes, name);
  throw sniffError(bytes, name);
}

/**
 * Decodes a mask to one byte per pixel holding the raw values (0 = normal): gray (alpha dropped), palette
 * (raw indices), or RGB/RGBA whose colour channels are equal. A mask with distinct colour channels is an error.
 */
export function decodeMask(bytes: Uint8Array, name: string, options: DecodeOptions = {}): GrayImage {
  checkImagePixels(bytes, name, options.maxPixels);
  if (isPng(bytes)) return pngToMask(decodePng(bytes, name), name);
  if (isJpeg(bytes)) return rgbToMask(decodeJpeg(bytes, name), 3, name);
  throw sniffError(bytes, name);
}

function pngToRgb(png: DecodedPng): RgbImage {
  const { width, height, channels, data, palette } = png;
  const n = width * height;
  const out = new Uint8Array(n * 3);
  if (palette) {
    for (let i = 0; i < n; i++) {
      const k = data[i] * 3;
      // Out-of-range indices read as black, as libpng does.
      out[3 * i] = palette[k] ?? 0;
      out[3 * i + 1] = palette[k + 1] ?? 0;
      out[3 * i + 2] = palette[k + 2] ?? 0;
    }
  } else if (channels === 3) {
    out.set(data);
  } else if (channels === 4) {
    for (let i = 0; i < n; i++) {
      out[3 * i] = data[4 * i];
      out[3 * i + 1] = data[4 * i + 1];
      out[3 * i + 2] = data[4 * i + 2];
    }
  } else {
    // Gray (1) or gray+alpha (2): replicate the gray sample.
    for (let i = 0; i < n; i++) {
      const v = data[i * channels];
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  }
  return { width, height, data: out };
}

function pngToMask(png: DecodedPng, name: string): GrayImage {
  const { width, height, channels, data } = png;
  if (channels === 1) return { width, height, data };
  if (channels === 2) {
    const out = new Uint8Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = data[2 * i];
    return { width, height, data: out };
  }
  return rgbToMask({ width, height, data }, channels, name);
}

function rgbToMask(img: { width: number; height: number; data: Uint8Array }, channels: number, name: string): GrayImage {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = img.data[i * channels];
    if (img.data[i * channels + 1] !== r || img.data[i * channels + 2] !== r) {
      throw new Error(
        `${name}: unexpected mask channels (a mask must be single-channel or have equal R, G, B; ` +
          `pixel ${i % img.width},${Math.floor(i / img.width)} is ${r},${img.data[i * channels + 1]},${img.data[i * channels + 2]})`,
      );
    }
    out[i] = r;
  }
  return { width: img.width, height: img.height, data: out };
}
