// Diagnostic: the metrics of a trained THFR / RD4AD model's papers' map, and of that map standardized per position
// with statistics of the training images' maps smoothed with sigma 0, 1, 2 or 4 (how the default's smoothing was
// chosen, docs/benchmark.md, eighth session), and with the mean pooled over the code grid's phases ('texture', the
// ninth session's default on textures). It says how the standardization moves each defect type; it is not a way to
// pick a map on the test set (the ninth session chose on data generated with another seed, docs/benchmark.md).
//   node packages/cli/scripts/map-standardization.mjs MODEL_DIR CATEGORY_DIR      (after `pnpm build`)
import { setupRuntime } from '../dist/runtime.js';
import { openModel } from '../dist/open-model.js';
import { computeMetrics } from '../dist/evaluate.js';
import { loadCategory } from '@thfr/data/node';
import { positionStatistics } from '@thfr/postprocess';
import { codeCellPixels } from '@thfr/restoration';
const [modelDir, dataDir] = process.argv.slice(2);
if (!modelDir || !dataDir) throw new Error('usage: node packages/cli/scripts/map-standardization.mjs MODEL_DIR CATEGORY_DIR');
await setupRuntime('wasm', { line: () => {}, note: () => {}, result: () => {} });
const { detector } = await openModel(modelDir);
const model = detector.model;
const data = await loadCategory(dataDir);
// Training images leave-one-out: none is its own template (THFR), as training measures them.
const train = await model.predict(data.train.map((r) => r.image), { rawMap: true, excludeTemplates: model.ownTemplateIndices?.(data.train.length) });
const test = await model.predict(data.test.map((r) => r.image), { rawMap: true });
const size = test.size;
const report = (name, maps) => {
  const scores = Float32Array.from(maps, (m) => m.reduce((a, v) => (v > a ? v : a), -Infinity));
  const m = computeMetrics(data, { ...test, maps, scores }, 1).metrics;
  const perDefect = Object.entries(m.perDefectImageAuroc).map(([d, v]) => `${d} ${(100 * v).toFixed(0)}`).join(', ');
  const loco = m.loco ? ` sPRO ${(100 * m.loco.sproMean).toFixed(1)}` : '';
  console.log(`${name.padEnd(26)} image AUROC ${(100 * m.imageAuroc).toFixed(1)}, pixel AUROC ${(100 * m.pixelAuroc).toFixed(1)}, PRO ${(100 * m.pro).toFixed(1)}${loco} | ${perDefect}`);
};
report("the papers' map", test.maps);
const standardize = (s) => test.maps.map((map) => Float32Array.from(map, (v, k) => (v - s.mean[k]) / s.std[k]));
for (const smoothSigma of [0, 1, 2, 4]) report(`per-position, sigma ${smoothSigma}`, standardize(await positionStatistics(train.maps, size, size, { smoothSigma })));
const meanPeriod = codeCellPixels(model.levels, size);
report(`texture (mean per ${meanPeriod} px cell)`, standardize(await positionStatistics(train.maps, size, size, { meanPeriod })));
detector.dispose();
