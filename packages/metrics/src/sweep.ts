// Sweeps over two ascending sorted score lists (positives and negatives), visiting each distinct
// score once from the highest to the lowest: the exact ROC / PR sweep with tied scores grouped,
// as scikit-learn's roc_curve and precision_recall_curve do.

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
