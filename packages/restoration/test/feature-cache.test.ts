/**
 * The feature cache holds every training image's backbone features in host memory (no tensor between steps)
 * and hands back exactly the backbone's features for any batch of images, in the order asked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { tinyBackbone, toyImages } from '@thfr/backbone/testing';
import { imagesToTensor } from '@thfr/detector';
import { FeatureCache } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('FeatureCache', () => {
  it('keeps no tensor, and gathers the backbone features of any images in the order asked', async () => {
    const backbone = tinyBackbone();
    const images = toyImages(7, 64, 3);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    // Batch 3 over 7 images: the last batch is short, so rows must be split per image correctly.
    const cache = await FeatureCache.build(backbone, images.length, 3, (s, e) => imagesToTensor(images.slice(s, e), 64), (done) => progress.push(done));
    expect(tf.memory().numTensors).toBe(before);
    expect(progress).toEqual([3, 6, 7]);
    expect(cache.count).toBe(7);
    expect(cache.levelShapes).toEqual([[16, 16, 8], [8, 8, 12], [4, 4, 16]]);
    expect(cache.memoryBytes()).toBe(7 * (16 * 16 * 8 + 8 * 8 * 12 + 4 * 4 * 16) * 4);

    const order = [6, 0, 4, 4];
    const input = imagesToTensor(order.map((i) => images[i]), 64);
    const expected = backbone.extract(input);
    const gathered = cache.gather(order);
    expect(gathered.map((t) => t.shape)).toEqual(expected.map((t) => t.shape));
    for (let k = 0; k < 3; k++) expect(Array.from(await gathered[k].data())).toEqual(Array.from(await expected[k].data()));

    const tail = imagesToTensor(images.slice(5), 64);
    const tailExpected = backbone.extract(tail);
    const sliced = cache.slice(5, 9, [2]); // clamped to images 5 and 6, deepest level only
    expect(sliced.length).toBe(1);
    expect(sliced[0].shape).toEqual([2, 4, 4, 16]);
    expect(Array.from(await sliced[0].data())).toEqual(Array.from(await tailExpected[2].data()));
    tf.dispose([input, ...expected, ...gathered, tail, ...tailExpected, ...sliced]);
    expect(tf.memory().numTensors).toBe(before);
    backbone.dispose();
  });

  it('names a bad index or level, and refuses use after dispose()', async () => {
    const backbone = tinyBackbone();
    const images = toyImages(2, 64, 1);
    const cache = await FeatureCache.build(backbone, 2, 2, (s, e) => imagesToTensor(images.slice(s, e), 64));
    const before = tf.memory().numTensors;
    expect(() => cache.gather([2])).toThrow(/index 2 is outside 0\.\.1/);
    expect(() => cache.gather([0], [3])).toThrow(/level 3 is outside 0\.\.2/);
    expect(tf.memory().numTensors).toBe(before);
    cache.dispose();
    expect(() => cache.gather([0])).toThrow(/used after dispose/);
    backbone.dispose();
  });
});
