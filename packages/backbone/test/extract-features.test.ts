import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { extractFeatures, type FeatureExtractor } from '../src/index.js';
import { asyncOnlyBackbone, tinyBackbone } from '../src/testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('extractFeatures', () => {
  it('uses extract() on a synchronous backbone and extractAsync() when the backbone has one', async () => {
    const tiny = tinyBackbone();
    const images = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const expected = tiny.extract(images);
    const viaSync = await extractFeatures(tiny, images);
    const asyncOnly = asyncOnlyBackbone(tiny);
    expect(() => asyncOnly.extract(images)).toThrow(/extract\(\) called; use extractFeatures/);
    const viaAsync = await extractFeatures(asyncOnly, images);
    for (const got of [viaSync, viaAsync]) {
      expect(got.map((t) => t.shape)).toEqual(expected.map((t) => t.shape));
      for (let i = 0; i < got.length; i++) expect(Array.from(await got[i].data())).toEqual(Array.from(await expected[i].data()));
    }
    // A backbone with both prefers extractAsync (where an engine is faster asynchronously).
    let asyncCalls = 0;
    const both: FeatureExtractor = { ...asyncOnly, extract: (x) => tiny.extract(x), extractAsync: async (x) => { asyncCalls++; return tiny.extract(x); } };
    tf.dispose(await extractFeatures(both, images));
    expect(asyncCalls).toBe(1);
    await expectNoLeak(async () => tf.dispose(await extractFeatures(asyncOnly, images)), 2, 'extractFeatures');
    tf.dispose([images, ...expected, ...viaSync, ...viaAsync]);
    tiny.dispose();
  });
});
