// Pixel helpers of the real-photo generator: bilinear sampling, region painting through signed distance
// functions (the mask is exactly the pixels whose centre lies inside, as in raster.ts) and a local blur.
import type { GrayImage, RgbImage } from './image-types.js';
import { clamp01, type Box, type Sdf } from './raster.js';

export function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/**
 * Bilinear sample of an interleaved 8-bit image with `channels` samples per pixel at continuous coordinates
 * (pixel centres at i + 0.5); edges are clamped. Writes the samples to `out`.
 */
export function sampleBilinear(data: Uint8Array, width: number, height: number, channels: number, x: number, y: number, out: Float64Array): void {
  const fx = x - 0.5;
  const fy = y - 0.5;
  let x0 = Math.floor(fx);
  let y0 = Math.floor(fy);
  const tx = fx - x0;
  const ty = fy - y0;
  let x1 = x0 + 1;
  let y1 = y0 + 1;
  if (x0 < 0) x0 = 0;
  else if (x0 >= width) x0 = width - 1;
  if (x1 < 0) x1 = 0;
  else if (x1 >= width) x1 = width - 1;
  if (y0 < 0) y0 = 0;
  else if (y0 >= height) y0 = height - 1;
  if (y1 < 0) y1 = 0;
  else if (y1 >= height) y1 = height - 1;
  const a = (y0 * width + x0) * channels;
  const b = (y0 * width + x1) * channels;
  const c = (y1 * width + x0) * channels;
  const d = (y1 * width + x1) * channels;
  for (let k = 0; k < channels; k++) {
    const top = data[a + k] + (data[b + k] - data[a + k]) * tx;
    const bottom = data[c + k] + (data[d + k] - data[c + k]) * tx;
    out[k] = top + (bottom - top) * ty;
  }
}

/**
 * Calls `visit` for every pixel of `box` that the shape covers at least partly (sdf < 0.5), with its
 * anti-aliased coverage in (0, 1] and its depth inside the shape (pixels, > 0 inside). Where the pixel centre
 * is inside (sdf < 0) and `mask` is given, writes `maskValue`. Returns the number of inside pixels.
 */
export function visitSdf(
  width: number,
  height: number,
  box: Box,
  sdf: Sdf,
  visit: (x: number, y: number, pixel: number, coverage: number, depth: number) => void,
  mask?: GrayImage,
  maskValue = 255,
): number {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(width - 1, Math.ceil(box.x1));
  const y1 = Math.min(height - 1, Math.ceil(box.y1));
  let inside = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = sdf(x + 0.5, y + 0.5);
      if (d >= 0.5) continue;
      const p = y * width + x;
      visit(x, y, p, clamp01(0.5 - d), -d);
      if (d < 0) {
        inside++;
        if (mask) mask.data[p] = maskValue;
      }
    }
  }
  return inside;
}

/** Blends pixel `p` of `img` towards (r, g, b) by `a`. */
export function blendPixel(img: RgbImage, p: number, r: number, g: number, b: number, a: number): void {
  const i = p * 3;
  const d = img.data;
  d[i] = clampByte(d[i] + (r - d[i]) * a);
  d[i + 1] = clampByte(d[i + 1] + (g - d[i + 1]) * a);
  d[i + 2] = clampByte(d[i + 2] + (b - d[i + 2]) * a);
}

/**
 * A blurred copy of the region `box` (plus what the blur reaches) of `img`: `passes` box blurs of radius
 * `radius` (three passes approximate a Gaussian). Returns a function giving the blurred RGB at a pixel of the box.
 */
export function blurredRegion(img: RgbImage, box: Box, radius: number, passes = 3): (x: number, y: number, out: Float64Array) => void {
  const margin = radius * passes + 1;
  const rx0 = Math.max(0, Math.floor(box.x0) - margin);
  const ry0 = Math.max(0, Math.floor(box.y0) - margin);
  const rx1 = Math.min(img.width - 1, Math.ceil(box.x1) + margin);
  const ry1 = Math.min(img.height - 1, Math.ceil(box.y1) + margin);
  const w = rx1 - rx0 + 1;
  const h = ry1 - ry0 + 1;
  let buf = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((ry0 + y) * img.width + rx0 + x) * 3;
      const t = (y * w + x) * 3;
      buf[t] = img.data[s];
      buf[t + 1] = img.data[s + 1];
      buf[t + 2] = img.data[s + 2];
    }
  }
  let tmp = new Float32Array(buf.length);
  const blur1d = (src: Float32Array, dst: Float32Array, n: number, lines: number, step: number, lineStep: number) => {
    for (let l = 0; l < lines; l++) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = -radius; k <= radius; k++) {
            const j = i + k < 0 ? 0 : i + k >= n ? n - 1 : i + k;
            s += src[l * lineStep + j * step + c];
          }
          dst[l * lineStep + i * step + c] = s / (2 * radius + 1);
        }
      }
    }
  };
  for (let p = 0; p < passes; p++) {
    blur1d(buf, tmp, w, h, 3, w * 3);
    [buf, tmp] = [tmp, buf];
    blur1d(buf, tmp, h, w, w * 3, 3);
    [buf, tmp] = [tmp, buf];
  }
  return (x, y, out) => {
    const t = ((y - ry0) * w + (x - rx0)) * 3;
    out[0] = buf[t];
    out[1] = buf[t + 1];
    out[2] = buf[t + 2];
  };
}

/** Mean and standard deviation of the luma of `img` over the pixels where `inside` holds. */
export function lumaStats(img: RgbImage, pixels: readonly number[]): { mean: number; std: number; rgbMean: [number, number, number] } {
  let s = 0;
  let s2 = 0;
  const rgb: [number, number, number] = [0, 0, 0];
  for (const p of pixels) {
    const i = p * 3;
    const l = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
    s += l;
    s2 += l * l;
    rgb[0] += img.data[i];
    rgb[1] += img.data[i + 1];
    rgb[2] += img.data[i + 2];
  }
  const n = Math.max(1, pixels.length);
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, s2 / n - mean * mean)), rgbMean: [rgb[0] / n, rgb[1] / n, rgb[2] / n] };
}

/** Adds luma noise (uniform, ±amplitude/2) to every pixel, from its own random stream. */
export function addSensorNoise(img: RgbImage, random: () => number, amplitude: number): void {
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    const n = (random() - 0.5) * amplitude;
    d[i] = clampByte(d[i] + n);
    d[i + 1] = clampByte(d[i + 1] + n);
    d[i + 2] = clampByte(d[i + 2] + n);
  }
}
