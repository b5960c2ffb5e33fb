// A LOCO-style object category from real photos: six coins cut out of scikit-image's photo of Greek coins
// from Pompeii, laid on a stone surface (a crop of skimage's moon photo) by a fixed rule: three large coins
// in the top row, three small ones in the bottom row, each slot always holding the same coin (any rotation,
// small jitter). Logical anomalies break the rule; structural ones damage a coin. Masks follow MVTec LOCO AD:
// one mask per defect region, holding the defect's pixel value from defects_config.json; a missing coin's
// mask is where it should have been.
import type { GrayImage, RgbImage } from './image-types.js';
import { Random } from './prng.js';
import { blobSdf, newMask, newRgb, polylineSdf, boxAround, squareBox, type Sdf } from './raster.js';
import { blendPixel, clampByte, sampleBilinear, visitSdf } from './real-photo-raster.js';
import { resizeGray, resizeRgb } from './resize.js';
import type { CoinCutout, LocoCategorySpec, RealPhotoSources } from './real-photo-types.js';
import type { DefectConfig, RenderedImage } from './synthetic-types.js';

export const REAL_LOCO_LOGICAL_DEFECTS = ['missing_coin', 'extra_coin', 'swapped_coins', 'misplaced_coin', 'wrong_size'] as const;
export const REAL_LOCO_STRUCTURAL_DEFECTS = ['scratch', 'stain', 'chip'] as const;
export type RealLocoDefect = (typeof REAL_LOCO_LOGICAL_DEFECTS)[number] | (typeof REAL_LOCO_STRUCTURAL_DEFECTS)[number];

/**
 * defects_config.json of the coin category. As in the synthetic LOCO category, logical defects saturate at
 * half their region (their extent is ambiguous: a detector that flags part of where a coin is missing has
 * found it), structural ones at the full region (sPRO = PRO for them).
 */
export const REAL_LOCO_DEFECTS_CONFIG: DefectConfig[] = [
  { defect_name: 'missing_coin', pixel_value: 255, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'extra_coin', pixel_value: 254, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'swapped_coins', pixel_value: 253, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'misplaced_coin', pixel_value: 252, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'wrong_size', pixel_value: 251, saturation_threshold: 0.5, relative_saturation: true },
  { defect_name: 'scratch', pixel_value: 240, saturation_threshold: 1, relative_saturation: true },
  { defect_name: 'stain', pixel_value: 239, saturation_threshold: 1, relative_saturation: true },
  { defect_name: 'chip', pixel_value: 238, saturation_threshold: 1, relative_saturation: true },
];

function pixelValue(defect: RealLocoDefect): number {
  return REAL_LOCO_DEFECTS_CONFIG.find((d) => d.defect_name === defect)!.pixel_value;
}

/** Slot centres and radii as fractions of the image side: large coins on top, small ones below. */
const SLOTS = [
  { x: 0.2, y: 0.28, r: 0.12 },
  { x: 0.5, y: 0.28, r: 0.12 },
  { x: 0.8, y: 0.28, r: 0.12 },
  { x: 0.2, y: 0.74, r: 0.085 },
  { x: 0.5, y: 0.74, r: 0.085 },
  { x: 0.8, y: 0.74, r: 0.085 },
] as const;
/** Free places between the rows, where an extra or misplaced coin lands. */
const FREE_SPOTS = [
  { x: 0.35, y: 0.515 },
  { x: 0.65, y: 0.515 },
] as const;
/** The background: a crop of the moon photo (photo pixels), a stone-like surface. */
const BACKGROUND = { cx: 112, cy: 300, side: 232, jitter: 6 };

/** The coins of each slot: the three largest and the three smallest cut-outs. */
function slotCoins(cutouts: readonly CoinCutout[]): CoinCutout[] {
  if (cutouts.length < 6) throw new Error(`real-photo generator: coins.json has ${cutouts.length} coins, need 6`);
  const byRadius = [...cutouts].sort((a, b) => b.radius - a.radius || a.id - b.id);
  return [...byRadius.slice(0, 3), ...byRadius.slice(-3).reverse()];
}

/** A coin placed in the image: which cut-out, where (pixels), its radius and rotation. */
interface Placement {
  coin: CoinCutout;
  x: number;
  y: number;
  r: number;
  angle: number;
  /** Pixels of the coin erased by a chip (sdf < 0 inside the chip). */
  chip?: Sdf;
}

/** The coin as a layer over its bounding square: gray level (0-1, not premultiplied) and alpha. */
interface CoinLayer {
  x0: number;
  y0: number;
  w: number;
  h: number;
  gray: Float32Array;
  alpha: Float32Array;
}

interface CoinSheet {
  /** gray * alpha / 255 and alpha, interleaved. */
  data: Uint8Array;
  width: number;
  height: number;
  /** sheet pixels per photo pixel */
  scale: number;
}

const sheetCache = new WeakMap<GrayImage, Map<number, CoinSheet>>();

/** The premultiplied coin photo, shrunk (antialiased) when coins are drawn much smaller than in the photo. */
function coinSheet(sources: RealPhotoSources, scale: number): CoinSheet {
  const { gray, alpha } = sources.coins;
  const key = scale >= 0.7 ? 1 : Math.round(scale * 100) / 100;
  let byScale = sheetCache.get(gray);
  if (!byScale) sheetCache.set(gray, (byScale = new Map()));
  let sheet = byScale.get(key);
  if (!sheet) {
    const pm = new Uint8Array(gray.data.length);
    for (let i = 0; i < pm.length; i++) pm[i] = Math.round((gray.data[i] * alpha.data[i]) / 255);
    let g: GrayImage = { width: gray.width, height: gray.height, data: pm };
    let a: GrayImage = alpha;
    if (key < 1) {
      const w = Math.max(8, Math.round(gray.width * key));
      const h = Math.max(8, Math.round(gray.height * key));
      g = resizeGray(g, w, h);
      a = resizeGray(a, w, h);
    }
    const data = new Uint8Array(g.data.length * 2);
    for (let i = 0; i < g.data.length; i++) {
      data[2 * i] = g.data[i];
      data[2 * i + 1] = a.data[i];
    }
    sheet = { data, width: g.width, height: g.height, scale: g.width / gray.width };
    byScale.set(key, sheet);
  }
  return sheet;
}

function coinLayer(sources: RealPhotoSources, p: Placement, size: number): CoinLayer {
  const c = p.coin;
  const s = p.r / c.radius; // image pixels per photo pixel
  const sheet = coinSheet(sources, s);
  const reach = Math.max(Math.hypot(c.x0 - c.cx, c.y0 - c.cy), Math.hypot(c.x1 - c.cx, c.y1 - c.cy), Math.hypot(c.x0 - c.cx, c.y1 - c.cy), Math.hypot(c.x1 - c.cx, c.y0 - c.cy)) * s + 1;
  const x0 = Math.max(0, Math.floor(p.x - reach));
  const y0 = Math.max(0, Math.floor(p.y - reach));
  const x1 = Math.min(size - 1, Math.ceil(p.x + reach));
  const y1 = Math.min(size - 1, Math.ceil(p.y + reach));
  const w = Math.max(0, x1 - x0 + 1);
  const h = Math.max(0, y1 - y0 + 1);
  const gray = new Float32Array(w * h);
  const alpha = new Float32Array(w * h);
  const cos = Math.cos(p.angle);
  const sin = Math.sin(p.angle);
  const px = new Float64Array(2);
  const k = sheet.scale;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = (x0 + x + 0.5 - p.x) / s;
      const v = (y0 + y + 0.5 - p.y) / s;
      // Photo coordinates of this pixel (rotated about the coin's centroid); only this coin's box counts.
      const sx = c.cx + cos * u + sin * v;
      const sy = c.cy - sin * u + cos * v;
      if (sx < c.x0 || sy < c.y0 || sx >= c.x1 || sy >= c.y1) continue;
      sampleBilinear(sheet.data, sheet.width, sheet.height, 2, sx * k, sy * k, px);
      if (px[1] <= 0) continue;
      let a = px[1] / 255;
      if (p.chip) {
        const d = p.chip(x0 + x + 0.5, y0 + y + 0.5);
        if (d < 0.5) a *= 1 - Math.min(1, 0.5 - d);
      }
      gray[y * w + x] = Math.min(1, px[0] / px[1]);
      alpha[y * w + x] = a;
    }
  }
  return { x0, y0, w, h, gray, alpha };
}

/** Writes `value` where the layer is at least half opaque (the coin's footprint). */
function markFootprint(mask: GrayImage, layer: CoinLayer, value: number): void {
  for (let y = 0; y < layer.h; y++) {
    for (let x = 0; x < layer.w; x++) if (layer.alpha[y * layer.w + x] >= 0.5) mask.data[(layer.y0 + y) * mask.width + layer.x0 + x] = value;
  }
}

function alphaAt(layer: CoinLayer, x: number, y: number): number {
  const lx = x - layer.x0;
  const ly = y - layer.y0;
  if (lx < 0 || ly < 0 || lx >= layer.w || ly >= layer.h) return 0;
  return layer.alpha[ly * layer.w + lx];
}

/** Coin colour: the photo's gray levels with a faint warm (silver-bronze) cast. */
const COIN_TINT = [0.96, 0.92, 0.83] as const;

/** A soft contact shadow under a coin, offset down-right. */
function drawShadow(img: RgbImage, p: Placement): void {
  const size = img.width;
  const off = 0.012 * size;
  const soft = 0.025 * size;
  const sx = p.x + off;
  const sy = p.y + off;
  const rr = p.r * 0.96;
  visitSdf(size, size, squareBox(sx, sy, rr + soft + 2), (x, y) => (Math.hypot(x - sx, y - sy) - rr) / soft, (_x, _y, q, cov) => blendPixel(img, q, 0, 0, 0, 0.32 * cov));
}

function drawCoin(img: RgbImage, layer: CoinLayer, gain: number): void {
  const size = img.width;
  for (let y = 0; y < layer.h; y++) {
    for (let x = 0; x < layer.w; x++) {
      const a = layer.alpha[y * layer.w + x];
      if (a <= 0) continue;
      const g = layer.gray[y * layer.w + x] * 255 * gain;
      blendPixel(img, (layer.y0 + y) * size + layer.x0 + x, g * COIN_TINT[0], g * COIN_TINT[1], g * COIN_TINT[2], a);
    }
  }
}

function drawBackground(src: RgbImage, size: number, rng: Random, gain: number): RgbImage {
  const img = newRgb(size, size);
  const k = src.width / 512;
  const cx = (BACKGROUND.cx + rng.uniform(-1, 1) * BACKGROUND.jitter) * k;
  const cy = (BACKGROUND.cy + rng.uniform(-1, 1) * BACKGROUND.jitter) * k;
  const side = BACKGROUND.side * k;
  const px = new Float64Array(3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x + 0.5) / size - 0.5;
      const v = (y + 0.5) / size - 0.5;
      sampleBilinear(src.data, src.width, src.height, 3, cx + side * u, cy + side * v, px);
      // A faint vignette, as under a ring light.
      const shade = gain * (1.06 - 0.22 * (u * u + v * v));
      const i = (y * size + x) * 3;
      img.data[i] = clampByte(px[0] * shade * 1.02);
      img.data[i + 1] = clampByte(px[1] * shade);
      img.data[i + 2] = clampByte(px[2] * shade * 0.97);
    }
  }
  return img;
}

const bgCache = new WeakMap<RgbImage, Map<number, RgbImage>>();

function backgroundSource(sources: RealPhotoSources, spec: LocoCategorySpec, size: number): RgbImage {
  const photo = sources.photos[spec.background];
  if (!photo) throw new Error(`real-photo generator: photo '${spec.background}' is missing from the sources`);
  const factor = size / (BACKGROUND.side * (photo.width / 512));
  if (factor >= 0.75) return photo;
  let m = bgCache.get(photo);
  if (!m) bgCache.set(photo, (m = new Map()));
  const key = Math.round(factor * 1000);
  let img = m.get(key);
  if (!img) m.set(key, (img = resizeRgb(photo, Math.max(8, Math.round(photo.width * factor)), Math.max(8, Math.round(photo.height * factor)))));
  return img;
}

/** One image of the coin category; `defect` breaks the rule or damages a coin. */
export function renderLocoCoinsImage(
  spec: LocoCategorySpec,
  sources: RealPhotoSources,
  size: number,
  streams: { base: Random; defect: Random },
  defect: RealLocoDefect | undefined,
): RenderedImage {
  const rng = streams.base;
  const coins = slotCoins(sources.coins.cutouts);
  const gain = rng.uniform(0.95, 1.05);
  const image = drawBackground(backgroundSource(sources, spec, size), size, rng, gain);
  const j = () => rng.uniform(-0.012, 0.012) * size;
  const placements: Array<Placement | undefined> = SLOTS.map((slot, i) => ({
    coin: coins[i],
    x: slot.x * size + j(),
    y: slot.y * size + j(),
    r: slot.r * size * rng.uniform(0.98, 1.02),
    angle: rng.uniform(0, 2 * Math.PI),
  }));
  const nominal = placements.map((p) => ({ ...p! }));
  const masks: GrayImage[] = [];
  const newDefectMask = () => {
    const m = newMask(size, size);
    masks.push(m);
    return m;
  };
  const d = streams.defect;
  const freeSpot = () => {
    const f = d.pick(FREE_SPOTS);
    return { x: f.x * size + d.uniform(-0.015, 0.015) * size, y: f.y * size + d.uniform(-0.015, 0.015) * size };
  };
  let surface: ((layers: Array<CoinLayer | undefined>) => void) | undefined;

  if (defect === 'missing_coin') {
    const i = d.int(0, SLOTS.length - 1);
    placements[i] = undefined;
    markFootprint(newDefectMask(), coinLayer(sources, nominal[i], size), pixelValue(defect));
  } else if (defect === 'extra_coin') {
    const i = d.int(0, SLOTS.length - 1);
    const spot = freeSpot();
    const extra: Placement = { ...nominal[i], ...spot, angle: d.uniform(0, 2 * Math.PI) };
    placements.push(extra);
    markFootprint(newDefectMask(), coinLayer(sources, extra, size), pixelValue(defect));
  } else if (defect === 'swapped_coins') {
    // A large and a small coin change places (each keeps its size).
    const a = d.int(0, 2);
    const b = d.int(3, 5);
    const pa = placements[a]!;
    const pb = placements[b]!;
    placements[a] = { ...pb, x: pa.x, y: pa.y };
    placements[b] = { ...pa, x: pb.x, y: pb.y };
    for (const i of [a, b]) {
      const m = newDefectMask();
      markFootprint(m, coinLayer(sources, nominal[i], size), pixelValue(defect));
      markFootprint(m, coinLayer(sources, placements[i]!, size), pixelValue(defect));
    }
  } else if (defect === 'misplaced_coin') {
    const i = d.int(0, SLOTS.length - 1);
    placements[i] = { ...nominal[i], ...freeSpot() };
    markFootprint(newDefectMask(), coinLayer(sources, placements[i]!, size), pixelValue(defect));
    markFootprint(newDefectMask(), coinLayer(sources, nominal[i], size), pixelValue(defect));
  } else if (defect === 'wrong_size') {
    const i = d.int(0, SLOTS.length - 1);
    placements[i] = { ...nominal[i], r: nominal[i].r * (d.next() < 0.5 ? d.uniform(0.62, 0.75) : d.uniform(1.25, 1.35)) };
    const m = newDefectMask();
    markFootprint(m, coinLayer(sources, nominal[i], size), pixelValue(defect));
    markFootprint(m, coinLayer(sources, placements[i]!, size), pixelValue(defect));
  } else if (defect === 'chip') {
    // A bite out of the rim: the coin is missing there and the surface shows through.
    const i = d.int(0, SLOTS.length - 1);
    const p = placements[i]!;
    const theta = d.uniform(0, 2 * Math.PI);
    const cr = p.r * d.uniform(0.3, 0.45);
    const cx = p.x + Math.cos(theta) * p.r * 0.95;
    const cy = p.y + Math.sin(theta) * p.r * 0.95;
    const chip = blobSdf(cx, cy, cr, [[3, d.uniform(0.1, 0.25), d.uniform(0, 6.3)], [5, d.uniform(0.05, 0.12), d.uniform(0, 6.3)]]);
    placements[i] = { ...p, chip };
    const whole = coinLayer(sources, p, size);
    const m = newDefectMask();
    visitSdf(size, size, squareBox(cx, cy, cr * 1.5), chip, (x, y, q, _cov, depth) => {
      if (depth > 0 && alphaAt(whole, x, y) >= 0.5) m.data[q] = pixelValue(defect);
    });
  } else if (defect === 'scratch' || defect === 'stain') {
    const i = d.int(0, SLOTS.length - 1);
    const p = placements[i]!;
    const value = pixelValue(defect);
    const m = newDefectMask();
    let sdf: Sdf;
    let box;
    let paint: (q: number, a: number) => void;
    if (defect === 'scratch') {
      const theta = d.uniform(0, Math.PI);
      const off = d.uniform(-0.45, 0.45) * p.r;
      const half = p.r * d.uniform(0.6, 0.95);
      const nx = -Math.sin(theta);
      const ny = Math.cos(theta);
      const bend = d.uniform(-0.12, 0.12) * p.r;
      const pts: Array<[number, number]> = [-1, 0, 1].map((t) => [
        p.x + nx * (off + (t === 0 ? bend : 0)) + Math.cos(theta) * half * t,
        p.y + ny * (off + (t === 0 ? bend : 0)) + Math.sin(theta) * half * t,
      ]);
      const hw = Math.max(0.5, d.uniform(0.6, 1.0) * (size / 256));
      const light = d.next() < 0.75;
      const tone = light ? 250 : 20;
      const opacity = d.uniform(0.65, 0.85);
      sdf = polylineSdf(pts, hw);
      box = boxAround(pts, hw + 2);
      paint = (q, a) => blendPixel(image, q, tone, tone, tone, a * opacity);
    } else {
      const cr = p.r * d.uniform(0.3, 0.5);
      const rho = d.uniform(0, 0.45) * p.r;
      const phi = d.uniform(0, 2 * Math.PI);
      const cx = p.x + Math.cos(phi) * rho;
      const cy = p.y + Math.sin(phi) * rho;
      sdf = blobSdf(cx, cy, cr, [[2, d.uniform(0.05, 0.15), d.uniform(0, 6.3)], [3, d.uniform(0.04, 0.12), d.uniform(0, 6.3)]]);
      box = squareBox(cx, cy, cr * 1.5);
      // verdigris, rust or a dark deposit
      const tints: Array<[number, number, number]> = [[0.55, 0.95, 0.72], [1.1, 0.72, 0.45], [0.45, 0.42, 0.4]];
      const [mr, mg, mb] = d.pick(tints);
      const strength = d.uniform(0.8, 1);
      paint = (q, a) => blendPixel(image, q, image.data[3 * q] * mr, image.data[3 * q + 1] * mg, image.data[3 * q + 2] * mb, a * strength);
    }
    surface = (layers) => {
      const layer = layers[i]!;
      visitSdf(size, size, box, sdf, (x, y, q, cov, depth) => {
        const a = alphaAt(layer, x, y);
        if (a <= 0) return;
        paint(q, cov * a);
        if (depth > 0 && a >= 0.5) m.data[q] = value;
      });
    };
  }

  const layers = placements.map((p) => (p ? coinLayer(sources, p, size) : undefined));
  for (const p of placements) if (p) drawShadow(image, p);
  placements.forEach((p, i) => p && drawCoin(image, layers[i]!, gain));
  surface?.(layers);
  return { image, masks, defectNames: masks.map(() => defect!) };
}
