/**
 * Statistics of anomaly scores on normal images, kept with the model: they turn raw scores into
 * comparable ones and give a default decision threshold.
 */
export interface NormalStatistics {
  /** Where the normal images came from. */
  source: 'validation' | 'train-leave-one-out';
  count: number;
  imageScore: { mean: number; std: number; min: number; max: number };
  /** The largest pixel score seen on normal images (a natural top of a heatmap's colour range). */
  pixelMax: number;
  /** Default image threshold: max(normal scores) + 10% of their range, never below the mean + 3 std. */
  threshold: number;
}

export function normalStatistics(imageScores: ArrayLike<number>, pixelMax: number, source: NormalStatistics['source']): NormalStatistics {
  const n = imageScores.length;
  if (n === 0) throw new Error('normalStatistics: no normal images to calibrate on');
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    sum += imageScores[i];
    min = Math.min(min, imageScores[i]);
    max = Math.max(max, imageScores[i]);
  }
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (imageScores[i] - mean) ** 2;
  const std = Math.sqrt(sq / Math.max(1, n - 1));
  const threshold = Math.max(max + 0.1 * (max - min), mean + 3 * std);
  return { source, count: n, imageScore: { mean, std, min, max }, pixelMax, threshold };
}
