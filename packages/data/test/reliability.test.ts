// Reliability of the data loaders: symlinked images and folders are followed, broken links are named,
// and oversized images are refused from their header before any decoding.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_IMAGE_PIXELS, checkImagePixels, decodeImage, decodeMask, decodePng, encodePng, readImageDimensions } from '../src/index.js';
import { loadCategory, readImageFile, writeSyntheticCategory } from '../src/node.js';
import jpeg from 'jpeg-js';

let tmp: string;
let root: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'thfr-data-rel-'));
  root = await writeSyntheticCategory(join(tmp, 'real'), { kind: 'ad', seed: 3, trainCount: 6, testCount: 4, size: 32, name: 'cat' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A category whose train images and one defect folder are symlinks into `root`. */
function linkedCategory(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'train', 'good'), { recursive: true });
  for (const f of readdirSync(join(root, 'train', 'good'))) symlinkSync(join(root, 'train', 'good', f), join(dir, 'train', 'good', f));
  symlinkSync(join(root, 'test'), join(dir, 'test'));
  symlinkSync(join(root, 'ground_truth'), join(dir, 'ground_truth'));
  return dir;
}

/** A PNG whose IHDR declares width x height (no pixel data: the header is checked first). */
function pngHeader(width: number, height: number): Uint8Array {
  const small = encodePng({ width: 1, height: 1, data: new Uint8Array(3), channels: 3 });
  const bytes = small.slice();
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

describe('symlinks', () => {
  it('symlinked images and folders are loaded like real ones', async () => {
    const direct = await loadCategory(root);
    const linked = await loadCategory(linkedCategory('linked'));
    expect(linked.train).toHaveLength(6);
    expect(linked.test.map((t) => t.relativePath)).toEqual(direct.test.map((t) => t.relativePath));
    expect(linked.test.map((t) => t.masks.length)).toEqual(direct.test.map((t) => t.masks.length));
    expect(Array.from(linked.train[2].image.data)).toEqual(Array.from(direct.train[2].image.data));
  });

  it('a dangling link and a loop of links are errors naming the link', async () => {
    const dangling = linkedCategory('dangling');
    symlinkSync(join(tmp, 'nowhere.png'), join(dangling, 'train', 'good', '999.png'));
    await expect(loadCategory(dangling)).rejects.toThrow(`Dangling symlink: ${join(dangling, 'train', 'good', '999.png')} -> ${join(tmp, 'nowhere.png')} (the target does not exist)`);
    const loop = linkedCategory('loop');
    symlinkSync(join(loop, 'train', 'good', 'b.png'), join(loop, 'train', 'good', 'a.png'));
    symlinkSync(join(loop, 'train', 'good', 'a.png'), join(loop, 'train', 'good', 'b.png'));
    // a.png and b.png point at each other; files load concurrently, so either may be the one named first.
    const good = join(loop, 'train', 'good').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await expect(loadCategory(loop)).rejects.toThrow(new RegExp(`^Symlink loop: ${good}/(a|b)\\.png -> ${good}/(a|b)\\.png never reaches a file or folder`));
    const folder = join(tmp, 'folder-link');
    mkdirSync(folder);
    symlinkSync(join(tmp, 'gone'), join(folder, 'train'));
    await expect(loadCategory(folder)).rejects.toThrow(/not an MVTec category|Dangling symlink/);
    const goodLink = join(tmp, 'good-link');
    mkdirSync(join(goodLink, 'train'), { recursive: true });
    symlinkSync(join(tmp, 'gone'), join(goodLink, 'train', 'good'));
    await expect(loadCategory(goodLink)).rejects.toThrow(`Dangling symlink: ${join(goodLink, 'train', 'good')}`);
    const defect = linkedCategory('defect-link');
    rmSync(join(defect, 'test'));
    mkdirSync(join(defect, 'test'));
    symlinkSync(join(tmp, 'gone'), join(defect, 'test', 'scratch'));
    await expect(loadCategory(defect)).rejects.toThrow(`Dangling symlink: ${join(defect, 'test', 'scratch')}`);
  });
});

describe('image size limit', () => {
  it('reads the size from PNG and JPEG headers', () => {
    expect(readImageDimensions(pngHeader(20000, 20000))).toEqual({ format: 'png', width: 20000, height: 20000 });
    const jpg = jpeg.encode({ width: 40, height: 24, data: new Uint8Array(40 * 24 * 4) }, 80).data;
    expect(readImageDimensions(new Uint8Array(jpg))).toEqual({ format: 'jpeg', width: 40, height: 24 });
    expect(readImageDimensions(new Uint8Array([1, 2, 3]))).toBeUndefined();
  });

  it('a huge header is refused before decoding, naming the file, the size and the way to raise the limit', async () => {
    expect(DEFAULT_MAX_IMAGE_PIXELS).toBe(268_435_456);
    const huge = pngHeader(20000, 20000);
    const started = performance.now();
    expect(() => decodeImage(huge, 'huge.png')).toThrow(RangeError);
    expect(() => decodeImage(huge, 'huge.png')).toThrow('huge.png: PNG of 20000x20000 = 400000000 pixels exceeds the limit of 268435456 pixels');
    expect(() => decodeMask(huge, 'mask.png')).toThrow(/mask.png: PNG of 20000x20000/);
    expect(() => decodePng(huge, 'direct.png')).toThrow(/direct.png: PNG of 20000x20000/);
    expect(performance.now() - started).toBeLessThan(1000);
    // Below the limit the same header reaches the decoder (which then finds the data does not match).
    expect(() => decodeImage(pngHeader(2, 2), 'small.png')).not.toThrow(RangeError);
    const jpg = new Uint8Array(jpeg.encode({ width: 40, height: 24, data: new Uint8Array(40 * 24 * 4) }, 80).data);
    expect(() => checkImagePixels(jpg, 'photo.jpg', 40 * 24 - 1)).toThrow('photo.jpg: JPEG of 40x24 = 960 pixels exceeds the limit of 959 pixels');
    expect(() => decodeImage(jpg, 'photo.jpg', { maxPixels: 960 })).not.toThrow();
  });

  it('the limit applies to loadCategory and readImageFile, and THFR_MAX_IMAGE_PIXELS changes it', async () => {
    const path = join(root, 'train', 'good', '000.png');
    // Images load concurrently, so the first one refused may be any of the category's: the error names that file.
    const dir = join(root, 'train', 'good');
    await expect(loadCategory(root, { maxImagePixels: 32 * 32 - 1 })).rejects.toThrow(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\d{3}\\.png: PNG of 32x32 = 1024 pixels exceeds the limit of 1023 pixels`));
    await expect(loadCategory(root, { imageSize: 64, maxImagePixels: 64 * 64 - 1 })).rejects.toThrow(/imageSize 64 gives 4096 pixels per image, more than the limit of 4095/);
    process.env.THFR_MAX_IMAGE_PIXELS = '1000';
    try {
      await expect(readImageFile(path)).rejects.toThrow(/exceeds the limit of 1000 pixels/);
      await expect(loadCategory(root)).rejects.toThrow(/exceeds the limit of 1000 pixels/);
      process.env.THFR_MAX_IMAGE_PIXELS = 'lots';
      await expect(readImageFile(path)).rejects.toThrow("THFR_MAX_IMAGE_PIXELS must be a positive integer, got 'lots'");
    } finally {
      delete process.env.THFR_MAX_IMAGE_PIXELS;
    }
    expect((await readImageFile(path)).width).toBe(32);
  });
});

describe('LOCO masks and other bad masks name the file', () => {
  /** A LOCO category and the path of the first mask of its first logical anomaly, with that mask decoded. */
  async function locoWithMask(name: string) {
    const dir = await writeSyntheticCategory(join(tmp, name), { kind: 'loco', seed: 4, trainCount: 2, validationCount: 1, testCount: 4, size: 32, name });
    const maskDir = join(dir, 'ground_truth', 'logical_anomalies', '000');
    const maskPath = join(maskDir, readdirSync(maskDir).sort()[0]);
    const mask = decodeMask(readFileSync(maskPath), maskPath);
    return { dir, maskPath, mask, image: join(dir, 'test', 'logical_anomalies', '000.png'), config: join(dir, 'defects_config.json') };
  }

  it('a LOCO mask whose pixel value is in no defects_config entry, or that holds two values, is named by its path', async () => {
    const { dir, maskPath, mask, image, config } = await locoWithMask('loco-bad-value');
    const data = mask.data.map((v) => (v === 0 ? 0 : 77));
    writeFileSync(maskPath, encodePng({ width: mask.width, height: mask.height, data }));
    const first = data.findIndex((v) => v !== 0);
    const at = `${first % mask.width},${Math.floor(first / mask.width)}`;
    const error = await loadCategory(dir).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toMatch(new RegExp(`^Mask ${escape(maskPath)} \\(of ${escape(image)}\\) has pixel value 77 at ${at}, which matches no defect in ${escape(config)} \\(pixel values: 255 missing_component, 254 extra_component`));
    const two = mask.data.slice();
    const pixels = [...two.keys()].filter((i) => two[i] !== 0);
    two[pixels[pixels.length - 1]] = 251;
    writeFileSync(maskPath, encodePng({ width: mask.width, height: mask.height, data: two }));
    await expect(loadCategory(dir, { imageSize: 16 })).rejects.toThrow(new RegExp(`^Mask ${escape(maskPath)} \\(of ${escape(image)}\\) holds two defect values, ${mask.data[pixels[0]]} and 251 .*one pixel value from ${escape(config)}`));
  });

  it('valid LOCO masks (every value from defects_config) load; a zero-byte or truncated mask is named', async () => {
    const { dir, maskPath } = await locoWithMask('loco-ok');
    const loaded = await loadCategory(dir);
    expect(loaded.test.filter((t) => t.masks.length > 0).length).toBeGreaterThan(0);
    writeFileSync(maskPath, new Uint8Array(0));
    await expect(loadCategory(dir)).rejects.toThrow(`${maskPath}: empty file (expected a PNG or JPEG image)`);
    const ad = join(root, 'ground_truth');
    const adMask = join(ad, readdirSync(ad).sort()[0]);
    const file = join(adMask, readdirSync(adMask).sort()[0]);
    const bytes = readFileSync(file);
    try {
      writeFileSync(file, bytes.subarray(0, 40));
      await expect(loadCategory(root)).rejects.toThrow(`${file}: truncated PNG`);
    } finally {
      writeFileSync(file, bytes);
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
