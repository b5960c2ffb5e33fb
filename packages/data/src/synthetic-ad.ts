// The MVTec-AD-like synthetic object: a woven, textured disc on a dark background. Normal images vary by
// position, rotation, lighting and sensor noise; anomalous ones carry one structural defect whose mask is
// exactly the painted pixels.
import { Random } from './prng.js';
import {
  ValueNoise,
  blobSdf,
  boxAround,
  circleSdf,
  clamp01,
  newMask,
  newRgb,
  paintSdf,
  polylineSdf,
  intersectSdf,
  squareBox,
  type Rgb,
} from './raster.js';
import type { RenderedImage } from './synthetic-types.js';

export const AD_DEFECT_TYPES = ['scratch', 'hole', 'stain', 'crack'] as const;
export type AdDefectType = (typeof AD_DEFECT_TYPES)[number];

/** Per-category material: the texture lattice is shared so every image shows the same fabric. */
export interface AdMaterial {
  noise: ValueNoise;
  base: Rgb;
  weaveFrequency: number;
}

export function makeAdMaterial(rng: Random): AdMaterial {
  return {
    noise: new ValueNoise(64, rng.next),
    base: [rng.uniform(165, 185), rng.uniform(115, 130), rng.uniform(65, 80)],
    weaveFrequency: rng.uniform(15, 18),
  };
}

interface DiscPose {
  cx: number;
  cy: number;
  radius: number;
}

function renderNormalDisc(size: number, material: AdMaterial, rng: Random): { image: ReturnType<typeof newRgb>; pose: DiscPose } {
  const img = newRgb(size, size);
  const cx = size / 2 + rng.uniform(-0.025, 0.025) * size;
  const cy = size / 2 + rng.uniform(-0.025, 0.025) * size;
  const radius = size * 0.4 * rng.uniform(0.98, 1.02);
  const angle = rng.uniform(0, Math.PI * 2);
  const gain = rng.uniform(0.9, 1.08);
  const lightAngle = rng.uniform(0, Math.PI * 2);
  const lx = Math.cos(lightAngle) * 0.12;
  const ly = Math.sin(lightAngle) * 0.12;
  const cosA = Math.cos(angle);
  const sinA = Math.sin(angle);
  const f = material.weaveFrequency;
  const [br, bg, bb] = material.base;
  const data = img.data;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5 - cx;
      const py = y + 0.5 - cy;
      const r = Math.sqrt(px * px + py * py);
      const i = (y * size + x) * 3;
      const sensor = (rng.next() - 0.5) * 6;
      // Background: dark slate with faint vignetting.
      const bgShade = 0.9 + 0.1 * (1 - r / size);
      let R = 38 * bgShade + sensor;
      let G = 42 * bgShade + sensor;
      let B = 50 * bgShade + sensor;
      const coverage = clamp01(radius - r + 0.5);
      if (coverage > 0) {
        // Object coordinates (rotated with the object) in units of the radius.
        const u = (cosA * px + sinA * py) / radius;
        const v = (-sinA * px + cosA * py) / radius;
        const wu = Math.sin(Math.PI * f * u);
        const wv = Math.sin(Math.PI * f * v);
        // Basket weave: alternate which thread is on top per cell; threads are rounded (|sin|).
        const cell = (Math.floor(f * u) + Math.floor(f * v)) & 1;
        const thread = cell ? Math.abs(wu) : Math.abs(wv);
        const fibre = material.noise.at(u * 24 + 40, v * 24 + 40);
        const blotch = material.noise.at(u * 3 + 7, v * 3 + 11);
        let t = 0.62 + 0.22 * thread + 0.12 * (fibre - 0.5) + 0.12 * (blotch - 0.5);
        // Bevelled rim and directional light.
        const rim = clamp01((r - (radius - 7)) / 7);
        t *= 1 - 0.35 * rim * rim;
        t *= gain * (1 + (lx * px + ly * py) / radius);
        const oR = br * t + sensor;
        const oG = bg * t + sensor;
        const oB = bb * t + sensor;
        R += (oR - R) * coverage;
        G += (oG - G) * coverage;
        B += (oB - B) * coverage;
      }
      data[i] = R < 0 ? 0 : R > 255 ? 255 : R;
      data[i + 1] = G < 0 ? 0 : G > 255 ? 255 : G;
      data[i + 2] = B < 0 ? 0 : B > 255 ? 255 : B;
    }
  }
  return { image: img, pose: { cx, cy, radius } };
}

/** A random point inside the disc, away from the rim. */
function pointOnDisc(pose: DiscPose, rng: Random, maxFraction: number): [number, number] {
  const a = rng.uniform(0, Math.PI * 2);
  const d = Math.sqrt(rng.next()) * pose.radius * maxFraction;
  return [pose.cx + Math.cos(a) * d, pose.cy + Math.sin(a) * d];
}

function harmonics(rng: Random, amplitude: number): Array<[number, number, number]> {
  return [2, 3, 5].map((k) => [k, rng.uniform(0, amplitude / Math.sqrt(k)), rng.uniform(0, Math.PI * 2)]);
}

export function renderAdImage(size: number, material: AdMaterial, rng: Random, defect?: AdDefectType): RenderedImage {
  const { image, pose } = renderNormalDisc(size, material, rng);
  if (!defect) return { image, masks: [], defectNames: [] };
  const mask = newMask(size, size);
  const scale = size / 256;
  // Line widths shrink with the image but stay visible (at least about one pixel wide) on small images.
  const lineScale = Math.max(scale, 0.6);
  const onDisc = circleSdf(pose.cx, pose.cy, pose.radius - 2);
  let painted = 0;
  if (defect === 'scratch') {
    const [sx, sy] = pointOnDisc(pose, rng, 0.55);
    const dir = rng.uniform(0, Math.PI * 2);
    const len = pose.radius * rng.uniform(0.35, 0.6);
    const bend = rng.uniform(-0.25, 0.25);
    const points: Array<[number, number]> = [];
    for (let k = 0; k <= 4; k++) {
      const t = k / 4 - 0.5;
      const a = dir + bend * t * 2;
      points.push([sx + Math.cos(a) * len * t, sy + Math.sin(a) * len * t]);
    }
    const sdf = intersectSdf(polylineSdf(points, rng.uniform(0.9, 1.3) * lineScale), onDisc);
    painted = paintSdf(image, boxAround(points, 3), sdf, [232, 222, 205], rng.uniform(0.5, 0.7), mask);
  } else if (defect === 'hole') {
    const [hx, hy] = pointOnDisc(pose, rng, 0.65);
    const r = rng.uniform(5, 9) * scale;
    const sdf = blobSdf(hx, hy, r, harmonics(rng, 0.25));
    painted = paintSdf(
      image,
      squareBox(hx, hy, r * 1.8),
      sdf,
      (_x, _y, depth) => {
        // Darker towards the centre of the hole.
        const k = clamp01(depth / r);
        return [45 - 30 * k, 36 - 25 * k, 32 - 22 * k];
      },
      1,
      mask,
    );
  } else if (defect === 'stain') {
    const [hx, hy] = pointOnDisc(pose, rng, 0.6);
    const r = rng.uniform(9, 16) * scale;
    const tint: Rgb = rng.pick([
      [70, 120, 70],
      [120, 70, 120],
      [60, 80, 130],
    ] as const);
    const sdf = intersectSdf(blobSdf(hx, hy, r, harmonics(rng, 0.35)), onDisc);
    painted = paintSdf(image, squareBox(hx, hy, r * 1.8), sdf, tint, rng.uniform(0.4, 0.55), mask);
  } else {
    // Crack: a jagged random walk with an optional short branch.
    const [sx, sy] = pointOnDisc(pose, rng, 0.5);
    let a = rng.uniform(0, Math.PI * 2);
    const main: Array<[number, number]> = [[sx, sy]];
    const steps = rng.int(7, 11);
    for (let k = 0; k < steps; k++) {
      a += rng.uniform(-0.7, 0.7);
      const step = rng.uniform(5, 8) * scale;
      const [px, py] = main[main.length - 1];
      main.push([px + Math.cos(a) * step, py + Math.sin(a) * step]);
    }
    const paths = [main];
    const from = main[rng.int(2, main.length - 2)];
    const branch: Array<[number, number]> = [from];
    let b = a + rng.sign() * rng.uniform(0.8, 1.4);
    for (let k = 0; k < 3; k++) {
      b += rng.uniform(-0.5, 0.5);
      const [px, py] = branch[branch.length - 1];
      branch.push([px + Math.cos(b) * 5 * scale, py + Math.sin(b) * 5 * scale]);
    }
    paths.push(branch);
    for (const path of paths) {
      const sdf = intersectSdf(polylineSdf(path, rng.uniform(0.7, 1.1) * lineScale), onDisc);
      painted += paintSdf(image, boxAround(path, 3), sdf, [48, 34, 26], 0.9, mask);
    }
  }
  if (painted === 0) throw new Error(`synthetic AD: ${defect} defect covered no pixel (size ${size} too small?)`);
  return { image, masks: [mask], defectNames: [defect] };
}
