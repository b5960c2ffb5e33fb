// Node side of the real-photo generator: loads the photos shipped in assets/real-photos/ and writes
// categories to disk in the MVTec AD (texture) or MVTec LOCO AD (objects) layout.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeImage } from './decode-image.js';
import type { GrayImage } from './image-types.js';
import { decodePng } from './png-decode.js';
import { writeCategoryEntries } from './synthetic-writer.js';
import { iterateRealPhotoCategory, realPhotoDefectsConfig, resolveRealPhotoOptions } from './real-photo.js';
import type { CoinCutout, RealPhotoOptions, RealPhotoSources } from './real-photo-types.js';

/** The folder of the shipped photos (assets/real-photos/ of @thfr/data; the same from src/ and dist/). */
export const REAL_PHOTO_ASSETS_DIR = fileURLToPath(new URL('../assets/real-photos/', import.meta.url));

const PHOTO_NAMES = ['gravel', 'brick', 'ihc', 'moon', 'coffee', 'chelsea', 'hubble'] as const;
const loaded = new Map<string, Promise<RealPhotoSources>>();

async function readAsset(dir: string, name: string): Promise<Uint8Array> {
  const path = join(dir, name);
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`real-photo generator: cannot read ${path} (${(e as Error).message}); regenerate with fixtures/make_real_photos.py`);
  }
}

async function loadSources(dir: string): Promise<RealPhotoSources> {
  const photos: RealPhotoSources['photos'] = {};
  for (const name of PHOTO_NAMES) photos[name] = decodeImage(await readAsset(dir, `${name}.png`), join(dir, `${name}.png`));
  const coinsPng = decodePng(await readAsset(dir, 'coins.png'), join(dir, 'coins.png'));
  if (coinsPng.channels !== 2) throw new Error(`real-photo generator: ${join(dir, 'coins.png')} must be gray + alpha`);
  const n = coinsPng.width * coinsPng.height;
  const gray: GrayImage = { width: coinsPng.width, height: coinsPng.height, data: new Uint8Array(n) };
  const alpha: GrayImage = { width: coinsPng.width, height: coinsPng.height, data: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    gray.data[i] = coinsPng.data[2 * i];
    alpha.data[i] = coinsPng.data[2 * i + 1];
  }
  const cutouts = JSON.parse(new TextDecoder().decode(await readAsset(dir, 'coins.json'))) as CoinCutout[];
  return { photos, coins: { gray, alpha, cutouts } };
}

/** Loads (once per folder) the photos the real-photo categories are made of. */
export function loadRealPhotoSources(dir: string = REAL_PHOTO_ASSETS_DIR): Promise<RealPhotoSources> {
  const key = resolve(dir);
  let p = loaded.get(key);
  if (!p) {
    p = loadSources(key);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}

/**
 * Generates a real-photo category and writes it under `<dir>/<name>/`; returns that folder. Texture categories
 * use the MVTec AD layout (masks `ground_truth/<defect>/<n>_mask.png`, 0/255); object categories the MVTec
 * LOCO AD layout (`ground_truth/<type>/<n>/000.png, ...` with the defects' pixel values, and defects_config.json).
 * Reads what loadCategory reads.
 */
export async function writeRealPhotoCategory(dir: string, opts: RealPhotoOptions, sources?: RealPhotoSources): Promise<string> {
  const o = resolveRealPhotoOptions(opts);
  const src = sources ?? (await loadRealPhotoSources());
  const root = resolve(dir, o.name);
  await writeCategoryEntries(root, iterateRealPhotoCategory(o, src), o.spec.kind === 'texture' ? 'ad' : 'loco', realPhotoDefectsConfig(o.category));
  return root;
}
