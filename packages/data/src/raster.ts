// Minimal anti-aliased rasterisation for the synthetic generator: shapes are signed distance functions
// (negative inside, in pixels); a pixel's coverage is clamp(0.5 - sdf, 0, 1) and the defect mask is
// exactly the set of pixels whose centre lies inside the shape (sdf < 0). Distances use Math.sqrt rather than
// Math.hypot: much faster in V8, and correctly rounded everywhere.
import type { GrayImage, RgbImage } from './image-types.js';

export type Sdf = (x: number, y: number) => number;
export type Rgb = readonly [number, number, number];
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function newRgb(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

export function newMask(width: number, height: number): GrayImage {
  return { width, height, data: new Uint8Array(width * height) };
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Paints `sdf` over `img` inside `box` with `color` (constant or per pixel) at `opacity`; when `mask` is given,
 * writes `maskValue` where the pixel centre is inside the shape. Returns the number of inside pixels.
 */
export function paintSdf(
  img: RgbImage,
  box: Box,
  sdf: Sdf,
  color: Rgb | ((x: number, y: number, inside: number) => Rgb),
  opacity = 1,
  mask?: GrayImage,
  maskValue = 255,
): number {
  const { width, height, data } = img;
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(width - 1, Math.ceil(box.x1));
  const y1 = Math.min(height - 1, Math.ceil(box.y1));
  let inside = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = sdf(x + 0.5, y + 0.5);
      if (d >= 0.5) continue;
      const coverage = clamp01(0.5 - d);
      const a = coverage * opacity;
      const c = typeof color === 'function' ? color(x + 0.5, y + 0.5, -d) : color;
      const i = (y * width + x) * 3;
      data[i] = clampByte(data[i] + (c[0] - data[i]) * a);
      data[i + 1] = clampByte(data[i + 1] + (c[1] - data[i + 1]) * a);
      data[i + 2] = clampByte(data[i + 2] + (c[2] - data[i + 2]) * a);
      if (d < 0) {
        inside++;
        if (mask) mask.data[y * width + x] = maskValue;
      }
    }
  }
  return inside;
}

/** Writes `maskValue` wherever the pixel centre lies inside `sdf` (no painting): e.g. where a missing part should be. */
export function maskSdf(mask: GrayImage, box: Box, sdf: Sdf, maskValue: number): number {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(mask.width - 1, Math.ceil(box.x1));
  const y1 = Math.min(mask.height - 1, Math.ceil(box.y1));
  let inside = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (sdf(x + 0.5, y + 0.5) < 0) {
        mask.data[y * mask.width + x] = maskValue;
        inside++;
      }
    }
  }
  return inside;
}

export function circleSdf(cx: number, cy: number, r: number): Sdf {
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    return Math.sqrt(dx * dx + dy * dy) - r;
  };
}

/** Rotated rectangle with half sizes hw, hh and corner radius `round`. */
export function boxSdf(cx: number, cy: number, hw: number, hh: number, angle: number, round = 0): Sdf {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const u = Math.abs(c * dx + s * dy) - (hw - round);
    const v = Math.abs(-s * dx + c * dy) - (hh - round);
    const ou = u > 0 ? u : 0;
    const ov = v > 0 ? v : 0;
    const outside = Math.sqrt(ou * ou + ov * ov);
    return outside + Math.min(Math.max(u, v), 0) - round;
  };
}

/** Thick polyline through `points` with half width `halfWidth`. */
export function polylineSdf(points: ReadonlyArray<readonly [number, number]>, halfWidth: number): Sdf {
  return (x, y) => {
    let best = Infinity;
    for (let k = 0; k + 1 < points.length; k++) {
      const [ax, ay] = points[k];
      const [bx, by] = points[k + 1];
      const ex = bx - ax;
      const ey = by - ay;
      const len2 = ex * ex + ey * ey || 1;
      const t = clamp01(((x - ax) * ex + (y - ay) * ey) / len2);
      const qx = x - ax - t * ex;
      const qy = y - ay - t * ey;
      const d = Math.sqrt(qx * qx + qy * qy);
      if (d < best) best = d;
    }
    return best - halfWidth;
  };
}

/** An irregular blob: a circle whose radius wobbles with a few harmonics (amplitudes relative to r). */
export function blobSdf(cx: number, cy: number, r: number, harmonics: ReadonlyArray<readonly [number, number, number]>): Sdf {
  return (x, y) => {
    const dx = x - cx;
    const dy = y - cy;
    const theta = Math.atan2(dy, dx);
    let radius = 1;
    for (const [k, amp, phase] of harmonics) radius += amp * Math.sin(k * theta + phase);
    return Math.sqrt(dx * dx + dy * dy) - r * radius;
  };
}

export function intersectSdf(a: Sdf, b: Sdf): Sdf {
  return (x, y) => Math.max(a(x, y), b(x, y));
}

export function boxAround(points: ReadonlyArray<readonly [number, number]>, margin: number): Box {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x0: x0 - margin, y0: y0 - margin, x1: x1 + margin, y1: y1 + margin };
}

export function squareBox(cx: number, cy: number, half: number): Box {
  return { x0: cx - half, y0: cy - half, x1: cx + half, y1: cy + half };
}

/** Smooth 2D value noise on a periodic lattice (a texture shared by every image of a category). */
export class ValueNoise {
  private readonly values: Float32Array;
  constructor(
    private readonly period: number,
    random: () => number,
  ) {
    this.values = new Float32Array(period * period);
    for (let i = 0; i < this.values.length; i++) this.values[i] = random();
  }
  /** Noise in [0, 1] at lattice coordinates (u, v). */
  at(u: number, v: number): number {
    const p = this.period;
    const fu = Math.floor(u);
    const fv = Math.floor(v);
    let tu = u - fu;
    let tv = v - fv;
    tu = tu * tu * (3 - 2 * tu);
    tv = tv * tv * (3 - 2 * tv);
    const iu = ((fu % p) + p) % p;
    const iv = ((fv % p) + p) % p;
    const ju = (iu + 1) % p;
    const jv = (iv + 1) % p;
    const a = this.values[iv * p + iu];
    const b = this.values[iv * p + ju];
    const c = this.values[jv * p + iu];
    const d = this.values[jv * p + ju];
    return a + (b - a) * tu + (c - a) * tv + (a - b - c + d) * tu * tv;
  }
}
