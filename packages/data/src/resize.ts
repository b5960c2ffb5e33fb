// Image resizing that reproduces Pillow's Image.resize exactly (BILINEAR with its antialiasing support
// and 22-bit fixed-point arithmetic; NEAREST with its accumulated sampling positions), so that images
// fed to the model match a Python pipeline pixel for pixel.
import { assertImageSize, type GrayImage, type RgbImage } from './image-types.js';

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** First input index of each output sample's window. */
  start: Int32Array;
  /** Window length of each output sample. */
  size: Int32Array;
  /** Fixed-point weights, `maxSize` per output sample. */
  weights: Int32Array;
  maxSize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the triangle (bilinear) filter. */
function bilinearCoefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter has support 1
  const maxSize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Int32Array(outSize * maxSize);
  const tmp = new Float64Array(maxSize);
  const inv = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * inv);
      const w = t < 1 ? 1 - t : 0;
      tmp[x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = total !== 0 ? tmp[x] / total : 0;
      weights[xx * maxSize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    start[xx] = xmin;
    size[xx] = xmax;
  }
  return { start, size, weights, maxSize };
}

function clip8(v: number): number {
  const r = v >> PRECISION_BITS;
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

function resampleHorizontal(src: Uint8Array, w: number, h: number, ch: number, outW: number): Uint8Array {
  const c = bilinearCoefficients(w, outW);
  const out = new Uint8Array(outW * h * ch);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < h; y++) {
    const row = y * w * ch;
    for (let x = 0; x < outW; x++) {
      const s = c.start[x];
      const n = c.size[x];
      const k0 = x * c.maxSize;
      for (let b = 0; b < ch; b++) {
        let acc = half;
        for (let i = 0; i < n; i++) acc += src[row + (s + i) * ch + b] * c.weights[k0 + i];
        out[(y * outW + x) * ch + b] = clip8(acc);
      }
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, w: number, h: number, ch: number, outH: number): Uint8Array {
  const c = bilinearCoefficients(h, outH);
  const stride = w * ch;
  const out = new Uint8Array(outH * stride);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    const s = c.start[y];
    const n = c.size[y];
    const k0 = y * c.maxSize;
    for (let j = 0; j < stride; j++) {
      let acc = half;
      for (let i = 0; i < n; i++) acc += src[(s + i) * stride + j] * c.weights[k0 + i];
      out[y * stride + j] = clip8(acc);
    }
  }
  return out;
}

function resizeBilinear(data: Uint8Array, w: number, h: number, ch: number, outW: number, outH: number): Uint8Array {
  // Like Pillow: horizontal pass first, each pass skipped when that dimension is unchanged.
  let out = data;
  if (outW !== w) out = resampleHorizontal(out, w, h, ch, outW);
  if (outH !== h) out = resampleVertical(out, outW, h, ch, outH);
  return out === data ? data.slice() : out;
}

function checkTarget(what: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${what}: target size must be positive integers, got ${width}x${height}`);
  }
}

/** Bilinear resize, antialiased when shrinking (identical to Pillow's `Image.resize(size, Image.BILINEAR)`). */
export function resizeRgb(img: RgbImage, width: number, height: number): RgbImage {
  assertImageSize('resizeRgb', img, 3);
  checkTarget('resizeRgb', width, height);
  return { width, height, data: resizeBilinear(img.data, img.width, img.height, 3, width, height) };
}

/** Bilinear resize of a single-channel image (Pillow BILINEAR on mode "L"). */
export function resizeGray(img: GrayImage, width: number, height: number): GrayImage {
  assertImageSize('resizeGray', img, 1);
  checkTarget('resizeGray', width, height);
  return { width, height, data: resizeBilinear(img.data, img.width, img.height, 1, width, height) };
}

/** Nearest-neighbour resize that keeps raw mask values (identical to Pillow's `Image.resize(size, Image.NEAREST)`). */
export function resizeMask(mask: GrayImage, width: number, height: number): GrayImage {
  assertImageSize('resizeMask', mask, 1);
  checkTarget('resizeMask', width, height);
  const sx = mask.width / width;
  const sy = mask.height / height;
  // Pillow's affine nearest sampler accumulates the step in floating point; do the same so the picks agree.
  const xs = new Int32Array(width);
  let xx = sx * 0.5;
  for (let x = 0; x < width; x++) {
    xs[x] = Math.min(Math.floor(xx), mask.width - 1);
    xx += sx;
  }
  const out = new Uint8Array(width * height);
  let yy = sy * 0.5;
  for (let y = 0; y < height; y++) {
    const row = Math.min(Math.floor(yy), mask.height - 1) * mask.width;
    yy += sy;
    for (let x = 0; x < width; x++) out[y * width + x] = mask.data[row + xs[x]];
  }
  return { width, height, data: out };
}
