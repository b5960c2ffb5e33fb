// Renders a contact sheet of the real-photo categories: for each category, a row of images (two normal,
// then one per defect) and below it the same images with their masks overlaid in red.
// Usage (after `npx tsc -p tsconfig.build.json`): node scripts/real-photo-sheet.mjs [out.png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng, resizeRgb, REAL_PHOTO_CATEGORY_NAMES, REAL_PHOTO_CATEGORIES, renderRealPhotoImage, realPhotoTestPlan, loadRealPhotoSources } from '../dist/node.js';
import { drawText, GLYPH_HEIGHT } from './tiny-font.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, '../../../docs/images/real-photo-contact-sheet.png'));
const TILE = 112;
const GAP = 6;
const LABEL = 2 * GLYPH_HEIGHT + 8;

function overlay(image, masks) {
  const data = image.data.slice();
  for (const m of masks) {
    for (let i = 0; i < m.data.length; i++) {
      if (m.data[i] === 0) continue;
      data[3 * i] = Math.round(data[3 * i] * 0.35 + 255 * 0.65);
      data[3 * i + 1] = Math.round(data[3 * i + 1] * 0.35);
      data[3 * i + 2] = Math.round(data[3 * i + 2] * 0.35);
    }
  }
  return { width: image.width, height: image.height, data };
}

const sources = await loadRealPhotoSources();
const rows = [];
const started = performance.now();
for (const category of REAL_PHOTO_CATEGORY_NAMES) {
  const kind = REAL_PHOTO_CATEGORIES[category].kind;
  const opts = { category, seed: 7 };
  const cols = [0, 1].map((i) => ({ ...renderRealPhotoImage(opts, sources, 'train', i), label: i === 0 ? category.split('-').pop() : 'good' }));
  const seen = new Set();
  for (let i = 0; i < 60; i++) {
    const plan = realPhotoTestPlan(kind, i);
    if (!plan.defect || seen.has(plan.defect)) continue;
    seen.add(plan.defect);
    cols.push({ ...renderRealPhotoImage(opts, sources, 'test', i, plan.defect), label: plan.defect.replace('_coins', '').replace('_coin', '') });
  }
  rows.push({ tiles: cols.map((c) => c.image), labels: cols.map((c) => c.label) });
  rows.push({ tiles: cols.map((c) => overlay(c.image, c.masks)), labels: cols.map((_, i) => (i === 0 ? 'masks in red' : '')) });
}
const ncols = Math.max(...rows.map((r) => r.tiles.length));
const width = ncols * TILE + (ncols + 1) * GAP;
const rowHeight = LABEL + TILE + GAP;
const height = rows.length * rowHeight + GAP + (rows.length / 2 - 1) * GAP * 2;
const sheet = new Uint8Array(width * height * 3).fill(255);
rows.forEach((row, r) => {
  const top = GAP + r * rowHeight + Math.floor(r / 2) * GAP * 2;
  const y0 = top + LABEL;
  row.tiles.forEach((img, c) => {
    drawText(sheet, width, row.labels[c], GAP + c * (TILE + GAP), top + 3, 2, [30, 30, 30]);
    const tile = resizeRgb(img, TILE, TILE);
    const x0 = GAP + c * (TILE + GAP);
    for (let y = 0; y < TILE; y++) sheet.set(tile.data.subarray(y * TILE * 3, (y + 1) * TILE * 3), ((y0 + y) * width + x0) * 3);
  });
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, encodePng({ width, height, data: sheet }, { level: 9 }));
console.log(`wrote ${out} (${width}x${height}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
