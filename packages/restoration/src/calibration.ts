import type { RgbImageLike } from '@thfr/detector';
import { checkCalibrationScores } from './training-checks.js';
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

/** Progress of calibration, in images. */
export type CalibrationProgress = (done: number, total: number) => void;

/**
 * Calibrates a trained restoration model on normal images: `validation` when given, else the training
 * images scored leave-one-out (`predict(images, true)`: THFR then never uses an image as its own template).
 * Refuses a collapsed or diverged model (checkCalibrationScores) before returning the statistics.
 */
export async function calibrateOnNormals(
  predict: (images: readonly RgbImageLike[], leaveOneOut: boolean) => Promise<{ scores: Float32Array; maps: Float32Array[] }>,
  trainImages: readonly RgbImageLike[],
  validation: readonly RgbImageLike[],
  onProgress: CalibrationProgress = () => {},
): Promise<NormalStatistics> {
  const useValidation = validation.length > 0;
  const images = useValidation ? validation : trainImages;
  onProgress(0, images.length);
  const prediction = await predict(images, !useValidation);
  checkCalibrationScores(prediction.scores);
  let pixelMax = 0;
  for (const map of prediction.maps) for (let i = 0; i < map.length; i++) if (map[i] > pixelMax) pixelMax = map[i];
  const statistics = normalStatistics(prediction.scores, pixelMax, useValidation ? 'validation' : 'train-leave-one-out');
  onProgress(images.length, images.length);
  return statistics;
}
