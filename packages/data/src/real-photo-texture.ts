// Texture categories from real photos: each image is a rotated, slightly rescaled and relit crop of one
// photograph (gravel, bricks, stained tissue). Test defects are structural and painted on the crop: a patch
// pasted from another photo, a scratch, a cut, a stain (darker, lighter or tinted) and a locally blurred
// region. Each mask is the set of pixels whose centre lies inside the painted shape.
import type { GrayImage, RgbImage } from './image-types.js';
import { Random } from './prng.js';
import { blobSdf, boxSdf, newMask, newRgb, polylineSdf, squareBox, boxAround, type Sdf } from './raster.js';
import { resizeRgb } from './resize.js';
import { blendPixel, blurredRegion, clampByte, lumaStats, sampleBilinear, visitSdf } from './real-photo-raster.js';
import type { RealPhotoSources, TextureCategorySpec } from './real-photo-types.js';
import type { RenderedImage } from './synthetic-types.js';

export const REAL_TEXTURE_DEFECT_TYPES = ['patch', 'scratch', 'cut', 'stain', 'blur'] as const;
export type RealTextureDefect = (typeof REAL_TEXTURE_DEFECT_TYPES)[number];

const scaledCache = new WeakMap<RgbImage, Map<number, RgbImage>>();

/** The photo shrunk by `factor` (bilinear, antialiased), cached: small outputs then sample it about 1:1. */
function scaledPhoto(photo: RgbImage, factor: number): RgbImage {
  if (factor >= 0.75) return photo;
  let byFactor = scaledCache.get(photo);
  if (!byFactor) scaledCache.set(photo, (byFactor = new Map()));
  const key = Math.round(factor * 1000);
  let img = byFactor.get(key);
  if (!img) {
    img = resizeRgb(photo, Math.max(8, Math.round(photo.width * factor)), Math.max(8, Math.round(photo.height * factor)));
    byFactor.set(key, img);
  }
  return img;
}

function photoOf(sources: RealPhotoSources, name: string): RgbImage {
  const p = sources.photos[name];
  if (!p) throw new Error(`real-photo generator: photo '${name}' is missing from the sources`);
  return p;
}

/**
 * A square crop of `src` of side `side` (photo pixels) centred at (cx, cy), rotated by `angle`, mirrored when
 * `flip`, sampled bilinearly into size x size pixels; `shade(u, v)` (u, v in [-0.5, 0.5]) scales each pixel.
 */
function sampleCrop(src: RgbImage, size: number, cx: number, cy: number, side: number, angle: number, flip: boolean, shade: (u: number, v: number) => [number, number]): RgbImage {
  const img = newRgb(size, size);
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const px = new Float64Array(3);
  const d = img.data;
  for (let y = 0; y < size; y++) {
    const v = (y + 0.5) / size - 0.5;
    for (let x = 0; x < size; x++) {
      let u = (x + 0.5) / size - 0.5;
      const [gain, offset] = shade(u, v);
      if (flip) u = -u;
      sampleBilinear(src.data, src.width, src.height, 3, cx + side * (c * u - s * v), cy + side * (s * u + c * v), px);
      const i = (y * size + x) * 3;
      d[i] = clampByte(px[0] * gain + offset);
      d[i + 1] = clampByte(px[1] * gain + offset);
      d[i + 2] = clampByte(px[2] * gain + offset);
    }
  }
  return img;
}

/** A normal image: a jittered crop of the category's photo. */
export function renderTextureBase(spec: TextureCategorySpec, sources: RealPhotoSources, size: number, rng: Random): RgbImage {
  const photo = photoOf(sources, spec.photo);
  const nominal = spec.cropFraction * Math.min(photo.width, photo.height);
  const factor = Math.min(1, size / nominal);
  const src = scaledPhoto(photo, factor);
  const k = src.width / photo.width;
  const angle = rng.uniform(-spec.maxAngle, spec.maxAngle);
  const side = nominal * k * rng.uniform(0.96, 1.04);
  const flip = spec.flips && rng.next() < 0.5;
  const half = (side / 2) * (Math.abs(Math.cos(angle)) + Math.abs(Math.sin(angle)));
  const centre = (extent: number) => {
    const lo = half + 1;
    const hi = extent - half - 1;
    if (hi <= lo) return extent / 2;
    const mid = (lo + hi) / 2;
    return mid + rng.uniform(-0.5, 0.5) * (hi - lo) * spec.window;
  };
  const cx = centre(src.width);
  const cy = centre(src.height);
  const gain = rng.uniform(0.93, 1.07);
  const offset = rng.uniform(-5, 5);
  const gradient = rng.uniform(0, 0.05);
  const dir = rng.uniform(0, 2 * Math.PI);
  const gx = gradient * Math.cos(dir);
  const gy = gradient * Math.sin(dir);
  return sampleCrop(src, size, cx, cy, side, angle, flip, (u, v) => [gain * (1 + gx * u + gy * v), offset]);
}

/** A gently bent polyline of `n` points from a random start, `length` pixels long. */
function bentLine(rng: Random, size: number, length: number, n: number, bend: number): Array<[number, number]> {
  const x0 = rng.uniform(0.2, 0.8) * size;
  const y0 = rng.uniform(0.2, 0.8) * size;
  let dir = rng.uniform(0, 2 * Math.PI);
  const pts: Array<[number, number]> = [[x0, y0]];
  const step = length / (n - 1);
  for (let i = 1; i < n; i++) {
    dir += rng.uniform(-bend, bend);
    const [px, py] = pts[i - 1];
    pts.push([px + step * Math.cos(dir), py + step * Math.sin(dir)]);
  }
  // Recentre so the line stays in the image.
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  const tx = Math.min(Math.max(mx, 0.22 * size), 0.78 * size) - mx;
  const ty = Math.min(Math.max(my, 0.22 * size), 0.78 * size) - my;
  return pts.map(([x, y]) => [x + tx, y + ty]);
}

function randomBlob(rng: Random, cx: number, cy: number, r: number): Sdf {
  return blobSdf(cx, cy, r, [
    [2, rng.uniform(0.06, 0.16), rng.uniform(0, 6.3)],
    [3, rng.uniform(0.04, 0.12), rng.uniform(0, 6.3)],
    [5, rng.uniform(0.02, 0.06), rng.uniform(0, 6.3)],
  ]);
}

/** Paints one defect on `img` (in place) and returns its 0/255 mask. */
export function paintTextureDefect(img: RgbImage, defect: RealTextureDefect, spec: TextureCategorySpec, sources: RealPhotoSources, rng: Random): GrayImage {
  const size = img.width;
  const k = size / 256;
  const mask = newMask(size, size);
  const W = img.width;
  const H = img.height;
  if (defect === 'scratch') {
    // A thin, slightly bent line, lighter (abrasion) or darker (a groove), semi-transparent.
    const pts = bentLine(rng, size, rng.uniform(0.3, 0.6) * size, 5, 0.25);
    const halfWidth = Math.max(0.55, rng.uniform(0.7, 1.3) * k);
    const light = rng.next() < 0.7;
    const tone = light ? rng.uniform(215, 250) : rng.uniform(10, 40);
    const opacity = rng.uniform(0.6, 0.85);
    visitSdf(W, H, boxAround(pts, halfWidth + 2), polylineSdf(pts, halfWidth), (_x, _y, p, cov) => blendPixel(img, p, tone, tone, tone, cov * opacity), mask);
  } else if (defect === 'cut') {
    // A short straight-ish slit: a dark core with a lit lip along one side.
    const pts = bentLine(rng, size, rng.uniform(0.15, 0.32) * size, 3, 0.12);
    const halfWidth = Math.max(0.9, rng.uniform(1.4, 2.4) * k);
    const [ax, ay] = pts[0];
    const [bx, by] = pts[pts.length - 1];
    const len = Math.hypot(bx - ax, by - ay) || 1;
    const nx = -(by - ay) / len;
    const ny = (bx - ax) / len;
    const lip = pts.map(([x, y]) => [x + nx * (halfWidth + 0.9 * Math.max(1, k)), y + ny * (halfWidth + 0.9 * Math.max(1, k))] as [number, number]);
    const lipWidth = Math.max(0.5, 0.6 * k);
    visitSdf(W, H, boxAround(lip, lipWidth + 2), polylineSdf(lip, lipWidth), (_x, _y, p, cov) => blendPixel(img, p, 235, 232, 225, cov * 0.45), mask);
    visitSdf(W, H, boxAround(pts, halfWidth + 2), polylineSdf(pts, halfWidth), (_x, _y, p, cov, depth) => {
      const core = 8 + 20 * Math.max(0, 1 - depth / halfWidth);
      blendPixel(img, p, core, core * 0.95, core * 0.9, cov * 0.92);
    }, mask);
  } else if (defect === 'stain') {
    // An irregular blotch through which the texture still shows: darker, lighter or tinted.
    const r = rng.uniform(0.05, 0.11) * size;
    const cx = rng.uniform(0.2, 0.8) * size;
    const cy = rng.uniform(0.2, 0.8) * size;
    const sdf = randomBlob(rng, cx, cy, r);
    const style = rng.int(0, 4);
    // [multiplier r, g, b, added]
    const tints: Array<[number, number, number, number]> = [
      [0.5, 0.47, 0.42, 0], // dark (oil, burn)
      [0.85, 0.85, 0.85, 70], // light (bleach, dust)
      [1.12, 0.82, 0.52, 8], // rust
      [0.62, 0.95, 0.6, 4], // green (mould, verdigris)
      [0.62, 0.7, 1.15, 6], // blue ink
    ];
    const [mr, mg, mb, add] = tints[style];
    const strength = rng.uniform(0.75, 1);
    const ramp = 0.3 * r;
    visitSdf(W, H, squareBox(cx, cy, r * 1.45), sdf, (_x, _y, p, cov, depth) => {
      const a = cov * strength * (0.55 + 0.45 * Math.min(1, Math.max(0, depth) / ramp));
      const i = p * 3;
      blendPixel(img, p, img.data[i] * mr + add, img.data[i + 1] * mg + add, img.data[i + 2] * mb + add, a);
    }, mask);
  } else if (defect === 'blur') {
    // A locally defocused (smeared) region.
    const r = rng.uniform(0.07, 0.12) * size;
    const cx = rng.uniform(0.2, 0.8) * size;
    const cy = rng.uniform(0.2, 0.8) * size;
    const sdf = randomBlob(rng, cx, cy, r);
    const box = squareBox(cx, cy, r * 1.45);
    const blurred = blurredRegion(img, box, Math.max(1, Math.round(rng.uniform(3, 4.5) * k)));
    const px = new Float64Array(3);
    visitSdf(W, H, box, sdf, (x, y, p, cov) => {
      blurred(x, y, px);
      blendPixel(img, p, px[0], px[1], px[2], cov);
    }, mask);
  } else {
    // A patch pasted from another photo (a foreign body), either as it is or with the local luma statistics.
    const donorName = rng.pick(spec.donors);
    const donor = photoOf(sources, donorName);
    const r = rng.uniform(0.06, 0.11) * size;
    const cx = rng.uniform(0.2, 0.8) * size;
    const cy = rng.uniform(0.2, 0.8) * size;
    const sdf = rng.next() < 0.5 ? randomBlob(rng, cx, cy, r) : boxSdf(cx, cy, r, r * rng.uniform(0.55, 1), rng.uniform(0, Math.PI), 1.5 * k);
    const box = squareBox(cx, cy, r * 1.5);
    const q = rng.uniform(0.7, 1.3) / k; // donor pixels per output pixel
    const angle = rng.uniform(0, 2 * Math.PI);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const reach = r * 1.5 * q * 1.42 + 2;
    const dcx = donor.width > 2 * reach ? rng.uniform(reach, donor.width - reach) : donor.width / 2;
    const dcy = donor.height > 2 * reach ? rng.uniform(reach, donor.height - reach) : donor.height / 2;
    const matchStats = rng.next() < 0.5;
    const pixels: number[] = [];
    const coverage: number[] = [];
    const samples: number[] = [];
    const px = new Float64Array(3);
    visitSdf(W, H, box, sdf, (x, y, p, cov) => {
      const u = x + 0.5 - cx;
      const v = y + 0.5 - cy;
      sampleBilinear(donor.data, donor.width, donor.height, 3, dcx + q * (c * u - s * v), dcy + q * (s * u + c * v), px);
      pixels.push(p);
      coverage.push(cov);
      samples.push(px[0], px[1], px[2]);
    }, mask);
    if (matchStats) {
      // Keep the donor's structure (its luma) but take the replaced region's mean colour and contrast.
      const target = lumaStats(img, pixels);
      const luma = pixels.map((_, j) => 0.299 * samples[3 * j] + 0.587 * samples[3 * j + 1] + 0.114 * samples[3 * j + 2]);
      const mean = luma.reduce((a, b) => a + b, 0) / Math.max(1, luma.length);
      const std = Math.sqrt(luma.reduce((a, b) => a + (b - mean) * (b - mean), 0) / Math.max(1, luma.length)) || 1;
      const tm = target.mean || 1;
      for (let j = 0; j < pixels.length; j++) {
        const l = target.mean + ((luma[j] - mean) / std) * target.std;
        samples[3 * j] = (l * target.rgbMean[0]) / tm;
        samples[3 * j + 1] = (l * target.rgbMean[1]) / tm;
        samples[3 * j + 2] = (l * target.rgbMean[2]) / tm;
      }
    }
    for (let j = 0; j < pixels.length; j++) blendPixel(img, pixels[j], samples[3 * j], samples[3 * j + 1], samples[3 * j + 2], coverage[j]);
  }
  return mask;
}

/** One image of a texture category: a normal crop, plus `defect` when given. */
export function renderTextureImage(
  spec: TextureCategorySpec,
  sources: RealPhotoSources,
  size: number,
  streams: { base: Random; defect: Random },
  defect: RealTextureDefect | undefined,
): RenderedImage {
  const image = renderTextureBase(spec, sources, size, streams.base);
  if (!defect) return { image, masks: [], defectNames: [] };
  const mask = paintTextureDefect(image, defect, spec, sources, streams.defect);
  return { image, masks: [mask], defectNames: [defect] };
}
