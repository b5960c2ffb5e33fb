import { describe, expect, it } from 'vitest';
import {
  calibrateThreshold,
  imageAuroc,
  imageRocCurve,
  labelComponents8,
  MetricInputError,
  parseDefectsConfig,
  PixelScores,
  pixelAuroc,
  proScore,
  quantile,
  saturationArea,
  sproScore,
  trapezoidArea,
} from '../src/index.js';
import { floatToKey, keyToFloat } from '../src/sortable-key.js';

const size = { width: 4, height: 2 };
const map = (values: number[]) => Float32Array.from(values);

describe('sortable float32 keys', () => {
  it('sort in the same order as the floats and round-trip', () => {
    const values = [-Infinity, -3.5e38, -2, -1e-40, -0, 0, 1e-45, 1e-40, 0.5, 1, 3.4e38, Infinity].map(Math.fround);
    const keys = values.map(floatToKey);
    for (let i = 1; i < keys.length; i++) expect(keys[i]).toBeGreaterThanOrEqual(keys[i - 1]);
    expect(floatToKey(-0)).toBe(floatToKey(0));
    for (const v of values) expect(keyToFloat(floatToKey(v))).toBe(v + 0);
  });
});

describe('AUROC', () => {
  it('counts ties as one half and is 1 for a perfect separation', () => {
    expect(imageAuroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(imageAuroc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
    expect(imageAuroc([0, 1], [false, true])).toBe(1);
    expect(pixelAuroc([map([0, 0, 0, 0, 1, 1, 0, 0])], [Uint8Array.from([0, 0, 0, 0, 255, 1, 0, 0])], size)).toBe(1);
  });

  it('rejects one class, NaN, wrong lengths and empty inputs with clear errors', () => {
    expect(() => imageAuroc([1, 2], [1, 1])).toThrow(/needs both anomalous and normal samples, got 2 anomalous and 0 normal/);
    expect(() => imageAuroc([1, NaN], [0, 1])).toThrow(/imageAuroc scores: expected finite scores, found NaN at index 1/);
    expect(() => imageAuroc([1, 2, 3], [0, 1])).toThrow(/expected 3 labels/);
    expect(() => imageAuroc([], [])).toThrow(MetricInputError);
    expect(() => imageAuroc([1, 2], [0, 2])).toThrow(/labels must be 0\/1 or booleans, found 2 at index 1/);
    const bad = map([0, 1, 2, 3, 4, NaN, 6, 7]);
    expect(() => pixelAuroc([bad], [new Uint8Array(8).fill(1, 0, 2)], size)).toThrow(/anomaly maps\[0\]: expected finite scores, found NaN at pixel 5/);
    expect(() => pixelAuroc([map([1, 2, 3])], [null], size)).toThrow(/anomaly maps\[0\]: expected 8 values \(4 x 2\), got 3/);
    expect(() => pixelAuroc([map([1, 2, 3, 4, 5, 6, 7, 8])], [], size)).toThrow(/masks: expected 1 masks \(one per anomaly map\), got 0/);
    expect(() => pixelAuroc([], [], size)).toThrow(/anomaly maps: expected a non-empty array/);
    expect(() => pixelAuroc([new Float32Array(8)], [null], { width: 0, height: 8 })).toThrow(/width and height must be positive integers/);
  });
});

describe('ROC curve', () => {
  it('keeps at most maxPoints points, from (0,0) to (1,1), monotone', () => {
    const maps = Array.from({ length: 20 }, (_, m) => Float32Array.from({ length: 8 }, (_, i) => Math.sin(m * 8 + i) + (m % 3 === 0 && i < 3 ? 1 : 0)));
    const masks = maps.map((_, m) => Uint8Array.from({ length: 8 }, (_, i) => (m % 3 === 0 && i < 3 ? 1 : 0)));
    const curve = PixelScores.prepare(maps, masks, size).rocCurve(10);
    expect(curve.fpr.length).toBeLessThanOrEqual(10);
    expect([curve.fpr[0], curve.tpr[0], curve.thresholds[0]]).toEqual([0, 0, Infinity]);
    expect([curve.fpr.at(-1), curve.tpr.at(-1)]).toEqual([1, 1]);
    for (let i = 1; i < curve.fpr.length; i++) {
      expect(curve.fpr[i]).toBeGreaterThanOrEqual(curve.fpr[i - 1]);
      expect(curve.thresholds[i]).toBeLessThan(curve.thresholds[i - 1]);
    }
    expect(imageRocCurve([0.2, 0.1, 0.3], [0, 0, 1]).tpr).toEqual(Float64Array.from([0, 1, 1, 1]));
    expect(() => imageRocCurve([0.2, 0.1], [0, 1], 1)).toThrow(/maxPoints must be an integer >= 2/);
  });
});

describe('connected components (8-connectivity)', () => {
  it('joins diagonal neighbours and separates the rest', () => {
    // 1 . . 1
    // . 1 . 1
    // . . . .
    const mask = Uint8Array.from([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0]);
    const labels = new Int32Array(12);
    expect(labelComponents8(mask, 4, 3, labels)).toEqual([2, 2]);
    expect(Array.from(labels)).toEqual([1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 0, 0]);
  });
});

describe('PRO', () => {
  it('is 1 when every region is above every normal pixel, and needs regions and normal pixels', () => {
    const maps = [map([0, 0.1, 0.2, 0.3, 0.9, 0.8, 0.1, 0])];
    const masks = [Uint8Array.from([0, 0, 0, 0, 1, 1, 0, 0])];
    expect(proScore(maps, masks, size).pro).toBeCloseTo(1, 12);
    expect(() => proScore(maps, [null], size)).toThrow(/no anomalous pixel/);
    expect(() => proScore(maps, [new Uint8Array(8).fill(1)], size)).toThrow(/every pixel is anomalous/);
    expect(() => proScore(maps, masks, size, { maxFpr: 0 })).toThrow(/maxFpr must be in \(0, 1\]/);
  });

  it('weights each region equally, whatever its size', () => {
    // Region A (1 pixel) scores highest, region B (3 pixels) lowest: at FPR 0 the PRO is already 0.5.
    const result = proScore([map([1, 0, 0, 5, 1, 1, 0, 2])], [Uint8Array.from([1, 0, 0, 1, 1, 1, 0, 0])], size, { maxFpr: 1 });
    expect(result.overlap[1]).toBe(0.5);
  });
});

describe('trapezoid and thresholds', () => {
  it('interpolates at xMax unless xMax is a point', () => {
    expect(trapezoidArea([0, 0.5, 1], [0, 1, 1], 0.25)).toBeCloseTo(0.0625, 15);
    expect(trapezoidArea([0, 0.5, 1], [0, 1, 1], 0.5)).toBeCloseTo(0.25, 15);
    expect(() => trapezoidArea([0, 0.1], [0, 1], 0.3)).toThrow(/ends at x = 0.1, before xMax = 0.3/);
  });

  it('calibrates on normal scores (NumPy linear quantile, max, mean + k std)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5); // np.quantile([1,2,3,4], 0.5)
    expect(quantile([10, 0, 5], 0.9)).toBeCloseTo(9, 12); // np.quantile([0,5,10], 0.9)
    expect(calibrateThreshold([1, 2, 3, 4], { method: 'quantile', q: 1 })).toBe(4);
    expect(calibrateThreshold([1, 2, 3, 4], { method: 'max', margin: 0.1 })).toBeCloseTo(4.4, 12);
    expect(calibrateThreshold([1, 3], { method: 'meanStd', k: 2 })).toBe(4);
    expect(() => calibrateThreshold([])).toThrow(/non-empty/);
    expect(() => calibrateThreshold([1], { method: 'quantile', q: 2 })).toThrow(/q must be in \[0, 1\]/);
  });
});

describe('sPRO', () => {
  const defects = parseDefectsConfig([
    { defect_name: 'big', pixel_value: 9, saturation_threshold: 0.5, relative_saturation: true },
    { defect_name: 'small', pixel_value: 4, saturation_threshold: 1, relative_saturation: false },
  ]);

  it('saturates: covering half of a relative-0.5 defect already counts fully', () => {
    expect(saturationArea(defects[0], 7)).toBe(3); // int(0.5 * 7)
    expect(saturationArea(defects[1], 7)).toBe(1); // min(1, 7)
    const result = sproScore(
      [{ kind: 'logical', map: map([9, 8, 0, 0, 1, 1, 0.5, 0]), masks: [{ data: Uint8Array.from([9, 9, 9, 9, 0, 0, 0, 0]) }] }],
      defects,
      size,
      { maxFpr: 1 },
    );
    // Threshold between 8 and 1: 2 of 4 defect pixels above, saturation int(0.5*4) = 2 -> sPRO 1 at FPR 0.
    expect(result.saturatedOverlap[2]).toBe(1);
    expect(result.fpr[2]).toBe(0);
  });

  it('reports bad masks and configs clearly', () => {
    const image = { kind: 'logical' as const, map: new Float32Array(8) };
    expect(() => sproScore([{ ...image, masks: [{ data: Uint8Array.from([9, 4, 0, 0, 0, 0, 0, 0]) }] }], defects, size)).toThrow(/holds two defect values \(9 and 4\)/);
    expect(() => sproScore([{ ...image, masks: [{ data: Uint8Array.from([7, 0, 0, 0, 0, 0, 0, 0]) }] }], defects, size)).toThrow(/pixel value 7 matches no defect/);
    expect(() => sproScore([{ ...image, masks: [{ data: new Uint8Array(8), defectName: 'nope' }] }], defects, size)).toThrow(/defect 'nope' is not in defects_config/);
    expect(() => sproScore([image], defects, size)).toThrow(/no ground-truth defect/);
    expect(() => parseDefectsConfig([{ defect_name: 'x', pixel_value: 0, saturation_threshold: 1, relative_saturation: true }])).toThrow(/defects_config.json\[0\]/);
  });
});
