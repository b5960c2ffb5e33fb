/**
 * Runs the template-distance detector on the synthetic MVTec-AD-like category and prints the official
 * metrics: `pnpm --filter @thfr/example-node start` (after the build that `pnpm install` runs).
 */
import { initRuntime } from '@thfr/runtime-node';
import { loadDefaultBackbone } from '@thfr/backbone/node';
import { generateSyntheticCategory, resizeMask, resizeRgb } from '@thfr/data';
import { imageAuroc, pixelAuroc, proScore } from '@thfr/metrics';
import { TemplateDistanceDetector } from './template-distance-detector.js';

export async function runExample(kind: 'ad' | 'loco' = 'ad', size = 128, trainCount = 30, testCount = 30) {
  const data = generateSyntheticCategory({ kind, seed: 3, trainCount, testCount, size: 256 });
  const backbone = await loadDefaultBackbone();
  const detector = new TemplateDistanceDetector(backbone, { size });
  await detector.fit(data.train.map((im) => resizeRgb(im, size, size)));
  const { scores, maps } = await detector.predict(data.test.map((t) => resizeRgb(t.image, size, size)));
  const labels = data.test.map((t) => (t.defectType === 'good' ? 0 : 1));
  const masks = data.test.map((t) => {
    if (t.defectType === 'good') return null;
    const union = new Uint8Array(size * size);
    for (const m of t.masks) resizeMask(m, size, size).data.forEach((v, i) => { if (v) union[i] = 1; });
    return union;
  });
  const result = {
    imageAuroc: imageAuroc(scores, labels),
    pixelAuroc: pixelAuroc(maps, masks, { width: size, height: size }),
    pro: proScore(maps, masks, { width: size, height: size }).pro,
  };
  detector.dispose();
  backbone.dispose();
  return result;
}

if (/main\.(ts|js)$/.test(process.argv[1] ?? '')) {
  const { backend } = await initRuntime({ prefer: ['wasm'] });
  for (const kind of ['ad', 'loco'] as const) {
    const r = await runExample(kind);
    console.log(`template-distance detector on synthetic ${kind} (${backend}): image AUROC ${(100 * r.imageAuroc).toFixed(1)}, pixel AUROC ${(100 * r.pixelAuroc).toFixed(1)}, PRO ${(100 * r.pro).toFixed(1)}`);
  }
}
