// Cross-checks against fixtures/metrics-fixtures.json, made by fixtures/make_fixtures.py with
// scikit-learn and NumPy re-implementations of the MVTec AD / MVTec LOCO AD evaluations.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evaluateLoco, imageAuroc, imageF1Max, parseDefectsConfig, PixelScores, proScore, sproScore, type LocoTestImage } from '../src/index.js';

interface AdCase {
  name: string;
  count: number;
  width: number;
  height: number;
  maps: string;
  masks: string;
  labels: number[];
  pixelAuroc: number;
  pro: number;
  pro01: number;
  regions: number;
  imageAuroc?: number;
  imageF1?: number;
  imageF1Thresholds?: number[];
  pixelF1: number;
  pixelF1Thresholds: number[];
  roc?: { fpr: number[]; tpr: number[]; thresholds: number[] };
}

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/metrics-fixtures.json', import.meta.url), 'utf8'));

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, 'base64');
  return new Uint8Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
}
const floats = (base64: string) => new Float32Array(bytes(base64).buffer);

function unpack(c: AdCase) {
  const pixels = c.width * c.height;
  const allMaps = floats(c.maps);
  const allMasks = bytes(c.masks);
  const maps = Array.from({ length: c.count }, (_, i) => allMaps.slice(i * pixels, (i + 1) * pixels));
  const masks = Array.from({ length: c.count }, (_, i) => allMasks.slice(i * pixels, (i + 1) * pixels));
  return { maps, masks, size: { width: c.width, height: c.height } };
}

describe.each((fixtures.ad as AdCase[]).map((c) => [c.name, c] as const))('MVTec AD metrics on "%s"', (_name, c) => {
  const { maps, masks, size } = unpack(c);
  const pixelScores = PixelScores.prepare(maps, masks, size);

  it('pixel AUROC equals scikit-learn within 1e-9', () => {
    expect(Math.abs(pixelScores.auroc() - c.pixelAuroc)).toBeLessThan(1e-9);
  });

  it('PRO (FPR <= 0.3 and <= 0.1) equals the official algorithm within 1e-6', () => {
    const result = proScore(maps, masks, size);
    expect(result.regions).toBe(c.regions);
    expect(Math.abs(result.pro - c.pro)).toBeLessThan(1e-6);
    expect(Math.abs(proScore(maps, masks, size, { maxFpr: 0.1 }).pro - c.pro01)).toBeLessThan(1e-6);
  });

  it('pixel F1-max equals scikit-learn', () => {
    const f1 = pixelScores.f1Max();
    expect(Math.abs(f1.f1 - c.pixelF1)).toBeLessThan(1e-12);
    expect(c.pixelF1Thresholds.some((t) => Math.fround(t) === f1.threshold)).toBe(true);
  });

  it.runIf(c.imageAuroc !== undefined)('image AUROC and F1-max (score = max of map) equal scikit-learn', () => {
    const scores = maps.map((m) => m.reduce((a, b) => Math.max(a, b), -Infinity));
    expect(Math.abs(imageAuroc(scores, c.labels) - c.imageAuroc!)).toBeLessThan(1e-9);
    const f1 = imageF1Max(scores, c.labels);
    expect(Math.abs(f1.f1 - c.imageF1!)).toBeLessThan(1e-12);
    expect(c.imageF1Thresholds).toContain(f1.threshold);
  });

  it.runIf(c.roc !== undefined)('the uncapped ROC curve equals scikit-learn roc_curve(drop_intermediate=False)', () => {
    const curve = pixelScores.rocCurve(1e6);
    expect(Array.from(curve.fpr)).toEqual(c.roc!.fpr);
    expect(Array.from(curve.tpr)).toEqual(c.roc!.tpr);
    expect(Array.from(curve.thresholds.subarray(1))).toEqual(c.roc!.thresholds.map((t) => Math.fround(t) + 0)); // + 0: -0 and 0 tie
  });
});

describe('MVTec LOCO AD sPRO and image AUROC', () => {
  const loco = fixtures.loco;
  const defects = parseDefectsConfig(loco.defects);
  const size = { width: loco.width, height: loco.height };
  const images: LocoTestImage[] = loco.images.map((im: { kind: LocoTestImage['kind']; map: string; masks: { defectName: string; data: string }[] }) => ({
    kind: im.kind,
    map: floats(im.map),
    masks: im.masks.map((m) => ({ defectName: m.defectName, data: bytes(m.data) })),
  }));

  it('equals the brute-force definition within 1e-9 (FPR 0.05) and the image AUROC scikit-learn', () => {
    const result = evaluateLoco(images, defects, size);
    for (const kind of ['logical', 'structural'] as const) {
      expect(Math.abs(result.spro[kind].spro - loco.expected[kind].spro)).toBeLessThan(1e-9);
      expect(Math.abs(result.imageAuroc[kind] - loco.expected[kind].imageAuroc)).toBeLessThan(1e-9);
    }
    expect(result.spro.mean).toBeCloseTo((loco.expected.logical.spro + loco.expected.structural.spro) / 2, 12);
    expect(result.imageAuroc.mean).toBeCloseTo((loco.expected.logical.imageAuroc + loco.expected.structural.imageAuroc) / 2, 12);
  });

  it('integrates to another FPR limit (0.3) just as well', () => {
    const logical = images.filter((im) => im.kind !== 'structural');
    expect(Math.abs(sproScore(logical, defects, size, { maxFpr: 0.3 }).spro - loco.expected.logical.spro30)).toBeLessThan(1e-9);
  });

  it('finds each mask\'s defect from its pixel value when no name is given', () => {
    const unnamed = images.map((im) => ({ ...im, masks: im.masks?.map((m) => ({ data: m.data })) }));
    expect(evaluateLoco(unnamed, defects, size).spro.mean).toBeCloseTo((loco.expected.logical.spro + loco.expected.structural.spro) / 2, 12);
  });
});
