// Decoding through the browser's own codecs, for formats beyond PNG/JPEG (WebP, AVIF, ...).
import type { RgbImage } from './image-types.js';

/**
 * Decodes any image the browser can decode (createImageBitmap + OffscreenCanvas) to RGB, dropping alpha.
 * PNG and JPEG also decode synchronously anywhere with decodeImage.
 */
export async function decodeImageInBrowser(blob: Blob): Promise<RgbImage> {
  const g = globalThis as unknown as {
    createImageBitmap?: (b: Blob, o?: object) => Promise<{ width: number; height: number; close(): void }>;
    OffscreenCanvas?: new (w: number, h: number) => {
      getContext(k: '2d'): {
        drawImage(i: unknown, x: number, y: number): void;
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      } | null;
    };
  };
  if (!g.createImageBitmap || !g.OffscreenCanvas) {
    throw new Error('decodeImageInBrowser needs createImageBitmap and OffscreenCanvas (use decodeImage for PNG/JPEG bytes)');
  }
  // Ask for raw pixels: no colour-space conversion or alpha premultiplication that would change values.
  const bitmap = await g.createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const canvas = new g.OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('decodeImageInBrowser: no 2d context on OffscreenCanvas');
    ctx.drawImage(bitmap, 0, 0);
    const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const n = bitmap.width * bitmap.height;
    const out = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      out[3 * i] = rgba[4 * i];
      out[3 * i + 1] = rgba[4 * i + 1];
      out[3 * i + 2] = rgba[4 * i + 2];
    }
    return { width: bitmap.width, height: bitmap.height, data: out };
  } finally {
    bitmap.close();
  }
}
