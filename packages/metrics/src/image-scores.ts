import { assertScoresAndLabels } from './validate.js';

/** Splits image scores by label into ascending sorted Float64Arrays. */
export function imageScoresSorted(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, what: string): { positives: Float64Array; negatives: Float64Array } {
  assertScoresAndLabels(scores, labels, what);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) nPos++;
  const positives = new Float64Array(nPos);
  const negatives = new Float64Array(scores.length - nPos);
  let p = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] + 0; // -0 -> +0 so that they tie
    if (labels[i]) positives[p++] = s;
    else negatives[n++] = s;
  }
  positives.sort();
  negatives.sort();
  return { positives, negatives };
}

