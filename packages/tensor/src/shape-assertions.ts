import * as tf from '@tensorflow/tfjs-core';

/** An expected shape: a number must match exactly, `null` matches any size. */
export type ExpectedShape = ReadonlyArray<number | null>;

/** Thrown when a tensor does not have the shape, rank or values a function expects. */
export class ShapeError extends Error {
  override readonly name = 'ShapeError';
}

export function describeShape(shape: ReadonlyArray<number | null>): string {
  return `[${shape.map((d) => (d == null ? '?' : String(d))).join(', ')}]`;
}

/** Throws one error naming `what` and both shapes unless `tensor` has `expected` shape. */
export function assertShape(tensor: tf.Tensor, expected: ExpectedShape, what: string): void {
  const actual = tensor.shape;
  const ok = actual.length === expected.length && expected.every((d, i) => d == null || d === actual[i]);
  if (!ok) {
    throw new ShapeError(`${what}: expected shape ${describeShape(expected)}, got ${describeShape(actual)}`);
  }
}

export function assertRank(tensor: tf.Tensor, rank: number, what: string): void {
  if (tensor.rank !== rank) {
    throw new ShapeError(`${what}: expected a rank-${rank} tensor, got shape ${describeShape(tensor.shape)}`);
  }
}

export function assertSameShape(a: tf.Tensor, b: tf.Tensor, whatA: string, whatB: string): void {
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) {
    throw new ShapeError(`${whatA} ${describeShape(a.shape)} and ${whatB} ${describeShape(b.shape)} must have the same shape`);
  }
}

/**
 * Throws if `tensor` holds NaN or +-Infinity. Reads the values back (synchronously), so use it at
 * API boundaries (user input, loaded weights), not inside hot loops.
 */
export function assertFinite(tensor: tf.Tensor, what: string): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(tensor))).dataSync()[0]);
  if (bad) {
    const values = tensor.dataSync();
    let index = 0;
    while (index < values.length && Number.isFinite(values[index])) index++;
    throw new ShapeError(`${what}: expected finite values, found ${values[index]} at flat index ${index} of shape ${describeShape(tensor.shape)}`);
  }
}
