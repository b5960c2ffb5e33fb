import { MetricInputError } from './errors.js';

/** The size every anomaly map and mask of one evaluation shares. */
export interface MapSize {
  width: number;
  height: number;
}

export function assertMapSize(size: MapSize, what: string): number {
  const { width, height } = size ?? ({} as MapSize);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new MetricInputError(`${what}: width and height must be positive integers, got ${width} x ${height}`);
  }
  return width * height;
}

/**
 * Checks that `maps` is a non-empty list of Float32Arrays of `width*height` values. Finiteness is
 * checked later, in the one pass that reads every score (see sortable-key.ts).
 */
export function assertMaps(maps: ReadonlyArray<Float32Array>, size: MapSize, what = 'anomaly maps'): number {
  const pixels = assertMapSize(size, what);
  if (!isList(maps) || maps.length === 0) throw new MetricInputError(`${what}: expected a non-empty array of Float32Array, got ${describe(maps)}`);
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    if (!(map instanceof Float32Array)) throw new MetricInputError(`${what}[${i}]: expected a Float32Array, got ${describe(map)}`);
    if (map.length !== pixels) {
      throw new MetricInputError(`${what}[${i}]: expected ${pixels} values (${size.width} x ${size.height}), got ${map.length}`);
    }
  }
  return pixels;
}

/**
 * Checks masks: one per map, each a Uint8Array of `width*height` values, or null for an image that
 * has no ground truth (a good image: every pixel normal).
 */
export function assertMasks(masks: ReadonlyArray<Uint8Array | null>, count: number, size: MapSize, what = 'masks'): void {
  const pixels = size.width * size.height;
  if (!isList(masks)) throw new MetricInputError(`${what}: expected an array of Uint8Array | null, got ${describe(masks)}`);
  if (masks.length !== count) throw new MetricInputError(`${what}: expected ${count} masks (one per anomaly map), got ${masks.length}`);
  for (let i = 0; i < masks.length; i++) {
    const mask = masks[i];
    if (mask === null) continue;
    if (!(mask instanceof Uint8Array)) throw new MetricInputError(`${what}[${i}]: expected a Uint8Array or null, got ${describe(mask)}`);
    if (mask.length !== pixels) throw new MetricInputError(`${what}[${i}]: expected ${pixels} values (${size.width} x ${size.height}), got ${mask.length}`);
  }
}

/** Throws naming the first NaN or infinite value. */
export function assertFiniteValues(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new MetricInputError(`${what}: expected finite scores, found ${v} at index ${i}`);
  }
}

/** Image-level scores and binary labels (0/false = normal, 1/true = anomalous). */
export function assertScoresAndLabels(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, what: string): void {
  if (scores == null || typeof scores.length !== 'number' || scores.length === 0) throw new MetricInputError(`${what}: expected a non-empty array of scores, got ${describe(scores)}`);
  if (labels == null || labels.length !== scores.length) {
    throw new MetricInputError(`${what}: expected ${scores.length} labels (one per score), got ${labels == null ? describe(labels) : labels.length}`);
  }
  assertFiniteValues(scores, `${what} scores`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!(l === 0 || l === 1 || l === true || l === false)) throw new MetricInputError(`${what}: labels must be 0/1 or booleans, found ${String(l)} at index ${i}`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const ctor = (value as object).constructor?.name;
  return ctor ? `a ${ctor}` : typeof value;
}

/** Array.isArray without its narrowing (which turns readonly typed arrays into any[]). */
export function isList(value: unknown): boolean {
  return Array.isArray(value);
}
