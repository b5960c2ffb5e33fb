/** Storage: how each level's template values are held (float32 tensors or float16 bits in JS) and copied. */
import { tf, takeRows } from '@thfr/tensor';
import { decodeFloat16 } from './float16.js';
import type { TemplateStorage } from './serialization.js';

/** One payload level of the bank: [N, ...shape] values. */
export interface StoredLevel {
  name: string;
  shape: number[];
  /** float32 storage: [N, H, W, C] tensor owned by the bank. */
  tensor?: tf.Tensor4D;
  /** float16 storage: half bits, row-major [N, H, W, C]. */
  halves?: Uint16Array;
}

export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function checkStorage(storage: unknown): TemplateStorage {
  if (storage !== 'float32' && storage !== 'float16') throw new RangeError(`template bank storage must be 'float32' or 'float16', got '${String(storage)}'`);
  return storage;
}

/** A level from plain data (float32 becomes a kept tensor, float16 stays JS-side). */
export function levelFromData(name: string, shape: number[], size: number, storage: TemplateStorage, data: Float32Array | Uint16Array): StoredLevel {
  if (storage === 'float16') return { name, shape, halves: data as Uint16Array };
  return { name, shape, tensor: tf.keep(tf.tensor4d(data as Float32Array, [size, ...shape] as [number, number, number, number], 'float32')) };
}

/** The values of templates `list` as a new float32 [len, H, W, C] tensor (the caller owns it). */
export function gatherLevel(level: StoredLevel, list: Int32Array): tf.Tensor4D {
  const shape = [list.length, ...level.shape] as [number, number, number, number];
  if (level.halves) {
    const perItem = product(level.shape);
    const out = new Float32Array(list.length * perItem);
    list.forEach((t, i) => decodeFloat16(level.halves!.subarray(t * perItem, (t + 1) * perItem), out.subarray(i * perItem, (i + 1) * perItem)));
    return tf.tensor4d(out, shape, 'float32');
  }
  return takeRows(level.tensor!, list);
}

/** A copy of the level holding templates `list` in that order. */
export function subsetLevel(level: StoredLevel, list: Int32Array): StoredLevel {
  if (level.halves) {
    const perItem = product(level.shape);
    const halves = new Uint16Array(list.length * perItem);
    list.forEach((t, i) => halves.set(level.halves!.subarray(t * perItem, (t + 1) * perItem), i * perItem));
    return { name: level.name, shape: [...level.shape], halves };
  }
  return { name: level.name, shape: [...level.shape], tensor: tf.keep(gatherLevel(level, list)) };
}

/** The level's values read back (asynchronously) as float32 or float16 bits. */
export async function levelData(level: StoredLevel): Promise<Float32Array | Uint16Array> {
  return level.halves ?? ((await level.tensor!.data()) as Float32Array);
}

/** The level's values for all `size` templates as float32 (float16 bits decoded). */
export async function levelValues(level: StoredLevel, size: number): Promise<Float32Array> {
  if (!level.halves) return Float32Array.from((await level.tensor!.data()) as Float32Array);
  return decodeFloat16(level.halves, new Float32Array(size * product(level.shape)));
}

export function levelBytes(level: StoredLevel): number {
  return level.halves ? level.halves.byteLength : level.tensor!.size * 4;
}

export function concatParts<T extends Float32Array | Uint16Array>(parts: Array<Float32Array | Uint16Array>, out: T): T {
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
