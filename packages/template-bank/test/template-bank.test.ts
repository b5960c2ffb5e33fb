import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectClose, expectNoLeak } from '@thfr/tensor/testing';
import { createRandom, decodeFloat16, encodeFloat16, MANIFEST_VERSION, TemplateBank } from '../src/index.js';
import { loadJson, type SearchFixture } from './fixtures.js';

const fixture = loadJson<SearchFixture>('search.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** N templates whose keys [N, 2, 2, 3] are distinct directions and whose values encode the template index. */
async function constructedBank(n: number, storage: 'float32' | 'float16' = 'float32') {
  const keys = tf.tidy(() => tf.add(tf.reshape(tf.oneHot(tf.range(0, n, 1, 'int32'), 12), [n, 2, 2, 3]), 0.05));
  const level0 = tf.tidy(() => tf.mul(tf.ones([n, 2, 2, 3]), tf.reshape(tf.range(0, n), [n, 1, 1, 1])) as tf.Tensor4D);
  const level1 = tf.randomNormal([n, 1, 3, 5], 0, 1, 'float32', 4) as tf.Tensor4D;
  const bank = await TemplateBank.fromFeatures(keys, [level0, level1], { storage, levelNames: ['T', 'extra'] });
  return { bank, keys, level0, level1 };
}

describe('TemplateBank search', () => {
  it('finds the right neighbour on constructed data and reports its shapes', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(12);
    expect(bank.size).toBe(12);
    expect(bank.keyDim).toBe(12);
    expect(bank.levelShapes).toEqual([[2, 2, 3], [1, 3, 5]]);
    expect(bank.levelNames).toEqual(['T', 'extra']);
    // A noisy copy of template 7 (plus a bit of template 3) is nearest to 7, then 3.
    const query = tf.tidy(() => tf.add(tf.slice(keys, [7, 0, 0, 0], [1, 2, 2, 3]), tf.mul(tf.slice(keys, [3, 0, 0, 0], [1, 2, 2, 3]), 0.3)));
    const { indices, distances } = await bank.search(query, { topN: 2 });
    expect(Array.from(indices[0])).toEqual([7, 3]);
    expect(distances[0][0]).toBeLessThan(distances[0][1]);
    // [Q, D] queries work as well as [Q, h, w, c].
    const flat = tf.reshape(query, [1, 12]);
    expect(Array.from((await bank.search(flat)).indices[0])).toEqual([7]);
    tf.dispose([query, flat, keys, level0, level1]);
    bank.dispose();
  });

  it('matches the sklearn brute-force cosine reference', async () => {
    const f = fixture.cosine;
    const n = f.keys.length / 48;
    const keys = tf.tensor4d(f.keys, [n, 3, 2, 8]);
    const values = tf.zeros([n, 1, 1, 1]) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values], { chunkSize: 16 });
    const queries = tf.tensor4d(f.queries, [f.queries.length / 48, 3, 2, 8]);
    const result = await bank.search(queries, { topN: f.k });
    expect(result.indices.map((r) => Array.from(r))).toEqual(f.indices);
    expectClose(result.distances.map((r) => Array.from(r)).flat(), f.distances.flat(), 1e-5, 'bank cosine distances', 1e-6);
    tf.dispose([keys, values, queries]);
    bank.dispose();
  });

  it('matches the reference with 2x2 key pooling (the optional key reduction)', async () => {
    const f = fixture.pooled;
    const [h, w, c] = f.keyShape;
    const keys = tf.tensor4d(f.keys, [f.keys.length / (h * w * c), h, w, c]);
    const queries = tf.tensor4d(f.queries, [f.queries.length / (h * w * c), h, w, c]);
    const values = tf.zeros([keys.shape[0], 1, 1, 1]) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values], { keyPooling: f.pooling });
    expect(bank.keyDim).toBe((h / 2) * (w / 2) * c);
    const result = await bank.search(queries, { topN: f.k });
    expect(result.indices.map((r) => Array.from(r))).toEqual(f.indices);
    expectClose(result.distances.map((r) => Array.from(r)).flat(), f.distances.flat(), 1e-5, 'pooled cosine distances', 1e-6);
    tf.dispose([keys, values, queries]);
    bank.dispose();
  });

  it('never returns the excluded index, also when topN >= N - 1', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(6);
    const all = [0, 1, 2, 3, 4, 5];
    for (const topN of [1, 3, 5, 6, 10]) {
      const { indices } = await bank.search(keys, { topN, exclude: all });
      indices.forEach((row, q) => {
        expect(Array.from(row)).not.toContain(q);
        expect(row.length).toBe(Math.min(topN, 5));
        expect(new Set(row).size).toBe(row.length);
      });
    }
    // Without exclusion each key finds itself first.
    expect((await bank.search(keys)).indices.map((r) => r[0])).toEqual(all);
    // exclude may be partial (undefined = nothing excluded).
    expect(Array.from((await bank.search(keys, { exclude: [undefined, 0] })).indices[1])).not.toContain(0);
    tf.dispose([keys, level0, level1]);
    bank.dispose();
  });

  it('builds the same bank batch by batch as in one go', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(10);
    const builder = TemplateBank.builder({ levelNames: ['T', 'extra'] });
    for (const [start, size] of [[0, 4], [4, 6]]) {
      const parts = tf.tidy(() => [keys, level0, level1].map((t) => tf.slice(t, [start], [size])));
      await builder.add(parts[0], [parts[1] as tf.Tensor4D, parts[2] as tf.Tensor4D]);
      tf.dispose(parts);
    }
    const batched = builder.build();
    builder.dispose();
    expect((await batched.search(keys, { topN: 3 })).indices).toEqual((await bank.search(keys, { topN: 3 })).indices);
    const [a, b] = [bank.gather([9, 0]), batched.gather([9, 0])];
    expect(Array.from(a[1].dataSync())).toEqual(Array.from(b[1].dataSync()));
    tf.dispose([...a, ...b, keys, level0, level1]);
    bank.dispose();
    batched.dispose();
  });
});

describe('TemplateBank pick', () => {
  it('draws uniformly among the top-n and never the image itself', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(8);
    const random = createRandom(42);
    const counts = new Map<number, number>();
    const topN = (await bank.search(tf.slice(keys, [2], [1]), { topN: 3, exclude: [2] })).indices[0];
    for (let draw = 0; draw < 300; draw++) {
      const picked = await bank.pick(keys, { topN: 3, exclude: [0, 1, 2, 3, 4, 5, 6, 7], random });
      picked.forEach((t, q) => expect(t).not.toBe(q));
      counts.set(picked[2], (counts.get(picked[2]) ?? 0) + 1);
    }
    // Query 2's picks are exactly its top-3 (excluding itself), each drawn a fair share of the time.
    expect([...counts.keys()].sort()).toEqual(Array.from(topN).sort());
    for (const c of counts.values()) expect(c).toBeGreaterThan(60);
    // With topN >= N - 1 the pick still avoids the image itself.
    for (let draw = 0; draw < 50; draw++) (await bank.pick(keys, { topN: 8, exclude: [0, 1, 2, 3, 4, 5, 6, 7], random })).forEach((t, q) => expect(t).not.toBe(q));
    tf.dispose([keys, level0, level1]);
    bank.dispose();
  });

  it('is repeatable with a seeded random source', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(8);
    const a = await bank.pick(keys, { topN: 4, random: createRandom(3) });
    const b = await bank.pick(keys, { topN: 4, random: createRandom(3) });
    expect(Array.from(a)).toEqual(Array.from(b));
    tf.dispose([keys, level0, level1]);
    bank.dispose();
  });
});

describe('TemplateBank gather and storage', () => {
  it('gathers per-level values in the requested order', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(5);
    const [t, extra] = bank.gather([4, 1, 4]);
    expect(t.shape).toEqual([3, 2, 2, 3]);
    expect(extra.shape).toEqual([3, 1, 3, 5]);
    const data = t.dataSync();
    expect([data[0], data[12], data[24]]).toEqual([4, 1, 4]);
    const expected = tf.gather(level1, [4, 1, 4]);
    expect(Array.from(extra.dataSync())).toEqual(Array.from(expected.dataSync()));
    expect(() => bank.gather([5])).toThrow(/TemplateBank.gather: index 0 must be a template index in \[0, 4\], got 5/);
    tf.dispose([t, extra, expected, keys, level0, level1]);
    bank.dispose();
  });

  it('float16 storage halves the value bytes and decodes to the float16-rounded values', async () => {
    const a = await constructedBank(6, 'float32');
    const b = await constructedBank(6, 'float16');
    const valueBytes32 = 6 * (12 + 15) * 4;
    const keyBytes = 6 * 12 * 4;
    expect(a.bank.memoryBytes()).toBe(keyBytes + valueBytes32);
    expect(b.bank.memoryBytes()).toBe(keyBytes + valueBytes32 / 2);
    const [, extra16] = b.bank.gather([0, 1, 2, 3, 4, 5]);
    const original = a.level1.dataSync() as Float32Array;
    expect(Array.from(extra16.dataSync())).toEqual(Array.from(decodeFloat16(encodeFloat16(original))));
    expectClose(extra16.dataSync(), original, 1e-3, 'float16 values');
    expect((await b.bank.search(b.keys)).indices).toEqual((await a.bank.search(a.keys)).indices);
    tf.dispose([extra16, a.keys, a.level0, a.level1, b.keys, b.level0, b.level1]);
    a.bank.dispose();
    b.bank.dispose();
  });
});

describe('TemplateBank subsample', () => {
  it('ratio 1 keeps every template in the original order', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(9);
    const all = await bank.subsample(1);
    expect(all.size).toBe(9);
    expect(Array.from(all.sourceIndices)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await all.search(keys)).indices.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    tf.dispose([keys, level0, level1]);
    bank.dispose();
    all.dispose();
  });

  it('ratio r keeps ceil(r * N) distinct templates whose values follow them', async () => {
    const n = 30;
    const keys = tf.randomNormal([n, 4, 4, 8], 0, 1, 'float32', 9);
    const level0 = tf.tidy(() => tf.mul(tf.ones([n, 1, 1, 2]), tf.reshape(tf.range(0, n), [n, 1, 1, 1])) as tf.Tensor4D);
    const bank = await TemplateBank.fromFeatures(keys, [level0], { storage: 'float16' });
    for (const ratio of [0.1, 0.25, 0.5, 0.7]) {
      const sub = await bank.subsample(ratio, { seed: 1, projectionDim: 16 });
      const expected = Math.ceil(ratio * n - 1e-9);
      expect(sub.size).toBe(expected);
      const sources = Array.from(sub.sourceIndices);
      expect(new Set(sources).size).toBe(expected);
      expect(sources).toEqual([...sources].sort((x, y) => x - y));
      const [values] = sub.gather(Array.from({ length: sub.size }, (_, i) => i));
      const firstOfEach = Array.from({ length: sub.size }, (_, i) => values.dataSync()[i * 2]);
      expect(firstOfEach).toEqual(sources);
      // A kept template's own key finds it at distance ~0.
      const own = tf.gather(keys, sources.slice(0, 2));
      const hit = await sub.search(own);
      expect(hit.indices.map((r) => r[0])).toEqual([0, 1]);
      tf.dispose([values, own]);
      sub.dispose();
    }
    await expect(bank.subsample(0)).rejects.toThrow(/ratio must be in \(0, 1\]/);
    tf.dispose([keys, level0]);
    bank.dispose();
  });

  it('selects the k-center coreset of the keys (start index given)', async () => {
    // Two tight clusters and one outlier: k-center from a cluster point picks the outlier, then the other cluster.
    const rows = [[1, 0, 0], [0.99, 0.01, 0], [0.98, 0.02, 0], [0, 1, 0], [0.01, 0.99, 0], [0, 0, 1]];
    const keys = tf.tensor2d(rows.flat(), [6, 3]);
    const values = tf.zeros([6, 1, 1, 1]) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values]);
    const sub = await bank.subsample(0.5, { startIndex: 0 });
    expect(Array.from(sub.sourceIndices).sort()).toEqual([0, 3, 5]);
    tf.dispose([keys, values]);
    bank.dispose();
    sub.dispose();
  });
});

describe('TemplateBank serialisation', () => {
  it('round-trips: same search results and gathered values, both storages', async () => {
    for (const storage of ['float32', 'float16'] as const) {
      const { bank, keys, level0, level1 } = await constructedBank(7, storage);
      const { manifest, buffer } = await bank.serialize();
      const copy = TemplateBank.deserialize(JSON.parse(JSON.stringify(manifest)), buffer.slice().buffer);
      expect(copy.size).toBe(7);
      expect(copy.storage).toBe(storage);
      expect(copy.levelNames).toEqual(['T', 'extra']);
      const [a, b] = [await bank.search(keys, { topN: 3 }), await copy.search(keys, { topN: 3 })];
      expect(b.indices).toEqual(a.indices);
      expectClose(b.distances.flatMap((r) => Array.from(r)), a.distances.flatMap((r) => Array.from(r)), 0, 'distances after round trip', 1e-6);
      const [ga, gb] = [bank.gather([6, 0]), copy.gather([6, 0])];
      ga.forEach((t, l) => expect(Array.from(gb[l].dataSync())).toEqual(Array.from(t.dataSync())));
      tf.dispose([...ga, ...gb, keys, level0, level1]);
      bank.dispose();
      copy.dispose();
    }
  });

  it('keeps the subsampled source indices and the key reduction', async () => {
    const keys = tf.randomNormal([12, 4, 4, 2], 0, 1, 'float32', 2);
    const values = tf.randomNormal([12, 2, 2, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values], { keyPooling: 2, keyProjectionDim: 5, keyProjectionSeed: 4 });
    const sub = await bank.subsample(0.5, { seed: 3 });
    const { manifest, buffer } = await sub.serialize();
    const copy = TemplateBank.deserialize(JSON.stringify(manifest), buffer);
    expect(Array.from(copy.sourceIndices)).toEqual(Array.from(sub.sourceIndices));
    expect((await copy.search(keys, { topN: 2 })).indices).toEqual((await sub.search(keys, { topN: 2 })).indices);
    tf.dispose([keys, values]);
    [bank, sub, copy].forEach((b) => b.dispose());
  });

  it('rejects a mismatched buffer length or version with clear errors', async () => {
    const { bank, keys, level0, level1 } = await constructedBank(3);
    const { manifest, buffer } = await bank.serialize();
    expect(() => TemplateBank.deserialize(manifest, buffer.subarray(0, buffer.length - 4))).toThrow(`template bank manifest: buffer has ${buffer.length - 4} bytes but the manifest describes ${buffer.length}`);
    expect(() => TemplateBank.deserialize({ ...manifest, version: MANIFEST_VERSION + 1 }, buffer)).toThrow(/unsupported version 2 \(this library reads version 1\)/);
    expect(() => TemplateBank.deserialize({ ...manifest, format: 'other' }, buffer)).toThrow(/expected format 'thfr-template-bank'/);
    const badLevels = { ...manifest, levels: [{ ...manifest.levels[0], shape: [2, 2, 4] }, manifest.levels[1]] };
    expect(() => TemplateBank.deserialize(badLevels, buffer)).toThrow(/section 'level:T' has 144 bytes, expected 192/);
    tf.dispose([keys, level0, level1]);
    bank.dispose();
  });
});

describe('TemplateBank input checks and memory', () => {
  it('names the tensor and the expected shape on bad input', async () => {
    const keys = tf.ones([4, 2, 2, 3]);
    const values = tf.zeros([4, 1, 1, 2]) as tf.Tensor4D;
    const tooFew = tf.zeros([3, 1, 1, 2]) as tf.Tensor4D;
    const wrongQuery = tf.zeros([1, 2, 3, 2]);
    await expect(TemplateBank.fromFeatures(keys, [tooFew])).rejects.toThrow('template values[0]: expected 4 templates (the keys\' first dim), got shape [3, 1, 1, 2]');
    await expect(TemplateBank.fromFeatures(keys, [values], { keyPooling: 3 })).rejects.toThrow(/keyPooling 3 must divide/);
    await expect(TemplateBank.fromFeatures(keys, [values], { levelNames: ['a', 'b'] })).rejects.toThrow(/levelNames has 2 names for 1 levels/);
    const bank = await TemplateBank.fromFeatures(keys, [values]);
    await expect(bank.search(wrongQuery)).rejects.toThrow('template query: expected shape [?, 2, 2, 3], got [1, 2, 3, 2]');
    await expect(bank.search(keys, { exclude: [4] })).rejects.toThrow(/exclude\[0\] must be a template index in \[0, 3\], got 4/);
    bank.dispose();
    await expect(bank.search(keys)).rejects.toThrow('TemplateBank was disposed');
    tf.dispose([keys, values, tooFew, wrongQuery]);
  });

  it('search, pick, gather and subsample leak no tensors; dispose releases everything', async () => {
    const before = tf.memory().numTensors;
    const { bank, keys, level0, level1 } = await constructedBank(10);
    const half = await constructedBank(10, 'float16');
    const random = createRandom(1);
    await expectNoLeak(() => bank.search(keys, { topN: 3, exclude: [1, 2] }), 3, 'search');
    await expectNoLeak(() => bank.pick(keys, { topN: 3, random }), 3, 'pick');
    await expectNoLeak(() => tf.dispose(bank.gather([1, 2, 3])), 3, 'gather');
    await expectNoLeak(async () => (await bank.subset([3, 1])).dispose(), 2, 'subset');
    await expectNoLeak(() => tf.dispose(half.bank.gather([1, 2, 3])), 3, 'gather float16');
    await expectNoLeak(async () => (await bank.subsample(0.5, { seed: 2 })).dispose(), 2, 'subsample');
    await expectNoLeak(async () => {
      const { manifest, buffer } = await half.bank.serialize();
      TemplateBank.deserialize(manifest, buffer).dispose();
    }, 2, 'serialise round trip');
    tf.dispose([keys, level0, level1, half.keys, half.level0, half.level1]);
    bank.dispose();
    half.bank.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('TemplateBank builder storage', () => {
  it('float16 banks built in one go or batch by batch search and gather alike', async () => {
    const keys = tf.randomNormal([6, 4, 4, 3], 0, 1, 'float32', 21);
    const values = [tf.randomNormal([6, 2, 2, 5], 0, 1, 'float32', 22) as tf.Tensor4D];
    const a = await TemplateBank.fromFeatures(keys, values, { storage: 'float16' });
    const builder = TemplateBank.builder({ storage: 'float16' });
    for (const [start, size] of [[0, 2], [2, 4]]) {
      const parts = tf.tidy(() => [keys, values[0]].map((t) => tf.slice(t, [start], [size])));
      await builder.add(parts[0], [parts[1] as tf.Tensor4D]);
      tf.dispose(parts);
    }
    const b = builder.build();
    builder.dispose();
    const query = tf.slice(keys, [2, 0, 0, 0], [2, -1, -1, -1]);
    const ra = await a.search(query, { topN: 3 });
    const rb = await b.search(query, { topN: 3 });
    expect(rb.indices.map((r) => Array.from(r))).toEqual(ra.indices.map((r) => Array.from(r)));
    const [ga] = a.gather([0, 5]);
    const [gb] = b.gather([0, 5]);
    expect(Array.from(gb.dataSync())).toEqual(Array.from(ga.dataSync()));
    tf.dispose([keys, ...values, query, ga, gb]);
    a.dispose();
    b.dispose();
  });
});

describe('TemplateBank serialize', () => {
  it('writes identical bytes twice and after a subset of everything, for both storages', async () => {
    for (const storage of ['float32', 'float16'] as const) {
      const keys = tf.randomNormal([5, 12], 0, 1, 'float32', 31);
      const values = [tf.randomNormal([5, 2, 2, 3], 0, 1, 'float32', 32) as tf.Tensor4D];
      const bank = await TemplateBank.fromFeatures(keys, values, { storage });
      const first = await bank.serialize();
      const copy = await bank.subset([0, 1, 2, 3, 4]);
      const second = await copy.serialize();
      expect(second.manifest).toEqual(first.manifest);
      expect(Buffer.from(second.buffer).equals(Buffer.from(first.buffer))).toBe(true);
      tf.dispose([keys, ...values]);
      bank.dispose();
      copy.dispose();
    }
  });
});

describe('TemplateBank.searchTables: the search and gather as data', () => {
  /** The search recomputed from the tables alone, in float64: pool, flatten, project, argmax of query . key. */
  function searchFromTables(t: Awaited<ReturnType<TemplateBank['searchTables']>>, queries: Float32Array, count: number): number[] {
    const [h, w, c] = t.keyInputShape;
    const p = t.pooling;
    return Array.from({ length: count }, (_, q) => {
      const flat: number[] = [];
      for (let y = 0; y < h / p; y++) for (let x = 0; x < w / p; x++) for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let dy = 0; dy < p; dy++) for (let dx = 0; dx < p; dx++) sum += queries[q * h * w * c + ((y * p + dy) * w + (x * p + dx)) * c + ch];
        flat.push(sum / (p * p));
      }
      const row = t.projection ? Array.from({ length: t.keyDim }, (_, j) => flat.reduce((s, v, i) => s + v * t.projection!.values[i * t.keyDim + j], 0)) : flat;
      let best = 0;
      let bestScore = -Infinity;
      for (let k = 0; k < t.size; k++) {
        const score = row.reduce((s, v, j) => s + v * t.keys[k * t.keyDim + j], 0);
        if (score > bestScore) [best, bestScore] = [k, score];
      }
      return best;
    });
  }

  it('with pooling, a projection and float16 values: the same templates as search, the same values as gather', async () => {
    const keys = tf.randomNormal([9, 4, 4, 2], 0, 1, 'float32', 12);
    const values = tf.randomNormal([9, 2, 2, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
    const bank = await TemplateBank.fromFeatures(keys, [values], { keyPooling: 2, keyProjectionDim: 5, keyProjectionSeed: 4, storage: 'float16' });
    const queries = tf.randomNormal([6, 4, 4, 2], 0, 1, 'float32', 14);
    try {
      const t = await bank.searchTables();
      expect([t.size, t.keyDim, t.keyInputShape, t.pooling, t.projection?.rows]).toEqual([9, 5, [4, 4, 2], 2, 8]);
      for (let k = 0; k < t.size; k++) expect(Math.hypot(...t.keys.subarray(k * 5, k * 5 + 5))).toBeCloseTo(1, 5);
      const found = (await bank.search(queries)).indices.map((c) => c[0]);
      expect(searchFromTables(t, (await queries.data()) as Float32Array, 6)).toEqual(found);
      const [gathered] = bank.gather(Int32Array.from({ length: 9 }, (_, i) => i));
      expect(t.levels.map((l) => [l.name, l.shape])).toEqual([['level0', [2, 2, 3]]]);
      expect(Array.from(t.levels[0].values)).toEqual(Array.from((await gathered.data()) as Float32Array));
      gathered.dispose();
    } finally {
      tf.dispose([keys, values, queries]);
      bank.dispose();
    }
  });
});
