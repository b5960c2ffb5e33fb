// Renders a contact sheet of the synthetic generator: for each kind, a row of images (two normal, then one
// per defect) and below it the same images with their masks overlaid in red.
// Usage (after `npx tsc -p tsconfig.build.json`): node scripts/contact-sheet.mjs [out.png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng, generateSyntheticCategory, resizeRgb } from '../dist/index.js';
import { drawText, GLYPH_ADVANCE, GLYPH_HEIGHT } from './tiny-font.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, '../../../docs/images/synthetic-contact-sheet.png'));
const TILE = 156; // fits a 13-character label at font scale 2
const GAP = 6;
const LABEL = 2 * GLYPH_HEIGHT + 8; // label strip above each image row

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

function pickColumns(kind) {
  const cat = generateSyntheticCategory({ kind, seed: 7, trainCount: 2, testCount: 24, validationCount: 0 });
  const columns = cat.train.map((image) => ({ image, masks: [], label: 'good' }));
  const seen = new Set();
  for (const t of cat.test) {
    const key = t.defectNames.join('+');
    if (t.defectType === 'good' || seen.has(key)) continue;
    seen.add(key);
    columns.push({ image: t.image, masks: t.masks, label: kind === 'ad' ? t.defectType : t.defectNames[0].replace('_component', '') });
  }
  return columns;
}

const rows = [];
for (const kind of ['ad', 'loco']) {
  const cols = pickColumns(kind);
  rows.push({ tiles: cols.map((c) => c.image), labels: cols.map((c, i) => (i === 0 ? `${kind} ${c.label}` : c.label)) });
  rows.push({ tiles: cols.map((c) => overlay(c.image, c.masks)), labels: cols.map((_, i) => (i === 0 ? 'masks in red' : '')) });
}
const ncols = Math.max(...rows.map((r) => r.tiles.length));
const width = ncols * TILE + (ncols + 1) * GAP;
const rowHeight = LABEL + TILE + GAP;
const height = rows.length * rowHeight + GAP + GAP * 2;
const sheet = new Uint8Array(width * height * 3).fill(255);
rows.forEach((row, r) => {
  // An extra gap between the two kinds.
  const top = GAP + r * rowHeight + (r >= 2 ? GAP * 2 : 0);
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
console.log(`wrote ${out} (${width}x${height})`);
