import { describe, expect, it } from 'vitest';
import {
  AD_DEFECT_TYPES,
  LOCO_DEFECTS_CONFIG,
  LOCO_LOGICAL_DEFECTS,
  LOCO_STRUCTURAL_DEFECTS,
  generateSyntheticCategory,
  type SyntheticCategory,
} from '../src/index.js';
import { makeAdMaterial, renderAdImage } from '../src/synthetic-ad.js';
import { Random } from '../src/prng.js';

function allBytes(cat: SyntheticCategory): number[] {
  const parts = [...cat.train, ...cat.validation, ...cat.test.flatMap((t) => [t.image, ...t.masks])];
  let h = 0;
  const sums: number[] = [];
  for (const p of parts) {
    for (let i = 0; i < p.data.length; i++) h = (Math.imul(h, 31) + p.data[i]) | 0;
    sums.push(h);
  }
  return sums;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function hasMaskNeighbour(mask: Uint8Array, width: number, i: number): boolean {
  const x = i % width;
  const y = Math.floor(i / width);
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < width && yy * width < mask.length && mask[yy * width + xx]) return true;
    }
  }
  return false;
}

describe('generateSyntheticCategory', () => {
  for (const kind of ['ad', 'loco'] as const) {
    it(`${kind}: same seed gives identical bytes, another seed differs`, () => {
      const opts = { kind, seed: 3, trainCount: 3, testCount: 6, size: 64 };
      const a = generateSyntheticCategory(opts);
      const b = generateSyntheticCategory(opts);
      const c = generateSyntheticCategory({ ...opts, seed: 4 });
      expect(allBytes(a)).toEqual(allBytes(b));
      expect(meanAbsDiff(a.train[0].data, c.train[0].data)).toBeGreaterThan(1);
      // Normal images of one category vary (jitter), but are the same object.
      const d = meanAbsDiff(a.train[0].data, a.train[1].data);
      expect(d).toBeGreaterThan(1);
      expect(d).toBeLessThan(60);
    });

    it(`${kind}: changing the test count leaves the training images unchanged`, () => {
      const a = generateSyntheticCategory({ kind, seed: 1, trainCount: 2, testCount: 1, size: 48 });
      const b = generateSyntheticCategory({ kind, seed: 1, trainCount: 2, testCount: 5, size: 48 });
      expect(Array.from(a.train[1].data)).toEqual(Array.from(b.train[1].data));
    });
  }

  it('ad: a third of the test set is good, every defect type appears, masks are 0/255 and non-empty', () => {
    const cat = generateSyntheticCategory({ kind: 'ad', seed: 5, trainCount: 1, testCount: 12, size: 96 });
    expect(cat.defectsConfig).toBeUndefined();
    expect(cat.validation).toEqual([]);
    expect(cat.test.filter((t) => t.defectType === 'good')).toHaveLength(4);
    expect(new Set(cat.test.map((t) => t.defectType))).toEqual(new Set(['good', ...AD_DEFECT_TYPES]));
    for (const t of cat.test) {
      if (t.defectType === 'good') {
        expect(t.masks).toEqual([]);
        continue;
      }
      expect(t.masks).toHaveLength(1);
      expect(t.defectNames).toEqual([t.defectType]);
      const values = new Set(t.masks[0].data);
      expect(values).toEqual(new Set([0, 255]));
      const area = t.masks[0].data.filter((v) => v).length;
      // Visible but small: between a few pixels and a tenth of the image.
      expect(area).toBeGreaterThan(4);
      expect(area).toBeLessThan(96 * 96 * 0.1);
    }
  });

  it('ad: the mask is exactly the painted defect (same image rendered with and without the defect)', () => {
    const material = makeAdMaterial(new Random(11));
    for (const defect of AD_DEFECT_TYPES) {
      for (let seed = 0; seed < 3; seed++) {
        const clean = renderAdImage(128, material, new Random(seed));
        const faulty = renderAdImage(128, material, new Random(seed), defect);
        const mask = faulty.masks[0].data;
        let changedOutside = 0;
        let unchangedInside = 0;
        for (let i = 0; i < mask.length; i++) {
          const d =
            Math.abs(clean.image.data[3 * i] - faulty.image.data[3 * i]) +
            Math.abs(clean.image.data[3 * i + 1] - faulty.image.data[3 * i + 1]) +
            Math.abs(clean.image.data[3 * i + 2] - faulty.image.data[3 * i + 2]);
          if (mask[i] && d < 15) unchangedInside++;
          // Outside the mask only the anti-aliased fringe (coverage under one half) may change: pixels next to it.
          if (!mask[i] && d > 0 && !hasMaskNeighbour(mask, 128, i)) changedOutside++;
        }
        expect(unchangedInside, `${defect} seed ${seed}: mask pixels left (almost) unpainted`).toBe(0);
        expect(changedOutside, `${defect} seed ${seed}: painted pixels away from the mask`).toBe(0);
      }
    }
  });

  it('loco: splits, folder names, masks carry pixel values of defects_config', () => {
    const cat = generateSyntheticCategory({ kind: 'loco', seed: 2, trainCount: 2, validationCount: 3, testCount: 30, size: 96 });
    expect(cat.validation).toHaveLength(3);
    expect(cat.defectsConfig).toEqual(LOCO_DEFECTS_CONFIG);
    const names = new Set<string>();
    for (const t of cat.test) {
      expect(['good', 'logical_anomalies', 'structural_anomalies']).toContain(t.defectType);
      expect(t.masks.length).toBe(t.defectNames.length);
      if (t.defectType === 'good') expect(t.masks).toEqual([]);
      else expect(t.masks.length).toBeGreaterThan(0);
      t.masks.forEach((m, k) => {
        names.add(t.defectNames[k]);
        const cfg = LOCO_DEFECTS_CONFIG.find((d) => d.defect_name === t.defectNames[k])!;
        expect(new Set(m.data)).toEqual(new Set([0, cfg.pixel_value]));
        const expectedFolder = (LOCO_LOGICAL_DEFECTS as readonly string[]).includes(cfg.defect_name)
          ? 'logical_anomalies'
          : 'structural_anomalies';
        expect(t.defectType).toBe(expectedFolder);
      });
    }
    expect(names).toEqual(new Set([...LOCO_LOGICAL_DEFECTS, ...LOCO_STRUCTURAL_DEFECTS]));
  });

  it('loco: a missing component leaves its place empty (the mask region looks like the tray)', () => {
    const cat = generateSyntheticCategory({ kind: 'loco', seed: 2, trainCount: 0, validationCount: 0, testCount: 2, size: 128 });
    const t = cat.test[1];
    expect(t.defectNames).toEqual(['missing_component']);
    const mask = t.masks[0].data;
    let lum = 0;
    let n = 0;
    mask.forEach((v, i) => {
      if (v) {
        lum += (t.image.data[3 * i] + t.image.data[3 * i + 1] + t.image.data[3 * i + 2]) / 3;
        n++;
      }
    });
    expect(n).toBeGreaterThan(100);
    // The tray is light gray (~200); components are saturated colours with much lower mean.
    expect(lum / n).toBeGreaterThan(170);
  });

  it('rejects bad options with clear errors', () => {
    expect(() => generateSyntheticCategory({ kind: 'ad', validationCount: 3 })).toThrow(/validationCount is only for kind 'loco'/);
    expect(() => generateSyntheticCategory({ kind: 'x' as 'ad' })).toThrow(/kind must be 'ad' or 'loco'/);
    expect(() => generateSyntheticCategory({ kind: 'ad', size: 8 })).toThrow(/size must be an integer >= 32/);
    expect(() => generateSyntheticCategory({ kind: 'ad', trainCount: -1 })).toThrow(/trainCount must be a non-negative integer/);
  });

  it('prints the generation speed (100 train + 100 test at 256x256)', () => {
    for (const kind of ['ad', 'loco'] as const) {
      const t0 = performance.now();
      const cat = generateSyntheticCategory({ kind, trainCount: 100, testCount: 100, validationCount: 0, size: 256 });
      const seconds = (performance.now() - t0) / 1000;
      console.log(`[speed] ${kind}: ${cat.train.length + cat.test.length} images 256x256 in memory in ${seconds.toFixed(2)} s`);
      expect(cat.test).toHaveLength(100);
    }
  });
});
