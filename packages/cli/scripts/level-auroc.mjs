// Diagnostic: image AUROC (overall and per defect type) of a trained THFR / RD4AD model's anomaly map when it is made
// of some of its levels only, blurred with another sigma, or scored by the mean of its top 1 % instead of its max.
// It says which level sees which defect; it is not a way to pick a map on the test set.
//   node packages/cli/scripts/level-auroc.mjs MODEL_DIR CATEGORY_DIR      (after `pnpm build`)
import { setupRuntime } from '../dist/runtime.js';
import { openModel } from '../dist/open-model.js';
import { loadCategory } from '@thfr/data/node';
import { imageAuroc } from '@thfr/metrics';
import { gaussianBlur } from '@thfr/postprocess';
import { tf } from '@thfr/tensor';
const [modelDir, dataDir] = process.argv.slice(2);
const out = { line: console.log, note: () => {}, result: () => {} };
await setupRuntime('wasm', out);
const { detector: wrapper } = await openModel(modelDir);
const detector = wrapper.model;
const data = await loadCategory(dataDir);
const captured = [];
const orig = detector.predictTensors.bind(detector);
detector.predictTensors = async (batch, o) => { const r = await orig(batch, o); captured.push(r.levelMaps.map((m) => tf.clone(m))); return r; };
await detector.predict(data.test.map((r) => r.image), { batchSize: 4 });
const levels = captured[0].length;
const byLevel = Array.from({ length: levels }, (_, l) => tf.concat(captured.map((c) => c[l]), 0));
const labels = data.test.map((r) => r.label);
const defects = [...new Set(data.test.filter((r) => r.label === 1).map((r) => r.defectType))];
const combos = [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2]];
for (const sigma of [2, 4, 8]) for (const combo of combos) {
  const summed = tf.tidy(() => gaussianBlur(tf.addN(combo.map((l) => byLevel[l])), sigma, 'probe'));
  for (const mode of ['max', 'top1%']) {
    const scores = await tf.tidy(() => {
      if (mode === 'max') return tf.max(summed, [1, 2]);
      const flat = tf.reshape(summed, [summed.shape[0], -1]);
      const k = Math.ceil(flat.shape[1] * 0.01);
      return tf.mean(tf.topk(flat, k).values, 1);
    }).array();
    const per = defects.map((d) => {
      const idx = data.test.map((r, i) => (r.label === 0 || r.defectType === d ? i : -1)).filter((i) => i >= 0);
      return `${d} ${(100 * imageAuroc(idx.map((i) => scores[i]), idx.map((i) => labels[i]))).toFixed(0)}`;
    });
    console.log(`sigma ${sigma} levels ${combo.join('+')} ${mode}: image AUROC ${(100 * imageAuroc(scores, labels)).toFixed(1)} | ${per.join(', ')}`);
  }
  summed.dispose();
}
