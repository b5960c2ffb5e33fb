// Template bank memory and search time on the wasm backend (single thread, as tfjs runs it in Node).
// Run: cd packages/template-bank && npx vitest run --config vitest.bench.config.ts
// Shapes are the paper's (WideResNet50-2, 256 px): keys = flattened I3 16x16x1024 per image, values =
// THFR's template reference T 8x8x1792 per image. Data are random (only sizes and times matter here).
import { it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { TemplateBank, type TemplateBankOptions } from '../src/index.js';

const MB = 1024 * 1024;
const fmt = (bytes: number): string => `${(bytes / MB).toFixed(1)} MiB`;

/**
 * Adds n templates in batches. Keys [b, 16, 16, 1024] are 8x8-block-constant upsamplings of random
 * [b, 2, 2, 1024] features (drawing 262k normals per image for 10,000 images would dominate the run);
 * exact search does not care, pooled keys see the random part.
 */
async function buildBank(n: number, opts: TemplateBankOptions, withValues: boolean, seed = 1): Promise<TemplateBank> {
  const builder = TemplateBank.builder({ ...opts, levelNames: ['T'] });
  const batch = 50;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const [keys, values] = tf.tidy(() => {
      const small = tf.randomNormal([b, 2, 2, 1024], 0, 1, 'float32', seed + start) as tf.Tensor4D;
      const detail = tf.randomNormal([1, 16, 16, 1024], 0, 0.1, 'float32', seed) as tf.Tensor4D;
      const keys = tf.add(tf.image.resizeNearestNeighbor(small, [16, 16]), detail);
      const values = withValues ? (tf.randomNormal([b, 8, 8, 1792], 0, 1, 'float32', seed + start + 1) as tf.Tensor4D) : (tf.zeros([b, 1, 1, 1]) as tf.Tensor4D);
      return [keys, values];
    });
    await builder.add(keys, [values as tf.Tensor4D]);
    tf.dispose([keys, values]);
  }
  const bank = builder.build();
  builder.dispose();
  return bank;
}

async function timeSearch(bank: TemplateBank, repeats: number): Promise<{ medianMs: number; minMs: number }> {
  const query = tf.randomNormal([1, 16, 16, 1024], 0, 1, 'float32', 99);
  await bank.search(query); // warm-up
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await bank.search(query, { topN: 1 });
    times.push(performance.now() - t0);
  }
  query.dispose();
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(times.length / 2)], minMs: times[0] };
}

it('template bank memory and search time (wasm)', async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(`backend ${tf.getBackend()}; keys: flattened I3 16x16x1024 (D = 262,144); values: T 8x8x1792 per template`);

  console.log('\n## Memory of a bank of N = 100 templates at subsampling ratios (bytes held for keys + values)');
  console.log('| keys | storage | ratio | templates | keys | values | total | k-center time |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [label, opts] of [
    ['exact (D=262,144)', { storage: 'float32' }],
    ['exact (D=262,144)', { storage: 'float16' }],
    ['avg-pool 2 (D=65,536)', { storage: 'float16', keyPooling: 2 }],
    ['avg-pool 8 (D=4,096)', { storage: 'float16', keyPooling: 8 }],
  ] as Array<[string, TemplateBankOptions]>) {
    const bank = await buildBank(100, opts, true);
    for (const ratio of [1, 0.5, 0.25, 0.1]) {
      const t0 = performance.now();
      const sub = await bank.subsample(ratio, { seed: 0 });
      const ms = performance.now() - t0;
      const keyBytes = sub.size * sub.keyDim * 4;
      console.log(`| ${label} | ${opts.storage} | ${ratio * 100}% | ${sub.size} | ${fmt(keyBytes)} | ${fmt(sub.memoryBytes() - keyBytes)} | ${fmt(sub.memoryBytes())} | ${ratio === 1 ? '-' : `${ms.toFixed(0)} ms`} |`);
      sub.dispose();
    }
    bank.dispose();
  }

  console.log('\n## Template search time per query (search of one [1,16,16,1024] query, topN 1, incl. key reduction, normalisation, matMul, top-k, read-back)');
  console.log('| N | keys | key dim | key memory | median ms | min ms |');
  console.log('|---|---|---|---|---|---|');
  for (const [n, label, opts] of [
    [100, 'exact', {}],
    [100, 'avg-pool 8', { keyPooling: 8 }],
    [1000, 'avg-pool 2', { keyPooling: 2 }],
    [1000, 'avg-pool 8', { keyPooling: 8 }],
    [10000, 'avg-pool 8', { keyPooling: 8 }],
  ] as Array<[number, string, TemplateBankOptions]>) {
    const bank = await buildBank(n, opts, false);
    const { medianMs, minMs } = await timeSearch(bank, n >= 1000 ? 20 : 30);
    console.log(`| ${n} | ${label} | ${bank.keyDim} | ${fmt(bank.size * bank.keyDim * 4)} | ${medianMs.toFixed(2)} | ${minMs.toFixed(2)} |`);
    bank.dispose();
  }
});
