// writeSyntheticCategory: writes a synthetic category to disk in the MVTec AD or MVTec LOCO AD layout (Node only).
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodePng } from './png-encode.js';
import { iterateSyntheticCategory, resolveSyntheticOptions } from './synthetic.js';
import { LOCO_DEFECTS_CONFIG } from './synthetic-loco.js';
import type { SyntheticOptions } from './synthetic-types.js';
import type { GrayImage, RgbImage } from './image-types.js';

function pad3(i: number): string {
  return String(i).padStart(3, '0');
}

/** One generated image with its split, defect folder and masks (what the category generators yield). */
export interface CategoryEntry {
  split: string;
  defectType: string;
  image: RgbImage;
  masks: GrayImage[];
}

/**
 * Writes generated entries under `root` in the MVTec AD layout (`'ad'`: masks `ground_truth/<defect>/<n>_mask.png`,
 * 0/255) or the MVTec LOCO AD layout (`'loco'`: `ground_truth/<type>/<n>/000.png, ...` and `defectsConfig` as
 * defects_config.json). Images are numbered per folder (000.png, 001.png, ...). Shared by every generator.
 */
export async function writeCategoryEntries(root: string, entries: Iterable<CategoryEntry>, layout: 'ad' | 'loco', defectsConfig?: unknown): Promise<void> {
  const made = new Set<string>();
  const ensureDir = async (d: string) => {
    if (made.has(d)) return;
    await mkdir(d, { recursive: true });
    made.add(d);
  };
  // Level 1 deflate: these noisy textures barely compress better at higher levels, and writing stays fast.
  const png = (img: Parameters<typeof encodePng>[0]) => encodePng(img, { level: 1 });
  const perFolder = new Map<string, number>();
  await ensureDir(join(root, 'train', 'good'));
  for (const e of entries) {
    const folder = e.split === 'test' ? join('test', e.defectType) : join(e.split, 'good');
    const n = perFolder.get(folder) ?? 0;
    perFolder.set(folder, n + 1);
    await ensureDir(join(root, folder));
    await writeFile(join(root, folder, `${pad3(n)}.png`), png(e.image));
    if (e.masks.length === 0) continue;
    if (layout === 'ad') {
      const gtDir = join(root, 'ground_truth', e.defectType);
      await ensureDir(gtDir);
      await writeFile(join(gtDir, `${pad3(n)}_mask.png`), png(e.masks[0]));
    } else {
      const gtDir = join(root, 'ground_truth', e.defectType, pad3(n));
      await ensureDir(gtDir);
      for (let k = 0; k < e.masks.length; k++) await writeFile(join(gtDir, `${pad3(k)}.png`), png(e.masks[k]));
    }
  }
  if (defectsConfig !== undefined) await writeFile(join(root, 'defects_config.json'), JSON.stringify(defectsConfig, null, 2) + '\n');
}

/**
 * Generates a category and writes it under `<dir>/<name>/`; returns that category folder.
 * Images are numbered per folder (000.png, 001.png, ...). AD masks are `ground_truth/<defect>/<n>_mask.png`
 * (0/255); LOCO masks are `ground_truth/<type>/<n>/000.png, 001.png, ...` plus `defects_config.json`.
 */
export async function writeSyntheticCategory(dir: string, opts: SyntheticOptions): Promise<string> {
  const o = resolveSyntheticOptions(opts);
  const root = resolve(dir, o.name);
  await writeCategoryEntries(root, iterateSyntheticCategory(o), o.kind, o.kind === 'loco' ? LOCO_DEFECTS_CONFIG : undefined);
  return root;
}
