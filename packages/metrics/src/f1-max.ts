import { imageScoresSorted } from './image-scores.js';
import { MetricInputError } from './errors.js';
import { keyToFloat } from './sortable-key.js';
import { sweepDescending } from './sweep.js';

/** The best F1 over all thresholds (positive = score >= threshold). */
export interface F1Max {
  f1: number;
  threshold: number;
  precision: number;
  recall: number;
}

/**
 * F1-max over every distinct score, as max(2PR/(P+R)) over scikit-learn's precision_recall_curve
 * (F1 = 0 where P + R = 0). Ties in F1 keep the highest threshold.
 */
export function f1MaxFromSorted(positives: ArrayLike<number>, negatives: ArrayLike<number>, options: { keys?: boolean; what?: string } = {}): F1Max {
  const { keys = false, what = 'F1-max' } = options;
  const nPos = positives.length;
  if (nPos === 0) throw new MetricInputError(`${what}: needs at least one anomalous sample`);
  let best: F1Max = { f1: -1, threshold: NaN, precision: 0, recall: 0 };
  let bestValue = 0;
  sweepDescending(positives, negatives, ({ value, tp, fp }) => {
    const precision = tp / (tp + fp);
    const recall = tp / nPos;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) {
      best = { f1, threshold: NaN, precision, recall };
      bestValue = value;
    }
  });
  best.threshold = keys ? keyToFloat(bestValue) : bestValue;
  return best;
}

/** Image-level F1-max and its threshold. */
export function imageF1Max(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): F1Max {
  const { positives, negatives } = imageScoresSorted(scores, labels, 'imageF1Max');
  return f1MaxFromSorted(positives, negatives, { what: 'imageF1Max' });
}
