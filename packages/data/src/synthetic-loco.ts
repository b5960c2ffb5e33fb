// The MVTec-LOCO-like synthetic scene: a tray whose normal content follows a rule (2 orange circles on the
// left, 3 blue squares on the right, one green bar at the bottom) with small jitter. Logical anomalies break
// the rule; structural anomalies damage a component. Masks follow LOCO: one mask per defect, the defect's
// pixel value from defects_config.json, and a missing part's mask is where it should have been.
import { Random } from './prng.js';
import {
  blobSdf,
  boxSdf,
  circleSdf,
  clamp01,
  intersectSdf,
  maskSdf,
  newMask,
  newRgb,
  paintSdf,
  polylineSdf,
  squareBox,
  boxAround,
  type Box,
  type Rgb,
  type Sdf,
} from './raster.js';
import type { DefectConfig, RenderedImage } from './synthetic-types.js';
import type { GrayImage, RgbImage } from './image-types.js';

export const LOCO_LOGICAL_DEFECTS = [
  'missing_component',
  'extra_component',
  'misplaced_component',
  'wrong_colour',
  'wrong_size',
] as const;
export const LOCO_STRUCTURAL_DEFECTS = ['scratch', 'dent', 'contamination'] as const;
export type LocoDefect = (typeof LOCO_LOGICAL_DEFECTS)[number] | (typeof LOCO_STRUCTURAL_DEFECTS)[number];

/**
 * LOCO's sPRO saturates a defect once the predicted overlap reaches the threshold. Logical defects (whose
 * extent is ambiguous, e.g. where a missing part would be) saturate at half the region; structural ones at
 * the full region, which makes sPRO equal PRO for them, as in the LOCO paper.
 */
export const LOCO_DEFECTS_CONFIG: DefectConfig[] = [
  { defect_name: 'missing_component', pixel_value: 255, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'extra_component', pixel_value: 254, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'misplaced_component', pixel_value: 253, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'wrong_colour', pixel_value: 252, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'wrong_size', pixel_value: 251, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'scratch', pixel_value: 240, saturation_threshold: 1, relative_saturation: true },
  { defect_name: 'dent', pixel_value: 239, saturation_threshold: 1, relative_saturation: true },
  { defect_name: 'contamination', pixel_value: 238, saturation_threshold: 1, relative_saturation: true },
];

function pixelValue(defect: LocoDefect): number {
  return LOCO_DEFECTS_CONFIG.find((d) => d.defect_name === defect)!.pixel_value;
}

const ORANGE: Rgb = [236, 138, 40];
const BLUE: Rgb = [52, 92, 200];
const GREEN: Rgb = [60, 158, 82];

interface Component {
  kind: 'circle' | 'square' | 'bar';
  cx: number;
  cy: number;
  /** circle radius, square half side, bar half length */
  half: number;
  /** bar half height */
  halfHeight: number;
  angle: number;
  color: Rgb;
}

function componentSdf(c: Component): Sdf {
  if (c.kind === 'circle') return circleSdf(c.cx, c.cy, c.half);
  if (c.kind === 'square') return boxSdf(c.cx, c.cy, c.half, c.half, c.angle, c.half * 0.12);
  return boxSdf(c.cx, c.cy, c.half, c.halfHeight, c.angle, c.halfHeight * 0.5);
}

function componentBox(c: Component, margin: number): Box {
  return squareBox(c.cx, c.cy, Math.max(c.half, c.halfHeight) * 1.5 + margin);
}

function jitterColor(color: Rgb, rng: Random): Rgb {
  const k = rng.uniform(0.95, 1.05);
  return [color[0] * k, color[1] * k, color[2] * k];
}

/** The normal layout, jittered. */
function layout(size: number, rng: Random, trayX: number, trayY: number): Component[] {
  const j = () => rng.uniform(-0.012, 0.012) * size;
  const comps: Component[] = [];
  for (const y of [0.3, 0.56]) {
    comps.push({ kind: 'circle', cx: trayX + 0.28 * size + j(), cy: trayY + y * size + j(), half: 0.095 * size, halfHeight: 0, angle: 0, color: jitterColor(ORANGE, rng) });
  }
  for (const y of [0.2, 0.41, 0.62]) {
    comps.push({ kind: 'square', cx: trayX + 0.7 * size + j(), cy: trayY + y * size + j(), half: 0.065 * size, halfHeight: 0, angle: rng.uniform(-0.08, 0.08), color: jitterColor(BLUE, rng) });
  }
  comps.push({ kind: 'bar', cx: trayX + 0.5 * size + j(), cy: trayY + 0.81 * size + j(), half: 0.3 * size, halfHeight: 0.035 * size, angle: rng.uniform(-0.02, 0.02), color: jitterColor(GREEN, rng) });
  return comps;
}

function drawTray(img: RgbImage, rng: Random, trayX: number, trayY: number): void {
  const size = img.width;
  const data = img.data;
  const x0 = trayX + 0.07 * size;
  const y0 = trayY + 0.07 * size;
  const x1 = trayX + 0.93 * size;
  const y1 = trayY + 0.93 * size;
  const divider = trayX + 0.5 * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const i = (y * size + x) * 3;
      const sensor = (rng.next() - 0.5) * 6;
      // Distance inside the tray edge (positive inside), for an anti-aliased border and a raised rim.
      const inside = Math.min(px - x0, x1 - px, py - y0, y1 - py);
      const cover = clamp01(inside + 0.5);
      let shade = 0.93 + 0.07 * (1 - py / size);
      if (inside < 0.025 * size) shade *= 0.82;
      // A faint groove separating the left and right compartments (upper part only).
      if (Math.abs(px - divider) < 0.006 * size && py < trayY + 0.72 * size) shade *= 0.9;
      const trayR = 208 * shade + sensor;
      const trayG = 203 * shade + sensor;
      const trayB = 192 * shade + sensor;
      const bgR = 58 + sensor;
      const bgG = 60 + sensor;
      const bgB = 66 + sensor;
      data[i] = Math.max(0, Math.min(255, bgR + (trayR - bgR) * cover));
      data[i + 1] = Math.max(0, Math.min(255, bgG + (trayG - bgG) * cover));
      data[i + 2] = Math.max(0, Math.min(255, bgB + (trayB - bgB) * cover));
    }
  }
}

function drawComponent(img: RgbImage, c: Component): void {
  const sdf = componentSdf(c);
  const shadowOffset = 0.012 * img.width;
  const shadow: Sdf = (x, y) => sdf(x - shadowOffset, y - shadowOffset) / 2 - 0.5;
  paintSdf(img, componentBox(c, shadowOffset + 4), shadow, [40, 40, 40], 0.25);
  const extent = Math.max(c.half, c.halfHeight);
  paintSdf(img, componentBox(c, 2), sdf, (x, y, depth) => {
    // Soft highlight towards the upper left and a darker edge, so components look like solid pieces.
    const hl = 1 + 0.12 * (-(x - c.cx) - (y - c.cy)) / (extent * 1.4);
    const edge = 0.82 + 0.18 * clamp01(depth / 3);
    const k = hl * edge;
    return [c.color[0] * k, c.color[1] * k, c.color[2] * k];
  });
}

function freeSpot(size: number, rng: Random, trayX: number, trayY: number): [number, number] {
  // The empty middle column between the circles and the squares, above the bar.
  return [trayX + 0.49 * size + rng.uniform(-0.02, 0.02) * size, trayY + rng.uniform(0.22, 0.6) * size];
}

export function renderLocoImage(size: number, rng: Random, defect?: LocoDefect): RenderedImage {
  const img = newRgb(size, size);
  const trayX = rng.uniform(-0.01, 0.01) * size;
  const trayY = rng.uniform(-0.01, 0.01) * size;
  drawTray(img, rng, trayX, trayY);
  const comps = layout(size, rng, trayX, trayY);
  const masks: GrayImage[] = [];
  const names: string[] = [];
  const addMask = (): GrayImage => {
    const m = newMask(size, size);
    masks.push(m);
    names.push(defect!);
    return m;
  };
  const value = defect ? pixelValue(defect) : 0;
  const toDraw = comps.slice();
  const post: Array<() => void> = [];

  if (defect === 'missing_component') {
    const idx = rng.int(0, comps.length - 1);
    const gone = comps[idx];
    toDraw.splice(idx, 1);
    post.push(() => maskSdf(addMask(), componentBox(gone, 2), componentSdf(gone), value));
  } else if (defect === 'extra_component') {
    const [ex, ey] = freeSpot(size, rng, trayX, trayY);
    const template = rng.next() < 0.5 ? comps[0] : comps[2];
    const extra: Component = { ...template, cx: ex, cy: ey, color: jitterColor(template.kind === 'circle' ? ORANGE : BLUE, rng) };
    toDraw.push(extra);
    post.push(() => maskSdf(addMask(), componentBox(extra, 2), componentSdf(extra), value));
  } else if (defect === 'misplaced_component') {
    const idx = rng.int(0, 4);
    const original = comps[idx];
    const [mx, my] = freeSpot(size, rng, trayX, trayY);
    const moved: Component = { ...original, cx: mx, cy: my };
    toDraw[idx] = moved;
    // Two regions, as in LOCO: where the part is and where it should be.
    post.push(() => maskSdf(addMask(), componentBox(moved, 2), componentSdf(moved), value));
    post.push(() => maskSdf(addMask(), componentBox(original, 2), componentSdf(original), value));
  } else if (defect === 'wrong_colour') {
    const idx = rng.int(0, 4);
    const c = comps[idx];
    toDraw[idx] = { ...c, color: jitterColor(c.kind === 'circle' ? BLUE : ORANGE, rng) };
    post.push(() => maskSdf(addMask(), componentBox(c, 2), componentSdf(c), value));
  } else if (defect === 'wrong_size') {
    const bar = comps[5];
    const shortHalf = bar.half * rng.uniform(0.45, 0.6);
    toDraw[5] = { ...bar, half: shortHalf, cx: bar.cx - rng.sign() * (bar.half - shortHalf) };
    // The mask covers where the full-length bar should be.
    post.push(() => maskSdf(addMask(), componentBox(bar, 2), componentSdf(bar), value));
  }
  for (const c of toDraw) drawComponent(img, c);
  for (const p of post) p();

  if (defect === 'scratch' || defect === 'dent') {
    const target = toDraw[rng.int(0, toDraw.length - 1)];
    const inside = componentSdf(target);
    const reach = Math.min(Math.max(target.half, target.halfHeight), 0.1 * size);
    if (defect === 'scratch') {
      const a = rng.uniform(0, Math.PI * 2);
      const len = reach * rng.uniform(1.2, 1.8);
      const ox = target.cx + rng.uniform(-0.3, 0.3) * reach;
      const oy = target.cy + rng.uniform(-0.3, 0.3) * (target.kind === 'bar' ? target.halfHeight : reach);
      const pts: Array<[number, number]> = [
        [ox - Math.cos(a) * len / 2, oy - Math.sin(a) * len / 2],
        [ox + Math.cos(a + 0.15) * len / 2, oy + Math.sin(a + 0.15) * len / 2],
      ];
      const sdf = intersectSdf(polylineSdf(pts, Math.max(0.9, 0.005 * size)), (x, y) => inside(x, y) + 1.5);
      paintSdf(img, boxAround(pts, 3), sdf, [245, 242, 235], 0.85, addMask(), value);
    } else {
      // A dent: a dark, irregular bite pressed into the component's edge.
      const a = rng.uniform(0, Math.PI * 2);
      const edgeX = target.cx + Math.cos(a) * (target.kind === 'bar' ? target.half * 0.6 : target.half * 0.75);
      const edgeY = target.cy + Math.sin(a) * (target.kind === 'bar' ? target.halfHeight * 0.6 : target.half * 0.75);
      const r = reach * rng.uniform(0.35, 0.5);
      const sdf = intersectSdf(blobSdf(edgeX, edgeY, r, [[2, 0.2, rng.uniform(0, 6)], [3, 0.15, rng.uniform(0, 6)]]), inside);
      paintSdf(img, squareBox(edgeX, edgeY, r * 1.6), sdf, (_x, _y, depth) => {
        const k = 0.45 + 0.2 * clamp01(1 - depth / r);
        return [target.color[0] * k, target.color[1] * k, target.color[2] * k];
      }, 1, addMask(), value);
    }
  } else if (defect === 'contamination') {
    // A brownish smudge on the tray or across a component.
    const onComponent = rng.next() < 0.5;
    const c = toDraw[rng.int(0, toDraw.length - 1)];
    const [px, py] = onComponent ? [c.cx, c.cy] : freeSpot(size, rng, trayX, trayY);
    const r = size * rng.uniform(0.03, 0.045);
    const sdf = blobSdf(px, py, r, [[2, 0.25, rng.uniform(0, 6)], [3, 0.2, rng.uniform(0, 6)], [5, 0.1, rng.uniform(0, 6)]]);
    paintSdf(img, squareBox(px, py, r * 1.8), sdf, [110, 82, 50], rng.uniform(0.75, 0.9), addMask(), value);
  }
  for (const m of masks) {
    if (!m.data.some((v) => v !== 0)) throw new Error(`synthetic LOCO: ${defect} mask is empty (size ${size} too small?)`);
  }
  return { image: img, masks, defectNames: names };
}
