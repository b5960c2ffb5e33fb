/**
 * Test helpers (import from '@thfr/tensor/testing'): leak checks and closeness checks that name
 * the tensor and the worst element.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `fn` `repeats` times after one warm-up call and throws if the number of live tensors grew.
 * The warm-up lets lazily created caches (e.g. kernels' constant buffers) settle first.
 */
export async function expectNoLeak(fn: () => unknown | Promise<unknown>, repeats = 3, what = 'the call'): Promise<void> {
  await fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`${what} leaked ${after - before} tensors over ${repeats} calls (${before} -> ${after})`);
  }
}

export interface Closeness {
  maxAbs: number;
  maxRel: number;
  worstIndex: number;
}

/** Largest absolute and relative (to max |expected|) differences between two arrays. */
export function closeness(actual: ArrayLike<number>, expected: ArrayLike<number>): Closeness {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0;
  let worstIndex = -1;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) {
      maxAbs = d;
      worstIndex = i;
    }
  }
  return { maxAbs, maxRel: scale > 0 ? maxAbs / scale : maxAbs, worstIndex };
}

/** Throws with the worst element unless max |a - e| / max |e| <= rtol (or maxAbs <= atol). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string, atol = 0): Closeness {
  const c = closeness(actual, expected);
  if (!(c.maxRel <= rtol || c.maxAbs <= atol)) {
    throw new Error(`${what}: relative error ${c.maxRel.toExponential(3)} > ${rtol} (max abs ${c.maxAbs.toExponential(3)} at ${c.worstIndex}: ${actual[c.worstIndex]} vs ${expected[c.worstIndex]})`);
  }
  return c;
}
