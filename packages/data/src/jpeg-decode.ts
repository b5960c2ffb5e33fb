// JPEG decoding through jpeg-js (pure JS, browser-safe when called with useTArray).
import jpeg from 'jpeg-js';
import type { RgbImage } from './image-types.js';

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Index of the first start-of-scan marker (FF DA), or -1. */
function firstStartOfScan(bytes: Uint8Array): number {
  for (let i = 2; i + 1 < bytes.length; i++) if (bytes[i] === 0xff && bytes[i + 1] === 0xda) return i;
  return -1;
}

/** True when an end-of-image marker (FF D9) follows the first scan: jpeg-js silently decodes truncated files. */
function hasEndOfImage(bytes: Uint8Array, sos: number): boolean {
  for (let i = bytes.length - 2; i > sos; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}

export function decodeJpeg(bytes: Uint8Array, name: string): RgbImage {
  const sos = firstStartOfScan(bytes);
  if (sos < 0) throw new Error(`${name}: truncated JPEG (no start-of-scan marker)`);
  if (!hasEndOfImage(bytes, sos)) throw new Error(`${name}: truncated JPEG (no end-of-image marker)`);
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new Error(`${name}: corrupt JPEG (${(e as Error).message})`);
  }
  const { width, height, data } = decoded;
  if (data.length !== width * height * 3) {
    throw new Error(`${name}: unexpected JPEG channels (${data.length} bytes for ${width}x${height}, expected RGB)`);
  }
  return { width, height, data: data instanceof Uint8Array && data.constructor === Uint8Array ? data : new Uint8Array(data) };
}
