// The search / gather path on the wasm backend (XNNPACK), the backend the benchmarks and Node users run.
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-wasm';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { createRandom, nearestNeighbors, TemplateBank } from '../src/index.js';
import { loadJson, type SearchFixture } from './fixtures.js';

const fixture = loadJson<SearchFixture>('search.json');

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

describe('on the wasm backend', () => {
  it('runs on wasm', async () => {
    expect(tf.getBackend()).toBe('wasm');
  });

  it('search matches the sklearn reference and gather returns the stored values, without leaks', async () => {
    const f = fixture.cosine;
    const n = f.keys.length / 48;
    const keys = tf.tensor4d(f.keys, [n, 3, 2, 8]);
    const level0 = tf.randomNormal([n, 2, 2, 4], 0, 1, 'float32', 8) as tf.Tensor4D;
    const queries = tf.tensor4d(f.queries, [f.queries.length / 48, 3, 2, 8]);
    for (const storage of ['float32', 'float16'] as const) {
      const bank = await TemplateBank.fromFeatures(keys, [level0], { storage, chunkSize: 16 });
      const result = await bank.search(queries, { topN: f.k });
      expect(result.indices.map((r) => Array.from(r))).toEqual(f.indices);
      expectClose(result.distances.flatMap((r) => Array.from(r)), f.distances.flat(), 1e-5, `wasm cosine distances (${storage})`, 1e-6);
      const [gathered] = bank.gather([5, 0, 39]);
      const expected = tf.gather(level0, [5, 0, 39]);
      expectClose(gathered.dataSync(), expected.dataSync(), storage === 'float32' ? 0 : 1e-3, `wasm gather (${storage})`);
      tf.dispose([gathered, expected]);
      const random = createRandom(5);
      await expectNoLeak(() => bank.search(queries, { topN: 3, exclude: [0, 1] }), 3, 'wasm search');
      await expectNoLeak(() => bank.pick(queries, { topN: 3, random }), 3, 'wasm pick');
      await expectNoLeak(() => tf.dispose(bank.gather([1, 2])), 3, 'wasm gather');
      bank.dispose();
    }
    tf.dispose([keys, level0, queries]);
  });

  it('nearestNeighbors (euclidean, chunked) matches the reference', async () => {
    const f = fixture.euclidean;
    const bank = tf.tensor2d(f.bank, [f.bank.length / f.dim, f.dim]);
    const query = tf.tensor2d(f.queries, [f.queries.length / f.dim, f.dim]);
    const result = await nearestNeighbors(query, bank, f.k, { metric: 'euclidean', chunkSize: 64 });
    expect(Array.from(result.indices)).toEqual(f.indices.flat());
    expectClose(result.distances, f.distances.flat(), 1e-5, 'wasm euclidean distances');
    tf.dispose([bank, query]);
  });
});
