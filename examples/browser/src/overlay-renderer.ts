// Draws a prediction: the image with its anomaly heatmap blended over it, and the pixels above the
// chosen threshold outlined, so moving the threshold slider redraws without rerunning the model.
import { renderHeatmap } from '@thfr/postprocess';

export interface OverlayInput {
  map: Float32Array;
  size: number;
  /** size x size RGB. */
  image: Uint8Array;
  /** Scores at the two ends of the colormap. */
  range: readonly [number, number];
  threshold: number;
  alpha: number;
}

const OUTLINE: readonly [number, number, number] = [255, 255, 255];

/** RGBA pixels of the overlay; returns how many pixels are above the threshold too. */
export function renderOverlay(input: OverlayInput): { rgba: Uint8ClampedArray; pixelsAbove: number } {
  const { map, size, threshold } = input;
  const rgba = renderHeatmap(map, size, size, { image: { width: size, height: size, data: input.image }, alpha: input.alpha, range: input.range, colormap: 'turbo' });
  let pixelsAbove = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      if (!(map[i] > threshold)) continue;
      pixelsAbove++;
      // An above-threshold pixel with a neighbour at or below it lies on the region's outline.
      const onEdge = x === 0 || y === 0 || x === size - 1 || y === size - 1 ||
        !(map[i - 1] > threshold) || !(map[i + 1] > threshold) || !(map[i - size] > threshold) || !(map[i + size] > threshold);
      if (onEdge) rgba.set(OUTLINE, 4 * i);
    }
  }
  return { rgba, pixelsAbove };
}

/** Smallest and largest value of a map. */
export function mapRange(map: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
