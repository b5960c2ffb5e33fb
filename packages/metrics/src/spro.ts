import { imageAuroc } from './auroc.js';
import { MetricInputError } from './errors.js';
import { saturationArea, type LocoDefectConfig } from './loco-defects.js';
import { assertFiniteBits, bitsOf, bitsToKey, ID_SPACE } from './sortable-key.js';
import { overlapCurve } from './sweep.js';
import { assertMapSize, describe, isList, type MapSize } from './validate.js';

/** One ground-truth mask of a LOCO test image (one PNG of ground_truth/<type>/<id>/). */
export interface LocoGroundTruthMask {
  /** Raw mask values: pixels equal to the defect's pixel_value belong to the defect, 0 = free. */
  data: Uint8Array;
  /** The defect's name in defects_config.json; when absent, found from the mask's non-zero value. */
  defectName?: string;
}

export type LocoImageKind = 'good' | 'logical' | 'structural';

export interface LocoTestImage {
  kind: LocoImageKind;
  /** Anomaly map, width*height values. */
  map: Float32Array;
  /** Ground-truth masks (none for good images). */
  masks?: ReadonlyArray<LocoGroundTruthMask>;
  /** Image score for the image AUROC; default: the max of the map. */
  score?: number;
}

export interface SproOptions {
  /** Upper FPR limit of the integral. Default 0.05 (MVTec LOCO AD). */
  maxFpr?: number;
}

export interface SproResult {
  /** Area under the sPRO curve up to maxFpr divided by maxFpr. */
  spro: number;
  /** Curve points from (0, 0) up to the first past maxFpr, one per distinct score. */
  fpr: Float64Array;
  saturatedOverlap: Float64Array;
  defects: number;
  normalPixels: number;
}

export interface LocoEvaluation {
  spro: { logical: SproResult; structural: SproResult; mean: number };
  imageAuroc: { logical: number; structural: number; mean: number };
}

const NO_MASKS: ReadonlyArray<LocoGroundTruthMask> = [];

interface DefectInstance {
  saturation: number;
}

/**
 * sPRO (MVTec LOCO AD) over the given images: every mask is one defect with a saturation area;
 * at a threshold t (positives: score > t) sPRO = mean over all defects of min(TP area / saturation, 1);
 * FPR is over the pixels that belong to no defect of any mask of their image (good and anomalous
 * images alike). Computed at every distinct score (exact), integrated up to maxFpr, divided by it.
 */
export function sproScore(images: ReadonlyArray<LocoTestImage>, defectsConfig: ReadonlyArray<LocoDefectConfig>, size: MapSize, options: SproOptions = {}): SproResult {
  const { maxFpr = 0.05 } = options;
  if (!(maxFpr > 0 && maxFpr <= 1)) throw new MetricInputError(`sproScore: maxFpr must be in (0, 1], got ${maxFpr}`);
  const pixels = assertMapSize(size, 'sproScore');
  if (!isList(images) || images.length === 0) throw new MetricInputError(`sproScore: expected a non-empty array of test images, got ${describe(images)}`);
  const byName = new Map(defectsConfig.map((d) => [d.defect_name, d]));
  const byValue = new Map(defectsConfig.map((d) => [d.pixel_value, d]));

  // Pass 1: resolve each mask's defect and area, count positives (pixel, defect) and defect-free pixels.
  const defects: DefectInstance[] = [];
  const pixelValues: number[][] = [];
  let nPos = 0;
  let nNeg = 0;
  const covered = new Uint8Array(pixels);
  images.forEach((image, m) => {
    if (!(image?.map instanceof Float32Array) || image.map.length !== pixels) {
      throw new MetricInputError(`test image ${m}: expected map to be a Float32Array of ${pixels} values (${size.width} x ${size.height}), got ${image?.map ? `${describe(image.map)} of length ${(image.map as Float32Array).length}` : describe(image?.map)}`);
    }
    covered.fill(0);
    const values: number[] = [];
    (image.masks ?? NO_MASKS).forEach((mask, k) => {
      const what = `test image ${m} mask ${k}`;
      if (!(mask?.data instanceof Uint8Array) || mask.data.length !== pixels) throw new MetricInputError(`${what}: expected data to be a Uint8Array of ${pixels} values`);
      const defect = resolveDefect(mask, byName, byValue, what);
      let area = 0;
      for (let i = 0; i < pixels; i++) {
        const v = mask.data[i];
        if (v === defect.pixel_value) {
          area++;
          covered[i] = 1;
        } else if (v !== 0) throw new MetricInputError(`${what}: holds value ${v} at pixel ${i}, expected 0 or ${defect.pixel_value} (${defect.defect_name})`);
      }
      values.push(area > 0 ? defect.pixel_value : -1); // empty masks define no defect
      if (area > 0) defects.push({ saturation: saturationArea(defect, area) });
      nPos += area;
    });
    pixelValues.push(values);
    for (let i = 0; i < pixels; i++) if (!covered[i]) nNeg++;
  });
  if (defects.length === 0) throw new MetricInputError('sproScore: no ground-truth defect among the images, so sPRO is undefined');
  if (defects.length > ID_SPACE) throw new MetricInputError(`sproScore: more than ${ID_SPACE} defects are not supported`);
  if (nNeg === 0) throw new MetricInputError('sproScore: no defect-free pixel, so the FPR is undefined');

  // Pass 2: composite keys (score key * 2^21 + defect index) for defect pixels, plain keys for the rest.
  const positives = new Float64Array(nPos);
  const negatives = new Uint32Array(nNeg);
  let p = 0;
  let n = 0;
  let defectIndex = 0;
  images.forEach((image, m) => {
    const bits = bitsOf(image.map);
    covered.fill(0);
    const values = pixelValues[m];
    (image.masks ?? NO_MASKS).forEach((mask, k) => {
      const value = values[k];
      if (value < 0) return;
      for (let i = 0; i < pixels; i++) {
        if (mask.data[i] !== value) continue;
        covered[i] = 1;
        const b = bits[i];
        if ((b & 0x7f800000) === 0x7f800000) assertFiniteBits(b, `test image ${m} map`, i);
        positives[p++] = bitsToKey(b) * ID_SPACE + defectIndex;
      }
      defectIndex++;
    });
    for (let i = 0; i < pixels; i++) {
      if (covered[i]) continue;
      const b = bits[i];
      if ((b & 0x7f800000) === 0x7f800000) assertFiniteBits(b, `test image ${m} map`, i);
      negatives[n++] = bitsToKey(b);
    }
  });
  // A defect's pixels count until its saturation area is reached: sPRO = min(TP / saturation, 1).
  const truePositives = new Float64Array(defects.length);
  const curve = overlapCurve(positives, negatives, defects.length, (d) => {
    const saturation = defects[d].saturation;
    return ++truePositives[d] <= saturation ? 1 / saturation : 0;
  }, maxFpr);
  return { spro: curve.normalizedArea, fpr: curve.fpr, saturatedOverlap: curve.overlap, defects: defects.length, normalPixels: nNeg };
}

function resolveDefect(mask: LocoGroundTruthMask, byName: Map<string, LocoDefectConfig>, byValue: Map<number, LocoDefectConfig>, what: string): LocoDefectConfig {
  if (mask.defectName !== undefined) {
    const defect = byName.get(mask.defectName);
    if (!defect) throw new MetricInputError(`${what}: defect '${mask.defectName}' is not in defects_config (have: ${[...byName.keys()].join(', ')})`);
    return defect;
  }
  let value = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i];
    if (v === 0) continue;
    if (value === 0) value = v;
    else if (v !== value) throw new MetricInputError(`${what}: holds two defect values (${value} and ${v}); give defectName or split it into one mask per defect`);
  }
  if (value === 0) throw new MetricInputError(`${what}: is empty and has no defectName, so its defect is unknown`);
  const defect = byValue.get(value);
  if (!defect) throw new MetricInputError(`${what}: pixel value ${value} matches no defect in defects_config (values: ${[...byValue.keys()].join(', ')})`);
  return defect;
}

function imageScore(image: LocoTestImage): number {
  if (image.score !== undefined) return image.score;
  let max = -Infinity;
  for (let i = 0; i < image.map.length; i++) if (image.map[i] > max) max = image.map[i];
  return max;
}

/**
 * The MVTec LOCO AD evaluation: sPRO (up to FPR 0.05 by default) and image AUROC for logical and
 * structural anomalies, each against all good images, and their means.
 */
export function evaluateLoco(images: ReadonlyArray<LocoTestImage>, defectsConfig: ReadonlyArray<LocoDefectConfig>, size: MapSize, options: SproOptions = {}): LocoEvaluation {
  if (!isList(images) || images.length === 0) throw new MetricInputError(`evaluateLoco: expected a non-empty array of test images, got ${describe(images)}`);
  images.forEach((image, i) => {
    if (!['good', 'logical', 'structural'].includes(image?.kind)) throw new MetricInputError(`test image ${i}: kind must be 'good', 'logical' or 'structural', got ${String(image?.kind)}`);
  });
  const good = images.filter((image) => image.kind === 'good');
  const evaluate = (kind: 'logical' | 'structural') => {
    const anomalous = images.filter((image) => image.kind === kind);
    if (anomalous.length === 0 || good.length === 0) throw new MetricInputError(`evaluateLoco: needs good and ${kind} images, got ${good.length} good and ${anomalous.length} ${kind}`);
    const subset = [...good, ...anomalous];
    const spro = sproScore(subset, defectsConfig, size, options);
    const auroc = imageAuroc(subset.map(imageScore), subset.map((image) => image.kind !== 'good'));
    return { spro, auroc };
  };
  const logical = evaluate('logical');
  const structural = evaluate('structural');
  return {
    spro: { logical: logical.spro, structural: structural.spro, mean: (logical.spro.spro + structural.spro.spro) / 2 },
    imageAuroc: { logical: logical.auroc, structural: structural.auroc, mean: (logical.auroc + structural.auroc) / 2 },
  };
}
