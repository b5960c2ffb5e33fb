// A small, browser-safe PNG decoder (inflate by fflate). It supports every PNG colour type and bit depth,
// Adam7 interlacing, and checks chunk CRCs so that corrupt or truncated files fail with a clear message.
import { unzlibSync } from 'fflate';
import { crc32 } from './crc32.js';
import { checkImagePixels } from './image-limits.js';

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** PNG colour types from the specification: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
export type PngColorType = 0 | 2 | 3 | 4 | 6;
const PALETTE = 3;

export interface DecodedPng {
  width: number;
  height: number;
  colorType: PngColorType;
  bitDepth: number;
  /** Samples per pixel in `data` (1 gray or palette index, 2 gray+alpha, 3 RGB, 4 RGBA). */
  channels: 1 | 2 | 3 | 4;
  /**
   * 8-bit samples, row-major. 16-bit samples keep their high byte; 1/2/4-bit gray is scaled to 0..255;
   * palette images hold raw indices (see `palette`).
   */
  data: Uint8Array;
  /** RGB triples of the PLTE chunk (palette images only). */
  palette?: Uint8Array;
}

const CHANNELS: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Record<number, number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Decodes a PNG file; `name` is used in every error message. */
export function decodePng(bytes: Uint8Array, name: string, options: { maxPixels?: number } = {}): DecodedPng {
  if (!isPng(bytes)) throw new Error(`${name}: not a PNG file (bad signature)`);
  checkImagePixels(bytes, name, options.maxPixels);
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlace: number } | undefined;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatLength = 0;
  let sawEnd = false;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) {
      throw new Error(`${name}: truncated PNG (incomplete chunk header at byte ${offset} of ${bytes.length})`);
    }
    const length = readU32(bytes, offset);
    const type = String.fromCharCode(bytes[offset + 4], bytes[offset + 5], bytes[offset + 6], bytes[offset + 7]);
    const dataStart = offset + 8;
    const dataEnd = dataStart + length;
    if (dataEnd + 4 > bytes.length) {
      throw new Error(
        `${name}: truncated PNG (chunk ${JSON.stringify(type)} at byte ${offset} needs ${length + 12} bytes, ` +
          `only ${bytes.length - offset} remain)`,
      );
    }
    const storedCrc = readU32(bytes, dataEnd);
    if (crc32(bytes, offset + 4, dataEnd) !== storedCrc) {
      throw new Error(`${name}: corrupt PNG (CRC mismatch in chunk ${JSON.stringify(type)} at byte ${offset})`);
    }
    if (!header && type !== 'IHDR') throw new Error(`${name}: corrupt PNG (first chunk is ${type}, expected IHDR)`);
    if (type === 'IHDR') {
      if (length !== 13) throw new Error(`${name}: corrupt PNG (IHDR has length ${length}, expected 13)`);
      header = {
        width: readU32(bytes, dataStart),
        height: readU32(bytes, dataStart + 4),
        bitDepth: bytes[dataStart + 8],
        colorType: bytes[dataStart + 9],
        interlace: bytes[dataStart + 12],
      };
    } else if (type === 'PLTE') {
      palette = bytes.subarray(dataStart, dataEnd);
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(dataStart, dataEnd));
      idatLength += length;
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    offset = dataEnd + 4;
  }
  if (!header) throw new Error(`${name}: truncated PNG (no IHDR chunk)`);
  if (!sawEnd) throw new Error(`${name}: truncated PNG (file ends before the IEND chunk)`);
  const { width, height, bitDepth, colorType, interlace } = header;
  if (width === 0 || height === 0) throw new Error(`${name}: corrupt PNG (image size ${width}x${height})`);
  const channels = CHANNELS[colorType];
  if (!channels) throw new Error(`${name}: corrupt PNG (unknown colour type ${colorType})`);
  if (!ALLOWED_DEPTHS[colorType].includes(bitDepth)) {
    throw new Error(`${name}: corrupt PNG (bit depth ${bitDepth} is invalid for colour type ${colorType})`);
  }
  if (colorType === PALETTE && !palette) throw new Error(`${name}: corrupt PNG (palette image without PLTE)`);
  if (idatLength === 0) throw new Error(`${name}: corrupt PNG (no image data)`);

  const compressed = new Uint8Array(idatLength);
  let p = 0;
  for (const part of idat) {
    compressed.set(part, p);
    p += part.length;
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(compressed);
  } catch (e) {
    throw new Error(`${name}: corrupt PNG (image data could not be inflated: ${(e as Error).message})`);
  }

  const bitsPerPixel = channels * bitDepth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes =
    interlace === 1
      ? ADAM7.map(([x0, y0, dx, dy]) => ({
          x0,
          y0,
          dx,
          dy,
          w: Math.ceil((width - x0) / dx),
          h: Math.ceil((height - y0) / dy),
        }))
      : [{ x0: 0, y0: 0, dx: 1, dy: 1, w: width, h: height }];
  let expectedBytes = 0;
  for (const pass of passes) {
    if (pass.w > 0 && pass.h > 0) expectedBytes += pass.h * (1 + Math.ceil((pass.w * bitsPerPixel) / 8));
  }
  if (raw.length < expectedBytes) {
    throw new Error(`${name}: truncated PNG (image data is ${raw.length} bytes, expected ${expectedBytes})`);
  }

  const out = new Uint8Array(width * height * channels);
  const isPalette = colorType === PALETTE;
  let rawOffset = 0;
  for (const pass of passes) {
    if (pass.w <= 0 || pass.h <= 0) continue;
    const stride = Math.ceil((pass.w * bitsPerPixel) / 8);
    let prev = new Uint8Array(stride);
    let cur = new Uint8Array(stride);
    for (let y = 0; y < pass.h; y++) {
      const filter = raw[rawOffset];
      const line = raw.subarray(rawOffset + 1, rawOffset + 1 + stride);
      rawOffset += 1 + stride;
      unfilter(filter, line, prev, cur, bpp, name);
      writeRow(cur, out, pass, y, width, channels, bitDepth, isPalette);
      const t = prev;
      prev = cur;
      cur = t;
    }
  }
  return {
    width,
    height,
    colorType: colorType as PngColorType,
    bitDepth,
    channels,
    data: out,
    ...(palette ? { palette } : {}),
  };
}

// Adam7 passes: [x start, y start, x step, y step].
const ADAM7: Array<[number, number, number, number]> = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function unfilter(filter: number, line: Uint8Array, prev: Uint8Array, cur: Uint8Array, bpp: number, name: string): void {
  const n = line.length;
  switch (filter) {
    case 0:
      cur.set(line);
      return;
    case 1:
      for (let i = 0; i < n; i++) cur[i] = (line[i] + (i >= bpp ? cur[i - bpp] : 0)) & 0xff;
      return;
    case 2:
      for (let i = 0; i < n; i++) cur[i] = (line[i] + prev[i]) & 0xff;
      return;
    case 3:
      for (let i = 0; i < n; i++) cur[i] = (line[i] + (((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1)) & 0xff;
      return;
    case 4: {
      // Paeth; for the first pixel a = c = 0 so the predictor is b. pa = |b - c|, pb = |a - c|, pc = |a + b - 2c|.
      const first = Math.min(bpp, n);
      for (let i = 0; i < first; i++) cur[i] = (line[i] + prev[i]) & 0xff;
      for (let i = bpp; i < n; i++) {
        const a = cur[i - bpp];
        const b = prev[i];
        const c = prev[i - bpp];
        const p = b - c;
        const q = a - c;
        const pa = p < 0 ? -p : p;
        const pb = q < 0 ? -q : q;
        const r = p + q;
        const pc = r < 0 ? -r : r;
        cur[i] = (line[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 0xff;
      }
      return;
    }
    default:
      throw new Error(`${name}: corrupt PNG (unknown row filter type ${filter})`);
  }
}

function writeRow(
  row: Uint8Array,
  out: Uint8Array,
  pass: { x0: number; y0: number; dx: number; dy: number; w: number },
  y: number,
  width: number,
  channels: number,
  bitDepth: number,
  isPalette: boolean,
): void {
  const outY = pass.y0 + y * pass.dy;
  if (pass.dx === 1 && bitDepth === 8) {
    out.set(row, outY * width * channels);
    return;
  }
  const samples = pass.w * channels;
  for (let s = 0; s < samples; s++) {
    let v: number;
    if (bitDepth === 8) v = row[s];
    else if (bitDepth === 16) v = row[2 * s]; // keep the high byte, as PIL does when it converts to 8 bits
    else {
      const bitPos = s * bitDepth;
      const raw = (row[bitPos >> 3] >> (8 - bitDepth - (bitPos & 7))) & ((1 << bitDepth) - 1);
      v = isPalette ? raw : Math.round((raw * 255) / ((1 << bitDepth) - 1));
    }
    const px = (s / channels) | 0;
    const c = s - px * channels;
    const outX = pass.x0 + px * pass.dx;
    out[(outY * width + outX) * channels + c] = v;
  }
}
