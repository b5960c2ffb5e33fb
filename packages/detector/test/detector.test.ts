import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { createRandom, DetectorRegistry, fileRef, imagesToTensor, mulberry32, predictInBatches, SeededRandom, sha256Hex, verifyFileRef, type DetectorMethod } from '../src/index.js';

describe('seeded random (mulberry32)', () => {
  it('gives the published mulberry32 sequence and the same stream through every entry', () => {
    // mulberry32(0) reference values (the C original by Tommy Ettinger, first three outputs * 2^32).
    const r = mulberry32(0);
    expect([r(), r(), r()].map((v) => Math.round(v * 4294967296))).toEqual([1144304738, 1416247, 958946056]);
    const s = new SeededRandom(7);
    const m = mulberry32(7);
    for (let i = 0; i < 5; i++) expect(s.next()).toBe(m());
    const c = createRandom(3);
    const direct = mulberry32((3 ^ 0x9e3779b9) >>> 0);
    expect(c()).toBe(direct());
  });

  it('restores its state and shuffles deterministically', () => {
    const a = new SeededRandom(1);
    a.next();
    const state = a.getState();
    const p = a.permutation(10);
    a.setState(state);
    expect(a.permutation(10)).toEqual(p);
    expect([...p].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('hashing and file refs', () => {
  it('sha256 of "abc" is the FIPS 180-2 value; refs check size and digest', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const ref = await fileRef('x.bin', new Uint8Array([1, 2, 3]));
    await verifyFileRef(ref, new Uint8Array([1, 2, 3]), 'x.bin');
    await expect(verifyFileRef(ref, new Uint8Array([1, 2]), 'x.bin')).rejects.toThrow(/has 2 bytes, the manifest says 3/);
    await expect(verifyFileRef(ref, new Uint8Array([1, 2, 4]), 'x.bin')).rejects.toThrow(/checksum mismatch/);
  });
});

describe('predictInBatches', () => {
  const image = (v: number) => ({ width: 4, height: 4, data: new Uint8Array(48).fill(v) });

  it('batches RGB images, reads maps and scores back, keeps extras per image and leaks nothing', async () => {
    const images = [image(0), image(51), image(102), image(255), image(10)];
    const forward = (batch: tf.Tensor4D, start: number) => {
      const map = tf.mean(batch, 3);
      return { map, scores: tf.max(map, [1, 2]), extras: Array.from({ length: batch.shape[0] }, (_, i) => ({ index: start + i })) };
    };
    const out = await predictInBatches(images, forward, { batchSize: 2, size: 4 });
    expect(Array.from(out.scores).map((v) => +v.toFixed(3))).toEqual([0, 0.2, 0.4, 1, +(10 / 255).toFixed(3)]);
    expect(out.maps).toHaveLength(5);
    expect(out.extras.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    await expectNoLeak(() => predictInBatches(images, forward, { batchSize: 3, size: 4 }), 2, 'predictInBatches');
  });

  it('stops on abort and refuses tensors of the wrong size', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(predictInBatches([image(0)], () => { throw new Error('not reached'); }, { batchSize: 1, size: 4, signal: controller.signal })).rejects.toThrow('stop now');
    const wrong = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
    await expect(predictInBatches(wrong, () => { throw new Error('not reached'); }, { batchSize: 1, size: 4, who: 'X.predict' })).rejects.toThrow('X.predict must be [B, 4, 4, 3], got [1, 8, 8, 3]');
    wrong.dispose();
  });

  it('imagesToTensor resizes and checks buffer lengths', () => {
    const t = imagesToTensor([image(255)], 2);
    expect(t.shape).toEqual([1, 2, 2, 3]);
    t.dispose();
    expect(() => imagesToTensor([{ width: 2, height: 2, data: new Uint8Array(5) }], 2)).toThrow('image 0: expected 2x2x3 = 12 bytes of RGB, got 5');
  });
});

describe('DetectorRegistry', () => {
  const method = (name: string, format: string): DetectorMethod => ({
    name, summary: name, create: () => { throw new Error('unused'); }, recognizes: (m) => m.format === format, inspect: async () => { throw new Error('unused'); }, save: async () => undefined, load: async () => { throw new Error('unused'); },
  });

  it('finds methods by name and by manifest, with errors that list the choices', () => {
    const registry = new DetectorRegistry([method('a', 'fa'), method('b', 'fb')]);
    expect(registry.names).toEqual(['a', 'b']);
    expect(registry.get('b').name).toBe('b');
    expect(() => registry.get('c')).toThrow("unknown method 'c': choose one of a, b");
    expect(registry.forManifest({ format: 'fb' }).name).toBe('b');
    expect(registry.forManifest({ format: 'fa', method: 'b' }).name).toBe('b');
    expect(() => registry.forManifest({ format: 'x' }, 'm.json')).toThrow(/m.json \(format 'x'\) was not written by any known method/);
    expect(() => registry.forManifest({ method: 'zz' })).toThrow(/method 'zz', which this program does not know/);
    expect(() => registry.register(method('a', 'q'))).toThrow(/already registered/);
  });
});
