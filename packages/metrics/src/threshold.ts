import { MetricInputError } from './errors.js';
import { assertFiniteValues } from './validate.js';

/**
 * How to place a decision threshold from scores of NORMAL validation images only:
 * - quantile: the q-quantile of the normal scores (linear interpolation between order statistics,
 *   NumPy's default `np.quantile` method), e.g. q = 0.99 flags ~1% of normal images;
 * - max: the largest normal score times (1 + margin), i.e. no normal validation image is flagged;
 * - meanStd: mean + k standard deviations (population std) of the normal scores.
 */
export type ThresholdMethod = { method: 'quantile'; q?: number } | { method: 'max'; margin?: number } | { method: 'meanStd'; k?: number };

export function calibrateThreshold(normalScores: ArrayLike<number>, how: ThresholdMethod = { method: 'quantile', q: 0.99 }): number {
  if (normalScores == null || normalScores.length === 0) throw new MetricInputError('calibrateThreshold: expected a non-empty array of normal scores');
  assertFiniteValues(normalScores, 'calibrateThreshold normal scores');
  switch (how.method) {
    case 'quantile': {
      const q = how.q ?? 0.99;
      if (!(q >= 0 && q <= 1)) throw new MetricInputError(`calibrateThreshold: q must be in [0, 1], got ${q}`);
      return quantile(normalScores, q);
    }
    case 'max': {
      let max = -Infinity;
      for (let i = 0; i < normalScores.length; i++) max = Math.max(max, normalScores[i]);
      return max + Math.abs(max) * (how.margin ?? 0);
    }
    case 'meanStd': {
      const n = normalScores.length;
      let mean = 0;
      for (let i = 0; i < n; i++) mean += normalScores[i];
      mean /= n;
      let variance = 0;
      for (let i = 0; i < n; i++) variance += (normalScores[i] - mean) ** 2;
      return mean + (how.k ?? 3) * Math.sqrt(variance / n);
    }
    default:
      throw new MetricInputError(`calibrateThreshold: unknown method ${JSON.stringify((how as { method: unknown }).method)} (expected quantile, max or meanStd)`);
  }
}

/** q-quantile with linear interpolation (NumPy's default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}
