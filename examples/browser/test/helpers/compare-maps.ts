/** Largest absolute difference between two maps, and that difference as a fraction of the reference's range. */
export function compareMaps(actual: Float32Array, expected: Float32Array): { maxAbs: number; range: number; relativeToRange: number } {
  if (actual.length !== expected.length) throw new Error(`compareMaps: ${actual.length} values vs ${expected.length} expected`);
  let maxAbs = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    // A NaN must fail the comparison, not vanish in a max.
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    lo = Math.min(lo, expected[i]);
    hi = Math.max(hi, expected[i]);
  }
  const range = hi - lo;
  return { maxAbs, range, relativeToRange: range > 0 ? maxAbs / range : maxAbs };
}
