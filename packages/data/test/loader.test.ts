import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng, generateSyntheticCategory } from '../src/index.js';
import { loadCategory, readImageFile, writeSyntheticCategory, detectLayout } from '../src/node.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'thfr-data-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SIZE = 64;

describe('writeSyntheticCategory + loadCategory', () => {
  it('MVTec AD layout: files, labels, masks, resize and a seeded validation split', async () => {
    const opts = { kind: 'ad' as const, seed: 1, trainCount: 10, testCount: 6, size: SIZE, name: 'disc' };
    const root = await writeSyntheticCategory(join(tmp, 'ad'), opts);
    expect(root).toBe(join(tmp, 'ad', 'disc'));
    expect(readdirSync(join(root, 'ground_truth', 'scratch'))).toEqual(['000_mask.png']);
    expect(await detectLayout(root)).toBe('mvtec-ad');

    let progress = 0;
    const data = await loadCategory(root, { onProgress: (done, total) => (progress = done / total) });
    expect(progress).toBe(1);
    expect(data.layout).toBe('mvtec-ad');
    expect(data.name).toBe('disc');
    expect(data.train.map((r) => r.relativePath)).toEqual(Array.from({ length: 10 }, (_, i) => `train/good/00${i}.png`));
    expect(data.validation).toEqual([]);
    expect(data.defectsConfig).toBeUndefined();
    // The loaded pixels are exactly the generated ones (lossless PNG round trip).
    const mem = generateSyntheticCategory(opts);
    expect(Array.from(data.train[3].image.data)).toEqual(Array.from(mem.train[3].data));
    expect(data.test).toHaveLength(6);
    for (const t of data.test) {
      expect(t.label).toBe(t.defectType === 'good' ? 0 : 1);
      expect(t.masks).toHaveLength(t.label);
      expect(t.anomalyKind).toBeUndefined();
    }
    const scratch = data.test.find((t) => t.defectType === 'scratch')!;
    expect(scratch.maskPaths).toEqual([join(root, 'ground_truth', 'scratch', '000_mask.png')]);
    const memScratch = mem.test.find((t) => t.defectType === 'scratch')!;
    expect(Array.from(scratch.masks[0].data)).toEqual(Array.from(memScratch.masks[0].data));

    const small = await loadCategory(root, { imageSize: 32, validationFraction: 0.3, seed: 5 });
    expect(small.train).toHaveLength(7);
    expect(small.validation).toHaveLength(3);
    expect(small.train[0].image.width).toBe(32);
    expect(small.train[0].originalWidth).toBe(SIZE);
    const anomalous = small.test.find((t) => t.label === 1)!;
    expect([anomalous.masks[0].width, anomalous.masks[0].height]).toEqual([32, 32]);
    expect(new Set(anomalous.masks[0].data)).toEqual(new Set([0, 255]));
    // Same seed, same split; another seed, another split (the union is always the whole train folder).
    const again = await loadCategory(root, { validationFraction: 0.3, seed: 5 });
    expect(again.validation.map((r) => r.relativePath)).toEqual(small.validation.map((r) => r.relativePath));
    const other = await loadCategory(root, { validationFraction: 0.3, seed: 6 });
    expect(other.validation.map((r) => r.relativePath)).not.toEqual(small.validation.map((r) => r.relativePath));
    expect(new Set([...other.train, ...other.validation].map((r) => r.relativePath)).size).toBe(10);
  });

  it('MVTec LOCO layout: validation folder, anomaly kinds, several masks per image, defects_config', async () => {
    const root = await writeSyntheticCategory(join(tmp, 'loco'), { kind: 'loco', seed: 2, trainCount: 3, validationCount: 2, testCount: 15, size: SIZE });
    expect(root.endsWith('synthetic-loco')).toBe(true);
    expect(readdirSync(join(root, 'ground_truth', 'logical_anomalies')).length).toBeGreaterThan(0);
    const data = await loadCategory(root, { validationFraction: 0.5 });
    expect(data.layout).toBe('mvtec-loco');
    expect(data.train).toHaveLength(3);
    expect(data.validation.map((r) => r.relativePath)).toEqual(['validation/good/000.png', 'validation/good/001.png']);
    expect(data.defectsConfig?.map((d) => d.defect_name)).toContain('missing_component');
    const kinds = new Set(data.test.map((t) => t.anomalyKind ?? 'none'));
    expect(kinds).toEqual(new Set(['none', 'logical', 'structural']));
    const misplaced = data.test.filter((t) => t.masks.length === 2);
    expect(misplaced.length).toBeGreaterThan(0);
    expect(misplaced[0].maskPaths.map((p) => p.slice(root.length + 1))).toEqual([
      `ground_truth/logical_anomalies/${misplaced[0].relativePath.slice(-7, -4)}/000.png`,
      `ground_truth/logical_anomalies/${misplaced[0].relativePath.slice(-7, -4)}/001.png`,
    ]);
    const values = new Set(data.defectsConfig!.map((d) => d.pixel_value));
    for (const t of data.test) for (const m of t.masks) expect(values.has(Math.max(...m.data))).toBe(true);
  });

  it('writing is deterministic: same seed -> identical files, other seed -> different', async () => {
    const a = await writeSyntheticCategory(join(tmp, 'det-a'), { kind: 'ad', seed: 7, trainCount: 2, testCount: 3, size: 48 });
    const b = await writeSyntheticCategory(join(tmp, 'det-b'), { kind: 'ad', seed: 7, trainCount: 2, testCount: 3, size: 48 });
    const c = await writeSyntheticCategory(join(tmp, 'det-c'), { kind: 'ad', seed: 8, trainCount: 2, testCount: 3, size: 48 });
    for (const f of ['train/good/001.png', 'test/scratch/000.png', 'ground_truth/scratch/000_mask.png']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
      expect(readFileSync(join(a, f)).equals(readFileSync(join(c, f))), f).toBe(false);
    }
  });
});

describe('broken trees give clear errors naming the file', () => {
  const fresh = async (label: string, kind: 'ad' | 'loco' = 'ad') =>
    writeSyntheticCategory(join(tmp, `broken-${label}`), { kind, seed: 3, trainCount: 2, validationCount: kind === 'loco' ? 1 : 0, testCount: 3, size: 48 });

  it('missing mask of an anomalous AD image', async () => {
    const root = await fresh('mask');
    const mask = join(root, 'ground_truth', 'scratch', '000_mask.png');
    unlinkSync(mask);
    await expect(loadCategory(root)).rejects.toThrow(`Missing mask for anomalous test image ${join(root, 'test', 'scratch', '000.png')}: expected ${mask}`);
  });

  it('missing mask folder of an anomalous LOCO image', async () => {
    const root = await fresh('loco-mask', 'loco');
    rmSync(join(root, 'ground_truth', 'logical_anomalies', '000'), { recursive: true });
    await expect(loadCategory(root)).rejects.toThrow(/Missing mask for anomalous test image .*logical_anomalies[/\\]000\.png: expected a folder of masks/);
  });

  it('corrupt PNG', async () => {
    const root = await fresh('corrupt');
    const file = join(root, 'train', 'good', '001.png');
    const bytes = readFileSync(file);
    bytes[60] ^= 0x5a;
    writeFileSync(file, bytes);
    await expect(loadCategory(root)).rejects.toThrow(`${file}: corrupt PNG`);
  });

  it('truncated PNG and truncated JPEG', async () => {
    const root = await fresh('truncated');
    const file = join(root, 'test', 'good', '000.png');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadCategory(root)).rejects.toThrow(`${file}: truncated PNG`);
    const jpg = join(tmp, 'cut.jpg');
    const photo = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'photo.jpg'));
    writeFileSync(jpg, photo.subarray(0, photo.length - 200));
    await expect(readImageFile(jpg)).rejects.toThrow(`${jpg}: truncated JPEG`);
  });

  it('missing image file and missing category', async () => {
    await expect(readImageFile(join(tmp, 'nope.png'))).rejects.toThrow(`Image not found: ${join(tmp, 'nope.png')}`);
    await expect(loadCategory(join(tmp, 'no-such-category'))).rejects.toThrow(`Category folder not found: ${join(tmp, 'no-such-category')}`);
  });

  it('empty train/good folder and a folder that is not a category', async () => {
    const root = await fresh('empty');
    for (const f of readdirSync(join(root, 'train', 'good'))) unlinkSync(join(root, 'train', 'good', f));
    await expect(loadCategory(root)).rejects.toThrow(`Empty folder: no images (*.png, *.jpg) in ${join(root, 'train', 'good')}`);
    await expect(loadCategory(join(root, 'test'))).rejects.toThrow(/not an MVTec category \(missing folder train\/good\)/);
  });

  it('a mask whose size differs from its image', async () => {
    const root = await fresh('size');
    const mask = join(root, 'ground_truth', 'hole', '000_mask.png');
    writeFileSync(mask, encodePng({ width: 32, height: 48, data: new Uint8Array(32 * 48) }));
    await expect(loadCategory(root)).rejects.toThrow(
      `Mask ${mask} is 32x48 but its image ${join(root, 'test', 'hole', '000.png')} is 48x48`,
    );
  });

  it('a colour mask (unexpected channels) and an invalid defects_config.json', async () => {
    const root = await fresh('channels');
    const mask = join(root, 'ground_truth', 'scratch', '000_mask.png');
    const rgb = new Uint8Array(48 * 48 * 3);
    rgb[0] = 255;
    writeFileSync(mask, encodePng({ width: 48, height: 48, data: rgb }));
    await expect(loadCategory(root)).rejects.toThrow(`${mask}: unexpected mask channels`);
    const loco = await fresh('config', 'loco');
    writeFileSync(join(loco, 'defects_config.json'), '[{"defect_name": 3}]');
    await expect(loadCategory(loco)).rejects.toThrow(/defects_config\.json: entry 0 must have defect_name/);
  });
});
