import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { NearestNeighborIndex, nearestNeighbors } from '../src/index.js';
import { loadJson, type SearchFixture } from './fixtures.js';

const fixture = loadJson<SearchFixture>('search.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('nearestNeighbors (against sklearn NearestNeighbors, brute force)', () => {
  it('cosine: same indices and distances', async () => {
    const f = fixture.cosine;
    const d = f.keyShape.reduce((a, b) => a * b, 1);
    const bank = tf.tensor2d(f.keys, [f.keys.length / d, d]);
    const query = tf.tensor2d(f.queries, [f.queries.length / d, d]);
    const result = await nearestNeighbors(query, bank, f.k, { metric: 'cosine', chunkSize: 16 });
    expect(Array.from(result.indices)).toEqual(f.indices.flat());
    expectClose(result.distances, f.distances.flat(), 1e-5, 'cosine distances', 1e-6);
    tf.dispose([bank, query]);
  });

  it('euclidean over several chunks: same indices and distances', async () => {
    const f = fixture.euclidean;
    const bank = tf.tensor2d(f.bank, [f.bank.length / f.dim, f.dim]);
    const query = tf.tensor2d(f.queries, [f.queries.length / f.dim, f.dim]);
    for (const chunkSize of [64, 7, 4096]) {
      const result = await nearestNeighbors(query, bank, f.k, { metric: 'euclidean', chunkSize });
      expect(Array.from(result.indices)).toEqual(f.indices.flat());
      expectClose(result.distances, f.distances.flat(), 1e-5, `euclidean distances (chunk ${chunkSize})`);
    }
    tf.dispose([bank, query]);
  });

  it('finds each bank row as its own nearest neighbour at distance 0', async () => {
    const bank = tf.randomNormal([50, 12], 0, 1, 'float32', 3) as tf.Tensor2D;
    for (const metric of ['cosine', 'euclidean'] as const) {
      const { indices, distances } = await nearestNeighbors(bank, bank, 1, { metric, chunkSize: 8 });
      expect(Array.from(indices)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      for (const d of distances) expect(Math.abs(d)).toBeLessThan(2e-3);
    }
    bank.dispose();
  });

  it('rejects bad k and mismatched dims with clear errors', async () => {
    const bank = tf.zeros([5, 3]) as tf.Tensor2D;
    const query = tf.zeros([2, 4]) as tf.Tensor2D;
    await expect(nearestNeighbors(query, bank, 1)).rejects.toThrow(/query: expected 3 columns/);
    await expect(nearestNeighbors(bank, bank, 6)).rejects.toThrow(/k must be an integer in \[1, 5\]/);
    await expect(nearestNeighbors(bank, bank, 1, { chunkSize: 0 })).rejects.toThrow(/chunkSize/);
    tf.dispose([bank, query]);
  });

  it('leaks no tensors, directly or through a reused index', async () => {
    const bank = tf.randomNormal([40, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    const query = tf.randomNormal([3, 6], 0, 1, 'float32', 6) as tf.Tensor2D;
    await expectNoLeak(() => nearestNeighbors(query, bank, 3, { chunkSize: 9 }), 3, 'nearestNeighbors');
    await expectNoLeak(() => {
      const index = new NearestNeighborIndex(bank, { metric: 'euclidean', chunkSize: 9 });
      return index.query(query, 2).finally(() => index.dispose());
    }, 3, 'NearestNeighborIndex');
    tf.dispose([bank, query]);
  });
});
