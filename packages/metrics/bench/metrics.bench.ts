// Times each metric on the size of the full MVTec AD test set: 1,725 maps of 256 x 256 = 113 M pixels.
// Run: npx vitest run --config vitest.bench.config.ts   (prints figures; asserts nothing about time)
import { it } from 'vitest';
import { imageAuroc, PixelScores, proScore } from '../src/index.js';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 1725);
const SIDE = 256;

function syntheticTestSet() {
  let state = 0x9e3779b9;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const maps: Float32Array[] = [];
  const masks: Array<Uint8Array | null> = [];
  for (let m = 0; m < IMAGES; m++) {
    const map = new Float32Array(SIDE * SIDE);
    let mask: Uint8Array | null = null;
    if (m % 3 !== 0) {
      // 1-3 discs of radius 4-40 pixels: ~1,900 regions over the set, like MVTec AD.
      mask = new Uint8Array(SIDE * SIDE);
      const discs = 1 + Math.floor(random() * 3);
      for (let d = 0; d < discs; d++) {
        const cx = random() * SIDE;
        const cy = random() * SIDE;
        const r = 4 + random() * 36;
        for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(SIDE, cy + r); y++)
          for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(SIDE, cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * SIDE + x] = 255;
      }
    }
    for (let i = 0; i < map.length; i++) map[i] = random() + random() + random() + (mask && mask[i] ? 1 : 0);
    maps.push(map);
    masks.push(mask);
  }
  return { maps, masks };
}

function time<T>(label: string, fn: () => T): T {
  const start = performance.now();
  const result = fn();
  console.log(`${label.padEnd(44)} ${((performance.now() - start) / 1000).toFixed(2)} s`);
  return result;
}

it(`metrics on ${IMAGES} maps of ${SIDE}x${SIDE}`, () => {
  const { maps, masks } = time('generate synthetic maps and masks', syntheticTestSet);
  console.log(`pixels: ${(IMAGES * SIDE * SIDE / 1e6).toFixed(1)} M, anomalous images: ${masks.filter(Boolean).length}`);
  const size = { width: SIDE, height: SIDE };
  const scores = time('image scores (max of each map)', () => maps.map((m) => m.reduce((a, b) => (b > a ? b : a), -Infinity)));
  const labels = masks.map((m) => (m ? 1 : 0));
  const auroc = time('image AUROC', () => imageAuroc(scores, labels));
  const pixels = time('PixelScores.prepare (split + 2 sorts)', () => PixelScores.prepare(maps, masks, size));
  const pixelAuroc = time('pixel AUROC (from prepared)', () => pixels.auroc());
  time('pixel ROC curve, 1000 points (from prepared)', () => pixels.rocCurve(1000));
  const f1 = time('pixel F1-max (from prepared)', () => pixels.f1Max());
  const pro = time('PRO up to FPR 0.3 (labels + split + sorts)', () => proScore(maps, masks, size));
  console.log(`image AUROC ${auroc.toFixed(4)}, pixel AUROC ${pixelAuroc.toFixed(4)}, pixel F1-max ${f1.f1.toFixed(4)}, PRO ${pro.pro.toFixed(4)} (${pro.regions} regions)`);
  const memory = process.memoryUsage();
  console.log(`rss ${(memory.rss / 2 ** 20).toFixed(0)} MiB, arrayBuffers ${(memory.arrayBuffers / 2 ** 20).toFixed(0)} MiB`);
});
