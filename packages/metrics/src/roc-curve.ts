import { imageScoresSorted } from './image-scores.js';
import { MetricInputError } from './errors.js';
import { keyToFloat } from './sortable-key.js';
import { sweepDescending } from './sweep.js';

/** ROC points from (0, 0) to (1, 1); thresholds[0] is +Infinity (nothing predicted positive). */
export interface RocCurve {
  fpr: Float64Array;
  tpr: Float64Array;
  /** Point k predicts positive every sample with score >= thresholds[k]. */
  thresholds: Float64Array;
}

export interface RocCurveOptions {
  /** Upper bound on the number of points returned (>= 2). Default 1000. */
  maxPoints?: number;
  /** The sorted lists hold sortable float32 keys (pixel scores) rather than plain numbers. */
  keys?: boolean;
  what?: string;
}

/**
 * The exact ROC (one point per distinct score), thinned to at most `maxPoints` points: a point is
 * kept when the sweep has passed another 1/(maxPoints-2) of all samples, and the last point always.
 * Thinning keeps true ROC vertices, so plots stay faithful; use the AUROC functions for the area.
 */
export function rocCurveFromSorted(positives: ArrayLike<number>, negatives: ArrayLike<number>, options: RocCurveOptions = {}): RocCurve {
  const { maxPoints = 1000, keys = false, what = 'ROC curve' } = options;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new MetricInputError(`${what}: maxPoints must be an integer >= 2, got ${maxPoints}`);
  const nPos = positives.length;
  const nNeg = negatives.length;
  if (nPos === 0 || nNeg === 0) throw new MetricInputError(`${what}: needs both anomalous and normal samples, got ${nPos} anomalous and ${nNeg} normal`);
  const total = nPos + nNeg;
  const spacing = total / (maxPoints - 2);
  const fpr: number[] = [0];
  const tpr: number[] = [0];
  const thresholds: number[] = [Infinity];
  let nextTarget = spacing;
  sweepDescending(positives, negatives, (step) => {
    const passed = step.tp + step.fp;
    if (passed >= nextTarget || passed === total) {
      fpr.push(step.fp / nNeg);
      tpr.push(step.tp / nPos);
      thresholds.push(keys ? keyToFloat(step.value) : step.value);
      while (nextTarget <= passed) nextTarget += spacing;
    }
  });
  return { fpr: Float64Array.from(fpr), tpr: Float64Array.from(tpr), thresholds: Float64Array.from(thresholds) };
}

/** Image-level ROC curve (every distinct score unless more than `maxPoints`). */
export function imageRocCurve(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, maxPoints = 1000): RocCurve {
  const { positives, negatives } = imageScoresSorted(scores, labels, 'imageRocCurve');
  return rocCurveFromSorted(positives, negatives, { maxPoints, what: 'imageRocCurve' });
}
