#!/usr/bin/env node
// Merges the compare.json of several `thfr compare --seed N` runs into one markdown table of mean ± std
// (population std over the seeds) per category and method, with the number of seeds behind each row.
// Usage: node scripts/aggregate-compare.mjs [--rename 'FROM=TO' ...] runs/compare-s0/compare.json ... > table.md
// --rename merges rows whose method label is FROM into TO (e.g. the same configuration under two labels).
import { readFileSync } from 'node:fs';

const files = [];
const renames = new Map();
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--rename') {
    const [from, to] = (process.argv[++i] ?? '').split('=');
    if (!from || !to) throw new Error(`--rename takes 'FROM=TO', got '${process.argv[i]}'`);
    renames.set(from, to);
  } else files.push(process.argv[i]);
}
if (files.length === 0) {
  console.error("usage: node scripts/aggregate-compare.mjs [--rename 'FROM=TO' ...] COMPARE_JSON...");
  process.exit(2);
}
const groups = new Map();
for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(run.rows)) throw new Error(`${file}: no 'rows' array (not a compare.json)`);
  for (const row of run.rows) {
    const method = renames.get(row.method) ?? row.method;
    const key = `${row.category}\u0000${method}`;
    if (!groups.has(key)) groups.set(key, { category: row.category, method, rows: [] });
    groups.get(key).rows.push(row);
  }
}
const stat = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length === 0) return '–';
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  return v.length > 1 ? `${(100 * mean).toFixed(1)} ± ${(100 * std).toFixed(1)}` : (100 * mean).toFixed(1);
};
const lines = [
  '| Category | Method | seeds | Image AUROC | Pixel AUROC | PRO | sPRO (LOCO) | sPRO logical / structural | Train s |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
];
for (const g of groups.values()) {
  const col = (name) => stat(g.rows.map((r) => r[name]));
  const train = g.rows.map((r) => r.trainSeconds).reduce((a, b) => a + b, 0) / g.rows.length;
  const sproSplit = g.rows[0].sproLogical == null ? '–' : `${col('sproLogical')} / ${col('sproStructural')}`;
  lines.push(`| ${g.category} | ${g.method} | ${g.rows.length} | ${col('imageAuroc')} | ${col('pixelAuroc')} | ${col('pro')} | ${col('spro')} | ${sproSplit} | ${train.toFixed(0)} |`);
}
console.log(lines.join('\n'));
