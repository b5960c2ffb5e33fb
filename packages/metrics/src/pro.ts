import { labelComponents8 } from './connected-components.js';
import { MetricInputError } from './errors.js';
import { assertFiniteBits, bitsOf, bitsToKey, ID_SPACE } from './sortable-key.js';
import { overlapCurve } from './sweep.js';
import { assertMaps, assertMasks, type MapSize } from './validate.js';

export interface ProOptions {
  /** Upper FPR limit of the integral. Default 0.3 (MVTec AD). */
  maxFpr?: number;
}

export interface ProResult {
  /** Area under the PRO curve up to maxFpr, divided by maxFpr (in [0, 1]). */
  pro: number;
  /** Curve points from (0, 0) up to the first point past maxFpr, one per distinct score. */
  fpr: Float64Array;
  overlap: Float64Array;
  regions: number;
  normalPixels: number;
}

/**
 * PRO as the MVTec AD evaluation computes it (`compute_pro` + `trapezoid`): ground-truth regions
 * are the 8-connected components of each mask; at each threshold (every distinct score, positives =
 * score >= threshold) the PRO is the mean over ALL regions of the test set of the fraction of the
 * region above the threshold, and the FPR is taken over all normal pixels of the test set. The
 * curve is integrated up to `maxFpr` (value interpolated there) and divided by `maxFpr`.
 *
 * Instead of the official argsort, anomalous pixels are sorted as composite keys
 * (float32 order key * 2^21 + region id) and normal pixels as plain keys: exact, index-free.
 * Memory: 4 bytes per normal pixel + 8 per anomalous pixel. Limit: 2^21 regions.
 */
export function proScore(maps: ReadonlyArray<Float32Array>, masks: ReadonlyArray<Uint8Array | null>, size: MapSize, options: ProOptions = {}): ProResult {
  const { maxFpr = 0.3 } = options;
  if (!(maxFpr > 0 && maxFpr <= 1)) throw new MetricInputError(`proScore: maxFpr must be in (0, 1], got ${maxFpr}`);
  const pixels = assertMaps(maps, size);
  assertMasks(masks, maps.length, size);
  const { width, height } = size;

  let nPos = 0;
  for (const mask of masks) if (mask) for (let i = 0; i < pixels; i++) if (mask[i] !== 0) nPos++;
  const nNeg = maps.length * pixels - nPos;
  if (nPos === 0) throw new MetricInputError('proScore: the masks hold no anomalous pixel, so PRO is undefined');
  if (nNeg === 0) throw new MetricInputError('proScore: every pixel is anomalous, so the FPR is undefined');

  const positives = new Float64Array(nPos);
  const negatives = new Uint32Array(nNeg);
  const inverseRegionSize: number[] = [];
  const labels = new Int32Array(pixels);
  const stack = new Int32Array(pixels);
  let p = 0;
  let n = 0;
  for (let m = 0; m < maps.length; m++) {
    const bits = bitsOf(maps[m]);
    const mask = masks[m];
    const firstRegion = inverseRegionSize.length;
    if (mask) {
      const sizes = labelComponents8(mask, width, height, labels, stack);
      for (const s of sizes) inverseRegionSize.push(1 / s);
      if (inverseRegionSize.length > ID_SPACE) throw new MetricInputError(`proScore: more than ${ID_SPACE} ground-truth regions are not supported`);
    }
    for (let i = 0; i < pixels; i++) {
      const b = bits[i];
      if ((b & 0x7f800000) === 0x7f800000) assertFiniteBits(b, `anomaly maps[${m}]`, i);
      const key = bitsToKey(b);
      if (mask && mask[i] !== 0) positives[p++] = key * ID_SPACE + (firstRegion + labels[i] - 1);
      else negatives[n++] = key;
    }
  }
  const regions = inverseRegionSize.length;
  const curve = overlapCurve(positives, negatives, regions, (region) => inverseRegionSize[region], maxFpr);
  return { pro: curve.normalizedArea, fpr: curve.fpr, overlap: curve.overlap, regions, normalPixels: nNeg };
}
