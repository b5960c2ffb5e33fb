// Renders a contact sheet of the synthetic generator: for each kind, a row of images (two normal, then one
// per defect) and below it the same images with their masks overlaid in red.
// Usage (after `npx tsc -p tsconfig.build.json`): node scripts/contact-sheet.mjs [out.png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng, generateSyntheticCategory, resizeRgb } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? resolve(here, '../../../docs/images/synthetic-contact-sheet.png'));
const TILE = 176;
const GAP = 6;

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
  const columns = cat.train.map((image) => ({ image, masks: [] }));
  const seen = new Set();
  for (const t of cat.test) {
    const key = t.defectNames.join('+');
    if (t.defectType === 'good' || seen.has(key)) continue;
    seen.add(key);
    columns.push({ image: t.image, masks: t.masks });
  }
  return columns;
}

const rows = [];
for (const kind of ['ad', 'loco']) {
  const cols = pickColumns(kind);
  rows.push(cols.map((c) => c.image));
  rows.push(cols.map((c) => overlay(c.image, c.masks)));
}
const ncols = Math.max(...rows.map((r) => r.length));
const width = ncols * TILE + (ncols + 1) * GAP;
const height = rows.length * TILE + (rows.length + 1) * GAP + GAP * 2;
const sheet = new Uint8Array(width * height * 3).fill(255);
rows.forEach((row, r) => {
  // An extra gap between the two kinds.
  const y0 = GAP + r * (TILE + GAP) + (r >= 2 ? GAP * 2 : 0);
  row.forEach((img, c) => {
    const tile = resizeRgb(img, TILE, TILE);
    const x0 = GAP + c * (TILE + GAP);
    for (let y = 0; y < TILE; y++) sheet.set(tile.data.subarray(y * TILE * 3, (y + 1) * TILE * 3), ((y0 + y) * width + x0) * 3);
  });
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, encodePng({ width, height, data: sheet }, { level: 9 }));
console.log(`wrote ${out} (${width}x${height})`);
