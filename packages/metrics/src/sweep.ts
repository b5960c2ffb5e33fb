// Sweeps over two ascending sorted score lists (positives and negatives), visiting each distinct
// score once from the highest to the lowest: the exact ROC / PR sweep with tied scores grouped,
// as scikit-learn's roc_curve and precision_recall_curve do.
import { ID_SPACE } from './sortable-key.js';
import { trapezoidArea } from './trapezoid.js';

/** One step of the sweep: everything with score >= `value` is predicted positive. */
export interface SweepStep {
  /** The score (a sortable key or a plain number, as the lists hold). */
  value: number;
  /** Positives / negatives with score >= value. */
  tp: number;
  fp: number;
}

/** Calls `visit` once per distinct score, in descending order, with cumulative counts. */
export function sweepDescending(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  visit: (step: SweepStep) => boolean | void,
): void {
  let ip = positives.length - 1;
  let ineg = negatives.length - 1;
  const step: SweepStep = { value: 0, tp: 0, fp: 0 };
  while (ip >= 0 || ineg >= 0) {
    const p = ip >= 0 ? positives[ip] : -Infinity;
    const n = ineg >= 0 ? negatives[ineg] : -Infinity;
    const value = p >= n ? p : n;
    while (ip >= 0 && positives[ip] === value) {
      step.tp++;
      ip--;
    }
    while (ineg >= 0 && negatives[ineg] === value) {
      step.fp++;
      ineg--;
    }
    step.value = value;
    if (visit(step) === false) return;
  }
}

/**
 * The per-region overlap curve that PRO and sPRO integrate. `positives` hold composite keys
 * (score key * ID_SPACE + region id) and `negatives` plain score keys, both sorted ascending in place
 * here. The sweep visits each distinct score from the top; every positive pixel of region `id` adds
 * `gainOf(id)` to the summed overlap, which is divided by `regions` (and capped at 1). It stops at the
 * first point past maxFpr and returns the curve and its trapezoid area up to maxFpr, divided by maxFpr.
 */
export function overlapCurve(
  positives: Float64Array,
  negatives: Uint32Array,
  regions: number,
  gainOf: (id: number) => number,
  maxFpr: number,
): { fpr: Float64Array; overlap: Float64Array; normalizedArea: number } {
  positives.sort();
  negatives.sort();
  const nNeg = negatives.length;
  const fpr: number[] = [0];
  const overlap: number[] = [0];
  let ip = positives.length - 1;
  let ineg = nNeg - 1;
  let falsePositives = 0;
  let overlapSum = 0;
  while (ip >= 0 || ineg >= 0) {
    const pk = ip >= 0 ? Math.floor(positives[ip] / ID_SPACE) : -1;
    const nk = ineg >= 0 ? negatives[ineg] : -1;
    const value = pk >= nk ? pk : nk;
    while (ineg >= 0 && negatives[ineg] === value) {
      falsePositives++;
      ineg--;
    }
    while (ip >= 0) {
      const composite = positives[ip];
      const key = Math.floor(composite / ID_SPACE);
      if (key !== value) break;
      overlapSum += gainOf(composite - key * ID_SPACE);
      ip--;
    }
    const x = falsePositives / nNeg;
    fpr.push(x);
    overlap.push(Math.min(overlapSum / regions, 1));
    if (x > maxFpr) break;
  }
  const fprArray = Float64Array.from(fpr);
  const overlapArray = Float64Array.from(overlap);
  return { fpr: fprArray, overlap: overlapArray, normalizedArea: trapezoidArea(fprArray, overlapArray, maxFpr) / maxFpr };
}
