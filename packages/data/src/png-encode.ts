// A browser-safe PNG encoder (deflate by fflate): 8-bit gray, RGB or RGBA, Paeth-filtered rows.
import { zlibSync } from 'fflate';
import { crc32 } from './crc32.js';
import { PNG_SIGNATURE } from './png-decode.js';
import type { ChannelImage, GrayImage, RgbImage } from './image-types.js';

export interface EncodePngOptions {
  /** Deflate level 0-9 (default 6). Lower is faster; 1 is a good choice for bulk writes. */
  level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

const COLOR_TYPE_OF_CHANNELS: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

/**
 * Encodes an 8-bit image as PNG. Without an explicit `channels`, the channel count is inferred from the
 * data length (1 for a GrayImage, 3 for an RgbImage).
 */
export function encodePng(img: RgbImage | GrayImage | ChannelImage, options: EncodePngOptions = {}): Uint8Array {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`encodePng: width and height must be positive integers, got ${width}x${height}`);
  }
  const channels = 'channels' in img && img.channels !== undefined ? img.channels : data.length / (width * height);
  const colorType = COLOR_TYPE_OF_CHANNELS[channels];
  if (colorType === undefined) {
    throw new Error(
      `encodePng: expected 1, 3 or 4 channels, got ${data.length} bytes for ${width}x${height} (${channels} per pixel)`,
    );
  }
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: expected ${width * height * channels} bytes for ${width}x${height}x${channels}, got ${data.length}`);
  }
  const stride = width * channels;
  const filtered = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const rowStart = y * stride;
    const o = y * (stride + 1) + 1;
    filtered[o - 1] = 4; // Paeth
    if (y === 0) {
      // No previous row: Paeth reduces to Sub.
      for (let i = 0; i < stride; i++) filtered[o + i] = (data[i] - (i >= channels ? data[i - channels] : 0)) & 0xff;
      continue;
    }
    const up = rowStart - stride;
    for (let i = 0; i < channels; i++) filtered[o + i] = (data[rowStart + i] - data[up + i]) & 0xff;
    for (let i = channels; i < stride; i++) {
      const a = data[rowStart + i - channels];
      const b = data[up + i];
      const c = data[up + i - channels];
      const p = b - c;
      const q = a - c;
      const pa = p < 0 ? -p : p;
      const pb = q < 0 ? -q : q;
      const r = p + q;
      const pc = r < 0 ? -r : r;
      filtered[o + i] = (data[rowStart + i] - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
    }
  }
  const compressed = zlibSync(filtered, { level: options.level ?? 6 });

  const ihdr = new Uint8Array(13);
  writeU32(ihdr, 0, width);
  writeU32(ihdr, 4, height);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  const chunks: Array<[string, Uint8Array]> = [
    ['IHDR', ihdr],
    ['IDAT', compressed],
    ['IEND', new Uint8Array(0)],
  ];
  const total = 8 + chunks.reduce((s, [, d]) => s + 12 + d.length, 0);
  const out = new Uint8Array(total);
  out.set(PNG_SIGNATURE, 0);
  let p = 8;
  for (const [type, chunk] of chunks) {
    writeU32(out, p, chunk.length);
    for (let i = 0; i < 4; i++) out[p + 4 + i] = type.charCodeAt(i);
    out.set(chunk, p + 8);
    writeU32(out, p + 8 + chunk.length, crc32(out, p + 4, p + 8 + chunk.length));
    p += 12 + chunk.length;
  }
  return out;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
