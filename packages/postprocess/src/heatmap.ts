import { colormapTable, type ColormapName } from './colormaps.js';

/** An RGB image: width*height*3 bytes, row-major (e.g. a decoded PNG/JPEG without alpha). */
export interface RgbImageLike {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface HeatmapOptions {
  /** Image to blend the heatmap over (same width and height). */
  image?: RgbImageLike;
  /** Heatmap opacity over the image, in [0, 1]. Default 0.5. */
  alpha?: number;
  /** Scores mapped to the two ends of the colormap (clamped outside). Default: the map's min and max. */
  range?: readonly [number, number];
  colormap?: ColormapName;
}

/**
 * Colours an anomaly map (row-major Float32Array of width*height scores) and optionally blends it
 * over an RGB image. Returns RGBA bytes (width*height*4, alpha 255): `new ImageData(rgba, width,
 * height)` in a browser, or a PNG encoder in Node. No tensors involved.
 */
export function renderHeatmap(map: Float32Array | ArrayLike<number>, width: number, height: number, options: HeatmapOptions = {}): Uint8ClampedArray {
  const { image, alpha = 0.5, colormap = 'turbo' } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) throw new Error(`renderHeatmap: width and height must be positive integers, got ${width} x ${height}`);
  const pixels = width * height;
  if (map == null || map.length !== pixels) throw new Error(`renderHeatmap: map must hold width*height = ${pixels} values, got ${map?.length}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`renderHeatmap: alpha must be in [0, 1], got ${alpha}`);
  if (image && (image.width !== width || image.height !== height || image.data.length !== pixels * 3)) {
    throw new Error(`renderHeatmap: image must be ${width} x ${height} RGB (${pixels * 3} bytes), got ${image.width} x ${image.height} with ${image.data.length} bytes`);
  }
  let [lo, hi] = options.range ?? [Infinity, -Infinity];
  if (!options.range) {
    for (let i = 0; i < pixels; i++) {
      if (map[i] < lo) lo = map[i];
      if (map[i] > hi) hi = map[i];
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`renderHeatmap: range must be finite, got [${lo}, ${hi}] (NaN or infinite scores in the map?)`);
  const table = colormapTable(colormap);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8ClampedArray(pixels * 4);
  const heatWeight = image ? alpha : 1;
  for (let i = 0; i < pixels; i++) {
    const v = map[i];
    const index = v !== v ? 0 : Math.min(255, Math.max(0, Math.round((v - lo) * scale))); // NaN -> lowest colour
    for (let c = 0; c < 3; c++) {
      const heat = table[3 * index + c];
      out[4 * i + c] = image ? heatWeight * heat + (1 - heatWeight) * image.data[3 * i + c] : heat;
    }
    out[4 * i + 3] = 255;
  }
  return out;
}
