#!/usr/bin/env node
// Checks issue 13's goals on `thfr compare` runs over seeds (compare.json files, e.g. scripts/compare-seeds.sh's):
// per seed, the average over the real-photo texture categories of THFR G-L's image AUROC and PRO; on the LOCO-style
// categories, THFR G-L minus RD4AD and minus PatchCore (image AUROC, sPRO); on the synthetic ones, THFR G-L minus
// PatchCore (image AUROC). Prints mean ± std over the seeds (population std) and how many seeds each figure has.
// Usage: node scripts/benchmark-goals.mjs runs/seeds/main/s*/*/compare.json
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node scripts/benchmark-goals.mjs COMPARE_JSON...');
  process.exit(2);
}
const THFR = 'THFR G-L (bank 100%)';
const bySeed = new Map(); // seed -> rows
for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8'));
  const seed = String(run.config?.seed ?? 0);
  if (!bySeed.has(seed)) bySeed.set(seed, []);
  bySeed.get(seed).push(...run.rows);
}
const find = (rows, category, prefix) => rows.find((r) => r.category === category && r.method.startsWith(prefix));
const stat = (values) => {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return '–';
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return `${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)} (${v.length} seeds)`;
};
const perSeed = (fn) => [...bySeed.values()].map(fn);
const mean = (xs) => (xs.length === 0 || xs.some((x) => !Number.isFinite(x)) ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const categories = (rows, test) => [...new Set(rows.filter(test).map((r) => r.category))];

const textureAverage = (metric) => perSeed((rows) => mean(categories(rows, (r) => r.category.startsWith('real-texture-')).map((c) => find(rows, c, THFR)?.[metric] ?? NaN)));
console.log(`real-photo textures, THFR G-L averaged over the categories: image AUROC ${stat(textureAverage('imageAuroc'))}, PRO ${stat(textureAverage('pro'))} (goal 97.0 / 90.0)`);
const locoCategories = [...new Set([...bySeed.values()].flat().filter((r) => r.layout === 'mvtec-loco').map((r) => r.category))];
for (const c of locoCategories) {
  for (const [other, label] of [['RD4AD', 'RD4AD'], ['PatchCore', 'PatchCore'], ['PaDiM', 'PaDiM']]) {
    const d = (metric) => perSeed((rows) => (find(rows, c, THFR)?.[metric] ?? NaN) - (find(rows, c, other)?.[metric] ?? NaN));
    console.log(`${c}: THFR G-L - ${label}: image AUROC ${stat(d('imageAuroc'))}, sPRO ${stat(d('spro'))}`);
  }
}
for (const c of ['synthetic_ad', 'synthetic_loco']) {
  const d = perSeed((rows) => (find(rows, c, THFR)?.imageAuroc ?? NaN) - (find(rows, c, 'PatchCore')?.imageAuroc ?? NaN));
  console.log(`${c}: THFR G-L - PatchCore image AUROC ${stat(d)} (goal >= -2.0)`);
}
