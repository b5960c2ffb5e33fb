import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REAL_LOCO_DEFECTS_CONFIG,
  REAL_LOCO_LOGICAL_DEFECTS,
  REAL_LOCO_STRUCTURAL_DEFECTS,
  REAL_PHOTO_CATEGORIES,
  REAL_PHOTO_CATEGORY_NAMES,
  REAL_TEXTURE_DEFECT_TYPES,
  generateRealPhotoCategory,
  loadCategory,
  loadRealPhotoSources,
  realPhotoTestPlan,
  renderRealPhotoImage,
  writeRealPhotoCategory,
  type RealPhotoSources,
  type SyntheticCategory,
} from '../src/node.js';

let sources: RealPhotoSources;
let tmp: string;
beforeAll(async () => {
  sources = await loadRealPhotoSources();
  tmp = await mkdtemp(join(tmpdir(), 'thfr-real-photo-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const TEXTURES = REAL_PHOTO_CATEGORY_NAMES.filter((n) => REAL_PHOTO_CATEGORIES[n].kind === 'texture');
const LOCOS = REAL_PHOTO_CATEGORY_NAMES.filter((n) => REAL_PHOTO_CATEGORIES[n].kind === 'loco');

function digest(cat: SyntheticCategory): string {
  const h = createHash('sha256');
  for (const img of [...cat.train, ...cat.validation, ...cat.test.flatMap((t) => [t.image, ...t.masks])]) h.update(img.data);
  return h.digest('hex');
}

async function treeDigest(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(root, p)] = createHash('sha256').update(await readFile(p)).digest('hex');
    }
  };
  await walk(root);
  return out;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** The union of the masks, grown by `radius` pixels (a square neighbourhood). */
function grownMask(masks: { width: number; height: number; data: Uint8Array }[], width: number, height: number, radius: number): Uint8Array {
  const union = new Uint8Array(width * height);
  for (const m of masks) for (let i = 0; i < union.length; i++) if (m.data[i]) union[i] = 1;
  if (radius === 0) return union;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!union[y * width + x]) continue;
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx >= 0 && yy >= 0 && xx < width && yy < height) out[yy * width + xx] = 1;
        }
      }
    }
  }
  return out;
}

describe('real-photo categories', () => {
  it('ships the photos it needs, with their origin and licence', async () => {
    expect(Object.keys(sources.photos).sort()).toEqual(['brick', 'chelsea', 'coffee', 'gravel', 'hubble', 'ihc', 'moon']);
    expect(sources.coins.cutouts.length).toBeGreaterThanOrEqual(6);
    const readme = await readFile(join(import.meta.dirname, '..', 'assets', 'real-photos', 'README.md'), 'utf8');
    for (const f of ['gravel', 'brick', 'ihc', 'moon', 'coffee', 'chelsea', 'hubble', 'coins']) expect(readme).toContain(`${f}.png`);
    expect(readme).toMatch(/CC0/);
  });

  for (const category of REAL_PHOTO_CATEGORY_NAMES) {
    it(`${category}: same seed gives identical bytes, another seed differs, normal images vary but stay alike`, () => {
      const opts = { category, seed: 3, trainCount: 3, testCount: 9, validationCount: 0, size: 64 };
      const a = generateRealPhotoCategory(opts, sources);
      const b = generateRealPhotoCategory(opts, sources);
      const c = generateRealPhotoCategory({ ...opts, seed: 4 }, sources);
      expect(digest(a)).toBe(digest(b));
      expect(meanAbsDiff(a.train[0].data, c.train[0].data)).toBeGreaterThan(1);
      const d = meanAbsDiff(a.train[0].data, a.train[1].data);
      expect(d).toBeGreaterThan(1);
      expect(d).toBeLessThan(80);
      // Changing the test count leaves the training images alone.
      const e = generateRealPhotoCategory({ ...opts, testCount: 2 }, sources);
      expect(e.train.map((t) => [...t.data])).toEqual(a.train.map((t) => [...t.data]));
    });

    it(`${category}: every defect's mask covers the pixels it changed`, () => {
      const spec = REAL_PHOTO_CATEGORIES[category];
      const size = 128;
      const opts = { category, seed: 5, size };
      const defects = spec.kind === 'texture' ? REAL_TEXTURE_DEFECT_TYPES : [...REAL_LOCO_LOGICAL_DEFECTS, ...REAL_LOCO_STRUCTURAL_DEFECTS];
      for (const defect of defects) {
        for (let index = 1; index <= 10; index += 3) {
          const clean = renderRealPhotoImage(opts, sources, 'test', index).image;
          const bad = renderRealPhotoImage(opts, sources, 'test', index, defect);
          expect(bad.masks.length, `${defect} #${index}`).toBeGreaterThan(0);
          expect(bad.defectNames.every((n) => n === defect)).toBe(true);
          const inside = grownMask(bad.masks, size, size, 0);
          // LOCO: a moved or missing coin also moves its soft shadow, a few pixels beyond the coin.
          const near = grownMask(bad.masks, size, size, spec.kind === 'loco' ? 4 : 1);
          let changed = 0;
          let changedOutside = 0;
          let maskPixels = 0;
          let maskChanged = 0;
          for (let p = 0; p < size * size; p++) {
            const diff = Math.max(...[0, 1, 2].map((c) => Math.abs(bad.image.data[3 * p + c] - clean.data[3 * p + c])));
            const isChanged = diff > 12;
            if (isChanged) changed++;
            if (isChanged && !near[p]) changedOutside++;
            if (inside[p]) {
              maskPixels++;
              if (diff > 6) maskChanged++;
            }
          }
          const what = `${category} ${defect} #${index}: ${changed} changed, ${changedOutside} outside, ${maskChanged}/${maskPixels} of the mask changed`;
          expect(maskPixels, what).toBeGreaterThan(4);
          expect(changed, what).toBeGreaterThan(0);
          expect(changedOutside, what).toBe(0);
          // Blur leaves flat parts unchanged, and a stain on light parts may barely move them: a loose bound there.
          const minShare = defect === 'blur' ? 0.1 : defect === 'stain' ? 0.3 : 0.5;
          expect(maskChanged / maskPixels, what).toBeGreaterThan(minShare);
        }
      }
    });
  }

  for (const category of TEXTURES) {
    it(`${category}: written in the MVTec AD layout, byte-identical twice, and loadCategory reads it`, async () => {
      const opts = { category, seed: 1, trainCount: 4, testCount: 12, size: 64 };
      const root = await writeRealPhotoCategory(join(tmp, 'a'), opts);
      const again = await writeRealPhotoCategory(join(tmp, 'b'), opts);
      expect(await treeDigest(again)).toEqual(await treeDigest(root));
      const data = await loadCategory(root);
      expect(data.layout).toBe('mvtec-ad');
      expect(data.name).toBe(category);
      expect(data.train).toHaveLength(4);
      expect(data.test).toHaveLength(12);
      const types = new Set(data.test.map((t) => t.defectType));
      expect([...types].sort()).toEqual(['good', ...REAL_TEXTURE_DEFECT_TYPES].sort());
      const generated = generateRealPhotoCategory(opts, sources);
      for (const t of data.test) {
        expect(t.label).toBe(t.defectType === 'good' ? 0 : 1);
        expect(t.masks).toHaveLength(t.label);
        for (const m of t.masks) expect(new Set(m.data)).toEqual(new Set([0, 255]));
      }
      // The files hold exactly the generated pixels (PNG is lossless).
      expect([...data.train[2].image.data]).toEqual([...generated.train[2].data]);
    });
  }

  for (const category of LOCOS) {
    it(`${category}: written in the MVTec LOCO AD layout with a defects_config.json that matches the masks`, async () => {
      const opts = { category, seed: 2, trainCount: 3, validationCount: 2, testCount: 24, size: 64 };
      const root = await writeRealPhotoCategory(tmp, opts);
      const config = JSON.parse(await readFile(join(root, 'defects_config.json'), 'utf8'));
      expect(config).toEqual(REAL_LOCO_DEFECTS_CONFIG);
      const data = await loadCategory(root);
      expect(data.layout).toBe('mvtec-loco');
      expect(data.train).toHaveLength(3);
      expect(data.validation).toHaveLength(2);
      expect(data.test).toHaveLength(24);
      expect(data.defectsConfig).toEqual(REAL_LOCO_DEFECTS_CONFIG);
      const valueOf = new Map(REAL_LOCO_DEFECTS_CONFIG.map((d) => [d.defect_name, d.pixel_value]));
      const logicalValues = new Set(REAL_LOCO_LOGICAL_DEFECTS.map((d) => valueOf.get(d)));
      const structuralValues = new Set(REAL_LOCO_STRUCTURAL_DEFECTS.map((d) => valueOf.get(d)));
      const seen = new Set<number>();
      const perFolder = new Map<string, number>();
      for (let i = 0; i < opts.testCount; i++) {
        const plan = realPhotoTestPlan('loco', i);
        const n = perFolder.get(plan.defectType) ?? 0;
        perFolder.set(plan.defectType, n + 1);
        const rec = data.test.find((t) => t.relativePath === `test/${plan.defectType}/${String(n).padStart(3, '0')}.png`)!;
        expect(rec, `test image ${i}`).toBeDefined();
        if (!plan.defect) {
          expect(rec.label).toBe(0);
          continue;
        }
        expect(rec.anomalyKind).toBe(plan.defectType === 'logical_anomalies' ? 'logical' : 'structural');
        expect(rec.masks.length).toBeGreaterThan(0);
        for (const m of rec.masks) {
          // Each mask holds 0 and exactly the pixel value of its defect from defects_config.json.
          const values = [...new Set(m.data)].sort((a, b) => a - b);
          expect(values, `${plan.defect} #${i}`).toEqual([0, valueOf.get(plan.defect)]);
          seen.add(values[1]);
          expect((rec.anomalyKind === 'logical' ? logicalValues : structuralValues).has(values[1])).toBe(true);
        }
        if (plan.defect === 'misplaced_coin' || plan.defect === 'swapped_coins') expect(rec.masks).toHaveLength(2);
      }
      // Every defect of defects_config.json occurs in 24 test images.
      expect([...seen].sort()).toEqual(REAL_LOCO_DEFECTS_CONFIG.map((d) => d.pixel_value).sort());
    });
  }

  it('rejects unknown categories and a validation count for texture categories', () => {
    expect(() => generateRealPhotoCategory({ category: 'real-nope' }, sources)).toThrow(/unknown category "real-nope" \(choose from real-texture-gravel/);
    expect(() => generateRealPhotoCategory({ category: 'real-texture-gravel', validationCount: 3 }, sources)).toThrow(/validationCount is only for LOCO/);
  });
});
