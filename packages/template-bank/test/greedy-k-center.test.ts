import { beforeAll, describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@thfr/tensor';
import { expectNoLeak } from '@thfr/tensor/testing';
import { greedyKCenter, randomProjection } from '../src/index.js';
import { loadJson, type KCenterFixture } from './fixtures.js';

const fixture = loadJson<KCenterFixture>('kcenter.json');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('greedyKCenter (against the NumPy reference)', () => {
  it('selects the same sequence from the same start index (no projection)', async () => {
    const f = fixture.plain;
    const features = tf.tensor2d(f.features, [f.n, f.dim]);
    const progress: number[] = [];
    const selected = await greedyKCenter(features, f.count, { startIndex: f.start, projectionDim: 0, onProgress: (done) => progress.push(done) });
    expect(Array.from(selected)).toEqual(f.selected);
    expect(progress).toEqual(Array.from({ length: f.count }, (_, i) => i + 1));
    // projectionDim >= dim also means "no projection".
    expect(Array.from(await greedyKCenter(features, f.count, { startIndex: f.start, projectionDim: 128 }))).toEqual(f.selected);
    features.dispose();
  });

  it('selects the same sequence on projected features (given projection)', async () => {
    const f = fixture.projected;
    const features = tf.tensor2d(f.features, [f.n, f.dim]);
    const projection = tf.tensor2d(f.projection, [f.dim, f.projDim]);
    expect(Array.from(await greedyKCenter(features, f.count, { startIndex: f.start, projection }))).toEqual(f.selected);
    tf.dispose([features, projection]);
  });

  it('returns distinct indices even for duplicate rows, and all of them for count = N', async () => {
    const features = tf.tensor2d([0, 0, 0, 0, 1, 1, 1, 1, 0, 0], [5, 2]);
    const selected = await greedyKCenter(features, 5, { startIndex: 0 });
    expect(new Set(selected).size).toBe(5);
    expect(Array.from(selected.slice(0, 2))).toEqual([0, 2]);
    features.dispose();
  });

  it('is repeatable for a seed and leaks no tensors with a generated projection', async () => {
    const features = tf.randomNormal([60, 300], 0, 1, 'float32', 1) as tf.Tensor2D;
    const a = await greedyKCenter(features, 10, { seed: 7, projectionDim: 32 });
    const b = await greedyKCenter(features, 10, { seed: 7, projectionDim: 32 });
    expect(Array.from(a)).toEqual(Array.from(b));
    await expectNoLeak(() => greedyKCenter(features, 5, { seed: 1, projectionDim: 16 }), 2, 'greedyKCenter');
    features.dispose();
  });

  it('rejects a bad count with a clear error', async () => {
    const features = tf.zeros([4, 2]) as tf.Tensor2D;
    await expect(greedyKCenter(features, 5)).rejects.toThrow(/count must be an integer in \[1, 4\]/);
    await expect(greedyKCenter(features, 2, { startIndex: 9 })).rejects.toThrow(/startIndex/);
    features.dispose();
  });
});

describe('randomProjection', () => {
  it('is seeded and keeps squared norms on average (Johnson-Lindenstrauss scaling)', async () => {
    for (const kind of ['gaussian', 'sparse'] as const) {
      const p1 = randomProjection(400, 64, 11, kind);
      const p2 = randomProjection(400, 64, 11, kind);
      expect(Array.from(p1.dataSync())).toEqual(Array.from(p2.dataSync()));
      const x = tf.randomNormal([200, 400], 0, 1, 'float32', 2);
      const ratio = tf.tidy(() => tf.div(tf.sum(tf.square(tf.matMul(x, p1))), tf.sum(tf.square(x))).dataSync()[0]);
      expect(Math.abs(ratio - 1)).toBeLessThan(0.1);
      tf.dispose([p1, p2, x]);
    }
  });
});
