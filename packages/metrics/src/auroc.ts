import { MetricInputError } from './errors.js';
import { imageScoresSorted } from './image-scores.js';

/**
 * Exact area under the ROC curve from ascending sorted positive and negative scores:
 * P(score+ > score-) + 0.5 P(score+ == score-), which is what scikit-learn's roc_auc_score gives
 * (trapezoids over the ROC with tied scores grouped). The doubled win count stays an exact integer
 * in a double while 2 * nPos * nNeg < 2^53 (any split of up to 1.3e8 samples); beyond that the
 * relative rounding error is ~1e-16.
 */
export function aurocFromSorted(positives: ArrayLike<number>, negatives: ArrayLike<number>, what = 'AUROC'): number {
  const nPos = positives.length;
  const nNeg = negatives.length;
  if (nPos === 0 || nNeg === 0) {
    throw new MetricInputError(`${what}: needs both anomalous and normal samples, got ${nPos} anomalous and ${nNeg} normal`);
  }
  let wins = 0;
  let below = 0; // negatives strictly below the current positive value
  let i = 0;
  while (i < nPos) {
    const value = positives[i];
    let groupEnd = i + 1;
    while (groupEnd < nPos && positives[groupEnd] === value) groupEnd++;
    while (below < nNeg && negatives[below] < value) below++;
    let equalEnd = below;
    while (equalEnd < nNeg && negatives[equalEnd] === value) equalEnd++;
    wins += (groupEnd - i) * (2 * below + (equalEnd - below)); // doubled to stay integral
    below = equalEnd;
    i = groupEnd;
  }
  return wins / 2 / nPos / nNeg;
}

/**
 * Image-level AUROC. `scores` are image scores (e.g. the max of each anomaly map), `labels` are
 * 1/true for anomalous images and 0/false for good ones.
 */
export function imageAuroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const { positives, negatives } = imageScoresSorted(scores, labels, 'imageAuroc');
  return aurocFromSorted(positives, negatives, 'imageAuroc');
}
